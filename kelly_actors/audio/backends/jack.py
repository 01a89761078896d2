"""A native JACK client whose process callback is compiled code.

The client (``kelly`` by default) registers ``out_1``/``out_2`` (and ``in_1``
when the performance takes input), connects them to the configured ports —
the first physical playback and capture ports unless told otherwise — and
hands JACK :func:`kelly_actors.audio.native.jack_callback.engine_process`
as its process callback: no interpreter, no GIL on the device thread. Where
the compiled callback cannot be had (numba missing, a failed compile) the
same client runs the Python engine in JACK-Client's callback, and ``callback``
in the actor's telemetry says which one runs and why.

With a ``midi`` ring (or MIDI clock) the client also registers a MIDI output
(``kelly:midi_out``) that the compiled callback writes each cycle: the composer's
messages at their frames, the clock at 24 per beat (:mod:`kelly_actors.audio.native.midi_out`).
The Python callback writes no MIDI, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kelly_actors.audio.backends.base import Backend, BackendError
from kelly_actors.config.typed import Checked

#: JACK client name of the performance's audio actor.
CLIENT_NAME = "kelly"


@dataclass(frozen=True)
class JackOptions(Checked):
    """``[actors.options.jack]``: the ``jack`` backend's client.

    Attributes:
        client: the JACK client's name.
        compiled_callback: run the compiled callback (false: the Python one, e.g. to
            compare them).
        connect_output / connect_input: JACK ports to connect to (empty = the first
            physical playback / capture ports).
        midi_port: the MIDI output's port name, registered when the actor has a
            ``midi_ring`` or ``midi_clock``; the compiled callback writes each message
            at its frame in the cycle.
        connect_midi: JACK MIDI inputs to connect it to (retried while missing).
        midi_clock: send MIDI clock (24 per beat, following the tempo), with song
            position and Start/Continue when the clock starts.
    """

    client: str = "kelly"
    compiled_callback: bool = True
    connect_output: tuple[str, ...] = ()
    connect_input: tuple[str, ...] = ()
    midi_port: str = "midi_out"
    connect_midi: tuple[str, ...] = ()
    midi_clock: bool = False


def _jack() -> Any:
    try:
        import jack
    except (ImportError, OSError) as exc:
        raise BackendError(f"JACK is not available (JACK-Client/libjack): {exc}") from None
    return jack


def open_client(name: str) -> Any:
    """A JACK client of ``name`` on the running server; BackendError when none runs."""
    jack = _jack()
    try:
        return jack.Client(name, no_start_server=True)
    except jack.JackError as exc:
        raise BackendError(
            f"no JACK server to connect to ({exc}); start one, e.g. scripts/jack"
        ) from None


def address(jack: Any, pointer: Any) -> int:
    """The address behind a JACK-Client cffi pointer (a client, a port)."""
    return int(jack._ffi.cast("intptr_t", pointer))


def physical_ports(client: Any, playback: bool) -> list[str]:
    """Names of the server's physical playback (or capture) audio ports."""
    # JACK-Client filters only on flags that are True: is_input=False would list both.
    direction = {"is_input": True} if playback else {"is_output": True}
    ports = client.get_ports(is_audio=True, is_physical=True, **direction)
    return [p.name for p in ports]


def check_server(client: Any, sample_rate: int, block_size: int) -> None:
    """The server runs at the performance's rate and block; BackendError says what differs."""
    if client.samplerate != sample_rate:
        raise BackendError(
            f"the JACK server runs at {client.samplerate} Hz, the performance at {sample_rate} Hz"
        )
    if client.blocksize != block_size:
        raise BackendError(
            f"the JACK server's period is {client.blocksize} frames, the performance's block "
            f"{block_size}: set one to the other (jack_bufsize {block_size}, or block_size)"
        )


def check_inputs(client: Any, input_channels: int, connect_input: tuple[str, ...]) -> None:
    """Preflight of the input ports: ``connect_input`` names at most one source per
    input channel, and each is a port the server has; BackendError naming it otherwise."""
    if len(connect_input) > input_channels:
        raise BackendError(
            f"jack.connect_input names {len(connect_input)} ports for input_channels = "
            f"{input_channels} (one source per input port in_1..in_{input_channels})"
        )
    have = {p.name for p in client.get_ports(is_output=True, is_audio=True)}
    for name in connect_input:
        if name not in have:
            raise BackendError(
                f"jack.connect_input: the server has no audio output port {name!r} "
                f"(it has {', '.join(sorted(have)[:8]) or 'none'})"
            )


def preflight(cfg: Any) -> None:
    """The ``jack`` backend's checks before the show (in the supervisor): the server's rate
    and period, the input sources; BackendError with the reason."""
    # Loaded here, in the supervisor, so the forkserver preloads the compiled callback
    # and a replacement audio actor starts without loading it again.
    if cfg.jack.compiled_callback:
        compiled_callback()
    # Opened, checked, closed: never activated, so the server never waits for it.
    client = open_client(f"{cfg.jack.client}-check")
    try:
        check_server(client, cfg.sample_rate, cfg.block_size)
        check_inputs(client, cfg.input_channels, cfg.jack.connect_input)
    finally:
        client.close()


