"""The performance config: supervisor settings, rings and child specs.

A TOML file with a ``[supervisor]`` table, ``[[rings]]`` and ``[[actors]]``
arrays (see ``kelly_actors/config/default.toml``). Each actor's
``[actors.options]`` table is checked later against that actor's own
``Config`` dataclass.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from kelly_actors.bus.frames import streams_of
from kelly_actors.bus.ring import RingError, RingSpec
from kelly_actors.config.typed import Checked, ConfigError, from_mapping, setting

RESTART_TYPES = ("permanent", "transient", "temporary")
STRATEGIES = ("one_for_one", "rest_for_one", "one_for_all")


@dataclass(frozen=True)
class SupervisorSettings(Checked):
    """How the supervisor restarts and reports.

    Attributes:
        strategy: ``one_for_one`` | ``rest_for_one`` | ``one_for_all``.
        max_restarts: restarts allowed within ``max_seconds``; one more escalates.
        max_seconds: the restart-intensity window (s).
        backoff_initial: delay before the 2nd quick restart in a row (s);
            the first restart after a stable run is immediate.
        backoff_max: upper bound of the exponential backoff (s).
        stable_after: an actor ready this long (s) resets its backoff.
        status_hz: status snapshots published per second.
        record_dir: directory the actors record into and ``run.json`` goes
            to ("" = no recording).
        remote_control / remote_status: TCP endpoints (e.g. ``tcp://0.0.0.0:5560``)
            on which the control ROUTER and the status PUB are also served, to
            remote consoles; only with ``keys_dir`` (CurveZMQ), never without.
        keys_dir: the ``kelly keys generate`` directory for the remote endpoints.
        adoption_grace: how long (s) actors play on after their supervisor died, waiting
            for the watchdog's next supervisor to adopt them; 0 = they stop at once.
    """

    strategy: str = setting("one_for_one", choices=STRATEGIES)
    max_restarts: int = setting(10, low=0)
    max_seconds: float = setting(60.0, above=0.0)
    backoff_initial: float = setting(0.1, low=0.0)
    backoff_max: float = 5.0
    stable_after: float = 2.0
    status_hz: float = setting(4.0, low=0.5, high=50.0)
    record_dir: str = ""
    remote_control: str = ""
    remote_status: str = ""
    keys_dir: str = ""
    adoption_grace: float = setting(10.0, low=0.0, high=300.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.backoff_initial > self.backoff_max:
            raise ValueError("need 0 ≤ backoff_initial ≤ backoff_max")
        for endpoint in (self.remote_control, self.remote_status):
            if endpoint and not endpoint.startswith("tcp://"):
                raise ValueError(f"remote endpoint {endpoint!r} must be tcp://HOST:PORT")
        if (self.remote_control or self.remote_status) and not self.keys_dir:
            raise ValueError("remote endpoints need keys_dir: TCP is never opened without keys")


@dataclass(frozen=True)
class RingDecl:
    """A ring the supervisor creates: its spec plus who writes and reads it."""

    name: str
    shape: tuple[int, ...]
    writer: str
    readers: tuple[str, ...]
    dtype: str = "float32"
    capacity: int = 64
    policy: str = "overwrite"

    def spec(self) -> RingSpec:
        return RingSpec(
            name=self.name,
            shape=self.shape,
            dtype=self.dtype,
            capacity=self.capacity,
            readers=len(self.readers),
            policy=self.policy,
        )


@dataclass(frozen=True)
class ChildSpec(Checked):
    """One actor the supervisor runs.

    Attributes:
        name: unique actor name.
        target: ``module:Class`` of an :class:`~kelly_actors.actor.Actor` subclass.
        restart: ``permanent`` (always), ``transient`` (after a crash only),
            ``temporary`` (never).
        shutdown_timeout: seconds between SIGTERM and SIGKILL.
        depends_on: actors that must be ready before this one starts.
        cpu_affinity: CPU numbers to pin the process to (empty = any).
        nice: scheduling niceness, −20 (first) … 19 (last); negative needs root or
            CAP_SYS_NICE and is skipped (with an event) where not permitted.
        heartbeat_interval: seconds between the actor's heartbeats.
        heartbeat_timeout: seconds without a heartbeat before it counts as hung.
        start_timeout: seconds from spawn to ready before it counts as failed.
        options: the actor's own settings (its ``Config`` dataclass).
        twin_of: a warm standby of that actor (same target): every command sent to
            it reaches this one too, with its result (so both act on the same sample),
            and on a machine with fewer than ``min_cpus`` CPUs the standby is left out.
        min_cpus: run this actor only where the machine has at least this many CPUs
            (only a ``twin_of`` standby may be left out).
    """

    name: str
    target: str
    restart: str = setting("permanent", choices=RESTART_TYPES)
    shutdown_timeout: float = setting(3.0, above=0.0)
    depends_on: tuple[str, ...] = ()
    cpu_affinity: tuple[int, ...] = ()
    nice: int = setting(0, low=-20, high=19)
    heartbeat_interval: float = setting(0.2, above=0.0)
    heartbeat_timeout: float = 2.0
    start_timeout: float = setting(15.0, above=0.0)
    options: dict[str, Any] = field(default_factory=dict)
    twin_of: str = ""
    min_cpus: int = 0

    def __post_init__(self) -> None:
        if self.min_cpus and not self.twin_of:
            raise ValueError("min_cpus is for a standby (twin_of) only")
        super().__post_init__()
        if ":" not in self.target:
            raise ValueError(f"target {self.target!r} must be 'module:Class'")
        if self.heartbeat_interval >= self.heartbeat_timeout:
            raise ValueError("need 0 < heartbeat_interval < heartbeat_timeout")


@dataclass(frozen=True)
class PerformanceConfig:
    """A whole performance graph.

    ``sensors``: the ``[[sensors]]`` tables (docs/osc.md, "Sensors"); :func:`parse` hands
    each to the options of its ``bridge`` actor (default ``osc``), whose config checks it.
    """

    supervisor: SupervisorSettings = field(default_factory=SupervisorSettings)
    rings: tuple[RingDecl, ...] = ()
    actors: tuple[ChildSpec, ...] = ()
    sensors: tuple[dict[str, Any], ...] = ()

    def actor(self, name: str) -> ChildSpec:
        for spec in self.actors:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def start_order(self) -> list[str]:
        """Actor names so that every actor comes after what it depends on."""
        order: list[str] = []
        visiting: set[str] = set()
        by_name = {a.name: a for a in self.actors}

        def visit(name: str) -> None:
            if name in order:
                return
            if name in visiting:
                raise ConfigError(f"actors: dependency cycle through {name!r}")
            visiting.add(name)
            for dep in by_name[name].depends_on:
                visit(dep)
            visiting.discard(name)
            order.append(name)

        for spec in self.actors:
            visit(spec.name)
        return order


def with_record_dir(config: PerformanceConfig, record_dir: str) -> PerformanceConfig:
    """The same performance, recording into ``record_dir``."""
    return replace(config, supervisor=replace(config.supervisor, record_dir=record_dir))


def with_options(config: PerformanceConfig, actor: str, **options: Any) -> PerformanceConfig:
    """The same performance with some of ``actor``'s options replaced."""
    try:
        spec = config.actor(actor)
    except KeyError:
        raise ConfigError(f"this performance has no actor named {actor!r}") from None
    new = replace(spec, options={**spec.options, **options})
    return replace(config, actors=tuple(new if a is spec else a for a in config.actors))


def _check_twin(config: PerformanceConfig, spec: ChildSpec) -> None:
    try:
        primary = config.actor(spec.twin_of)
    except KeyError:
        raise ConfigError(f"actors.{spec.name}.twin_of: no actor named {spec.twin_of!r}") from None
    if primary.twin_of or primary.target != spec.target:
        raise ConfigError(
            f"actors.{spec.name}.twin_of: {spec.twin_of!r} must be a primary of the same target"
        )


def twins(config: PerformanceConfig, actor: str) -> tuple[str, ...]:
    """The standbys that mirror ``actor``'s commands."""
    return tuple(a.name for a in config.actors if a.twin_of == actor)


def for_cpus(config: PerformanceConfig, cpus: int) -> PerformanceConfig:
    """The performance as this machine runs it: standbys that want more CPUs than
    ``cpus`` are left out, with the rings only they wrote and their reader positions;
    an option naming a dropped ring is cleared (the audio actor's ``standby_ring``)."""
    dropped = {a.name for a in config.actors if a.min_cpus > cpus}
    if not dropped:
        return config
    gone = {r.name for r in config.rings if r.writer in dropped}
    rings = tuple(
        replace(r, readers=tuple(x for x in r.readers if x not in dropped))
        for r in config.rings
        if r.name not in gone
    )
    actors = tuple(
        replace(
            a,
            options={
                k: ("" if isinstance(v, str) and v in gone else v) for k, v in a.options.items()
            },
        )
        for a in config.actors
        if a.name not in dropped
    )
    return replace(config, rings=rings, actors=actors)


def _check_graph(config: PerformanceConfig) -> None:
    names = [a.name for a in config.actors]
    if not names:
        raise ConfigError("actors: a performance needs at least one actor")
    if len(set(names)) != len(names):
        raise ConfigError("actors: names must be unique")
    for spec in config.actors:
        for dep in spec.depends_on:
            if dep not in names:
                raise ConfigError(f"actors.{spec.name}.depends_on: no actor named {dep!r}")
        if spec.twin_of:
            _check_twin(config, spec)
    ring_names = [r.name for r in config.rings]
    if len(set(ring_names)) != len(ring_names):
        raise ConfigError("rings: names must be unique")
    for ring in config.rings:
        for who in (ring.writer, *ring.readers):
            if who not in names:
                raise ConfigError(f"rings.{ring.name}: no actor named {who!r}")
        try:
            ring.spec()
        except RingError as exc:
            raise ConfigError(f"rings.{ring.name}: {exc}") from None
    _check_jack_midi(config)
    _check_ensemble(config)
    config.start_order()


def _check_jack_midi(config: PerformanceConfig) -> None:
    """``[midi] output = "jack"`` writes a ring that a JACK audio actor must read."""
    for spec in config.actors:
        midi = spec.options.get("midi")
        if not isinstance(midi, dict) or midi.get("output") != "jack":
            continue
        name = midi.get("ring", "midi")
        where = f"actors.{spec.name}.options.midi"
        ring = next((r for r in config.rings if r.name == name), None)
        if ring is None or ring.writer != spec.name:
            raise ConfigError(
                f"{where}: output = 'jack' writes ring {name!r}; declare it: [[rings]] "
                f"name = {name!r}, shape = [1], dtype = 'int64', writer = {spec.name!r}, "
                "readers = ['audio'] (examples/jack-midi.toml)"
            )
        if not any(config.actor(r).options.get("midi_ring") == name for r in ring.readers):
            raise ConfigError(
                f"{where}: output = 'jack' needs an audio actor on JACK that reads ring "
                f"{name!r}: set midi_ring = {name!r} in its options (backend = 'jack'); "
                "without JACK use output = 'rtmidi'"
            )


def _feature_streams(config: PerformanceConfig) -> dict[str, int]:
    """Each feature-frame ring (float32 ``[128]`` or ``[N, 128]``) and the streams it carries."""
    found = {}
    for ring in config.rings:
        if ring.dtype != "float32":
            continue
        try:
            found[ring.name] = streams_of(tuple(ring.shape))
        except ValueError:
            continue
    return found


def _check_ensemble(config: PerformanceConfig) -> None:
    """An ``ensemble.streams`` that no feature ring carries would leave performers unheard
    (or estimates of unknown streams): refused here, naming both, not found mid-show."""
    rings = _feature_streams(config)
    for spec in config.actors:
        table = spec.options.get("ensemble")
        if not isinstance(table, dict) or not rings:
            continue
        streams = table.get("streams", 1)
        if streams in rings.values():
            continue
        carried = ", ".join(f"{name!r} carries {n}" for name, n in rings.items())
        raise ConfigError(
            f"actors.{spec.name}.options.ensemble.streams = {streams}, but no feature ring "
            f"carries that many streams ({carried}): give the frames ring shape "
            f"[{streams}, 128] and the audio actor input_channels = {streams}, or set "
            "streams to the ring's rows"
        )


def _hand_sensors(config: PerformanceConfig) -> PerformanceConfig:
    """Each ``[[sensors]]`` table joins its bridge actor's ``sensors`` option, in order."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for i, table in enumerate(config.sensors):
        bridge = table.get("bridge", "osc")
        if not isinstance(bridge, str) or bridge not in {a.name for a in config.actors}:
            raise ConfigError(f"sensors[{i}].bridge: no actor named {bridge!r}")
        tables.setdefault(bridge, []).append(table)
    for bridge, mine in tables.items():
        if "sensors" in config.actor(bridge).options:
            raise ConfigError(f"actors.{bridge}.options.sensors: declare them as [[sensors]]")
        config = with_options(config, bridge, sensors=mine)
    return config


def parse(data: dict[str, Any], where: str = "config") -> PerformanceConfig:
    """Validate a parsed TOML document."""
    config = from_mapping(PerformanceConfig, data, where)
    _check_graph(config)
    return _hand_sensors(config)


def load(path: str | Path | None = None) -> PerformanceConfig:
    """Load ``path``, or the built-in default performance when None."""
    if path is None:
        text = resources.files("kelly_actors.config").joinpath("default.toml").read_text()
        where = "default.toml"
    else:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
        where = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    return parse(data, where)