def compiled_callback() -> tuple[Any, str]:
    """The compiled process callback's module, or None and why it cannot be had."""
    try:
        from kelly_actors.audio.native import jack_callback
    except Exception as exc:  # any failure to build or load means: the Python one runs
        return None, f"python (the compiled callback is unavailable: {type(exc).__name__}: {exc})"
    return jack_callback, "compiled (numba cfunc, no interpreter on the device thread)"


class JackBackend(Backend):
    """The performance as a JACK client.

    Args:
        sample_rate / block_size: must equal the server's.
        channels: output ports (2).
        input_channels: input ports ``in_1``..``in_N`` (0 = none; an ensemble has one per
            performer, at most 8).
        connect_output / connect_input: port names to connect to ("" = the
            first physical ports).
        client_name: the JACK client name.
    """

    def __init__(
        self,
        sample_rate: int,
        block_size: int,
        channels: int = 2,
        input_channels: int = 1,
        connect_output: tuple[str, ...] = (),
        connect_input: tuple[str, ...] = (),
        client_name: str = CLIENT_NAME,
        midi_reader: Any = None,
        midi_port: str = "",
        connect_midi: tuple[str, ...] = (),
        midi_clock: bool = False,
        release_notes: bool = False,
    ) -> None:
        self.sample_rate = sample_rate
        self.block_size = block_size
        self.channels = channels
        self.input_channels = input_channels
        self.connect_output = connect_output
        self.connect_input = connect_input
        self.client_name = client_name
        self.name = "jack"
        self.output_latency = block_size
        self._client: Any = None
        #: Connections to make instead of the defaults (a replaced client's, from its state).
        self.restore_connections: dict[str, list[str]] = {}
        self.missing_connections: list[str] = []
        self.midi_reader = midi_reader
        self.midi_port = midi_port if (midi_reader is not None or midi_clock) else ""
        self.connect_midi = connect_midi
        self.midi_clock = midi_clock
        self.release_notes = release_notes
        self.midi: Any = None
        #: Configured MIDI destinations not connected (retried by the actor).
        self.missing_midi: list[str] = []
        #: Why MIDI out is off ("" when it runs, or none was asked for).
        self.midi_off = ""

    def start_engine(self, engine: Any) -> None:
        """Open the client, register ``engine``'s block as its process callback, connect."""
        from kelly_actors.audio.native.engine import NativeEngine

        client = self._client = open_client(self.client_name)
        try:
            check_server(client, self.sample_rate, self.block_size)
            outs = [client.outports.register(f"out_{k + 1}") for k in range(self.channels)]
            ins = [client.inports.register(f"in_{k + 1}") for k in range(self.input_channels)]
            if isinstance(engine, NativeEngine):
                self._register_compiled(client, engine, outs, ins)
            else:
                self._register_python(client, engine, outs, ins)
            client.set_xrun_callback(lambda _delay_us: engine.note_xrun())
            client.activate()
            self._connect(client, outs, ins)
        except BackendError:
            self.stop()
            raise
        except Exception as exc:  # JACK-Client raises JackError and plain errors alike
            self.stop()
            raise BackendError(f"JACK client {self.client_name!r}: {exc}") from None
        self.name = f"jack: {client.name} ({self.sample_rate} Hz, {self.block_size} frames)"
        self.priority = "JACK real-time" if client.realtime else "JACK (server not real-time)"

    def _register_compiled(self, client: Any, engine: Any, outs: list, ins: list) -> None:
        from kelly_actors.audio.native import layout as L
        from kelly_actors.audio.native.pointers import jack_addresses

        jack = _jack()
        module, why = compiled_callback()
        if module is None:
            raise BackendError(why)
        w = engine.words
        if self.midi_port:
            from kelly_actors.audio.native.midi_state import NativeMidiOut

            port = client.midi_outports.register(self.midi_port)
            self.midi = NativeMidiOut(w, self.midi_reader, self.midi_clock, self.release_notes)
            self.midi.enable(address(jack, port._ptr))
        w[L.CLIENT] = address(jack, client._ptr)
        w[L.PORT_OUT], w[L.PORT_OUT + 1] = (address(jack, p._ptr) for p in outs[:2])
        for k, port in enumerate(ins):
            w[L.PORT_IN + k] = address(jack, port._ptr)
        w[L.FN_PORT_GET_BUFFER], w[L.FN_GET_TIME], w[L.FN_GET_CYCLE_TIMES] = jack_addresses()
        status = jack._lib.jack_set_process_callback(
            client._ptr,
            jack._ffi.cast("JackProcessCallback", module.engine_process.address),
            jack._ffi.cast("void *", w.ctypes.data),
        )
        if status != 0:
            raise BackendError(f"JACK refused the process callback (status {status})")
        engine.defer_bells()

    def _register_python(self, client: Any, engine: Any, outs: list, ins: list) -> None:
        outdata = np.zeros((self.block_size, self.channels), np.float32)
        indata = np.zeros((self.block_size, max(1, len(ins))), np.float32)

        def process(frames: int) -> None:
            for k, port in enumerate(ins):
                indata[:, k] = port.get_array()
            engine.process(indata if ins else None, outdata, False)
            for k, port in enumerate(outs):
                port.get_array()[:] = outdata[:, k]

        client.set_process_callback(process)
        if self.midi_port:
            self.midi_off = "the Python callback writes no MIDI (compiled_callback = false)"

    def _connect(self, client: Any, outs: list, ins: list) -> None:
        """Where the ports were (a replacement of a crashed client), else the configured
        or first physical ports."""
        restored = self.restore_connections
        if restored:
            self._reconnect(client, [*outs, *ins, *client.midi_outports], restored)
            self.connect_midi_ports()
            return
        targets_out = list(self.connect_output) or physical_ports(client, playback=True)
        for port, target in zip(outs, targets_out, strict=False):
            client.connect(port, target)
        targets_in = list(self.connect_input) or physical_ports(client, playback=False)
        for port, source in zip(ins, targets_in, strict=False):
            client.connect(source, port)
        self.connect_midi_ports()

    def connect_midi_ports(self) -> None:
        """Connect the MIDI output to each configured destination it is not connected to.

        A destination that is not there (a synth not started yet, a receiver that
        went away) is listed in ``missing_midi``; the actor calls this every half
        second, so it is connected again when it (re)appears.
        """
        client = self._client
        if client is None or self.midi is None or not self.connect_midi:
            return
        jack = _jack()
        port = client.midi_outports[0]
        have = {p.name for p in client.get_all_connections(port)}
        missing = []
        for target in self.connect_midi:
            if target in have:
                continue
            try:
                # Looked up first: a failed connect makes libjack print to stderr, and
                # this runs every half second while the destination is away.
                client.connect(port, client.get_port_by_name(target))
            except jack.JackError:
                missing.append(f"{port.shortname} → {target}")
        self.missing_midi = missing

    def _reconnect(self, client: Any, ports: list, restored: dict[str, list[str]]) -> None:
        """Connect each port to the ports it had; one that is gone is skipped (and said)."""
        jack = _jack()
        self.missing_connections = []
        for port in ports:
            for other in restored.get(port.shortname, []):
                try:
                    if port.is_output:
                        client.connect(port, other)
                    else:
                        client.connect(other, port)
                except jack.JackError:
                    self.missing_connections.append(f"{port.shortname} ↔ {other}")

    def connections(self) -> dict[str, list[str]]:
        """Each of our ports' connections now (short port name → full names)."""
        client = self._client
        if client is None:
            return {}
        ports = [*client.outports, *client.inports, *client.midi_outports]
        return {p.shortname: sorted(c.name for c in client.get_all_connections(p)) for p in ports}

    def midi_telemetry(self) -> dict[str, Any] | None:
        """The MIDI output's state for the actor's telemetry; None when none was asked for."""
        if not self.midi_port:
            return None
        client = self._client
        if self.midi is None or client is None:
            return {"path": "off", "why": self.midi_off or "the JACK client is not running"}
        port = client.midi_outports[0]
        return {
            "path": "jack (frame-exact: written in the audio cycle)",
            "port": port.name,
            "connections": sorted(p.name for p in client.get_all_connections(port)),
            "missing": self.missing_midi,
            "clock": self.midi_clock,
            **self.midi.figures(),
        }

    def stop(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        if self.midi is not None and self.midi_clock:
            # Hardware following our clock stops with us rather than running on.
            self.midi.stop_clock()
        try:
            client.deactivate()
        finally:
            client.close()
            if self.midi is not None:
                self.midi.close()


def jack_backend(cfg: Any, midi_reader: Any = None, replacement: bool = False) -> JackBackend:
    """The backend of an ``AudioConfig`` with ``backend = "jack"``; ``replacement``: a
    restarted actor's, which releases the MIDI notes its predecessor may have left on."""
    jack = cfg.jack
    return JackBackend(
        cfg.sample_rate,
        cfg.block_size,
        cfg.channels,
        cfg.input_channels,
        jack.connect_output,
        jack.connect_input,
        jack.client,
        midi_reader=midi_reader,
        midi_port=jack.midi_port,
        connect_midi=jack.connect_midi,
        midi_clock=jack.midi_clock,
        release_notes=replacement,
    )


def midi_status(cfg: Any, backend: Backend) -> dict[str, Any] | None:
    """Which MIDI path the audio actor runs: the JACK cycle's (with its counters), or why
    none; None when its config asks for no MIDI."""
    if not (cfg.midi_ring or cfg.jack.midi_clock):
        return None
    if not isinstance(backend, JackBackend):  # the JACK client fell back to the null one
        return {"path": "off", "why": f"the audio runs on {backend.name}, not JACK"}
    return backend.midi_telemetry()
