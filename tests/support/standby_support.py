"""A warm-standby performance (two synths in lockstep, a seeded score) and its disturbances,
for ``tests/audio/test_standby_live.py`` and ``benchmarks/failover.py``.

The graph: ``score`` (:class:`~kelly_actors.demo.score.ScoreActor`) → ``notes`` (overwrite,
read by both synths) → ``synth`` → ``audio_out`` and its twin ``synth_b`` → ``audio_out_b`` →
``audio`` (``standby_ring = "audio_out_b"``). No input ring, no tempo ring: the score has its
own tempo and the clock keeps its default. Sample times and counts are in samples at
:data:`SAMPLE_RATE` unless a name says otherwise.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from performance import Performance, wait_until
from toml_config import performance_toml

from kelly_actors.demo.score import ScoreConfig, score_events
from kelly_actors.synth import voices

SAMPLE_RATE = 48_000
BLOCK = 256
#: Which synth writes which ring.
WRITERS = {"audio_out": "synth", "audio_out_b": "synth_b"}
SYNTHS = ("synth", "synth_b")


def standby_graph_toml(
    record_dir: str = "",
    *,
    seed: int = 0,
    lead_s: float = 1.0,
    lookahead: int = 4,
    preset: str = "strings",
    preset_b: str = "strings",
    synth_heartbeat_timeout: float = 2.0,
    backend: str = "null",
    jack_client: str = "kelly",
) -> str:
    """The two-synth graph. ``lookahead`` is each synth's ``lookahead_blocks``; ``preset_b``
    other than ``preset`` makes a standby whose blocks differ (a diverged one);
    ``synth_heartbeat_timeout`` (s) longer than a SIGSTOP keeps the supervisor from killing
    the stopped synth (it is continued instead); ``jack_client`` names the audio actor's JACK
    client with ``backend = "jack"``."""
    out_ring = {"shape": [BLOCK, 2], "capacity": 32, "policy": "drop", "readers": ["audio"]}
    rings = [
        {"name": "audio_out", "writer": "synth", **out_ring},
        {"name": "audio_out_b", "writer": "synth_b", **out_ring},
        {
            "name": "notes",
            "shape": [8],
            "dtype": "float64",
            "capacity": 4096,
            "policy": "overwrite",
            "writer": "score",
            "readers": list(SYNTHS),
        },
    ]

    def synth(name: str, ring: str, synth_preset: str, **spec: Any) -> dict[str, Any]:
        return {
            "name": name,
            "target": "kelly_actors.synth.actor:SynthActor",
            "depends_on": ["audio"],
            "nice": -5,
            "heartbeat_timeout": synth_heartbeat_timeout,
            **spec,
            "options": {
                "block_size": BLOCK,
                "lookahead_blocks": lookahead,
                "preset": synth_preset,
                "out_ring": ring,
            },
        }

    actors = [
        {
            "name": "audio",
            "target": "kelly_actors.audio.actor:AudioActor",
            "nice": -10,
            "options": {
                "backend": backend,
                "block_size": BLOCK,
                "sample_rate": SAMPLE_RATE,
                "in_ring": "",
                "tempo_ring": "",
                "standby_ring": "audio_out_b",
                **({"jack": {"client": jack_client}} if backend == "jack" else {}),
            },
        },
        # Before the synths: its first events are in the ring before the first block.
        {
            "name": "score",
            "target": "kelly_actors.demo.score:ScoreActor",
            "depends_on": ["audio"],
            "options": {"seed": seed, "lead_s": lead_s, "sample_rate": SAMPLE_RATE},
        },
        synth("synth", "audio_out", preset),
        synth("synth_b", "audio_out_b", preset_b, twin_of="synth", min_cpus=2),
    ]
    settings: dict[str, Any] = {
        "max_restarts": 50,
        "max_seconds": 60.0,
        "backoff_initial": 0.05,
        "backoff_max": 0.2,
    }
    if record_dir:
        settings["record_dir"] = record_dir
    return performance_toml(actors, rings, **settings)


# ---------------------------------------------------------------- status
def audio(perf: Performance) -> dict[str, Any]:
    """The audio actor's telemetry (as of its last heartbeat, 0.2 s at most)."""
    return perf.actor("audio")["telemetry"]


def active_synth(perf: Performance) -> str:
    """The synth whose blocks play now: the writer of the audio actor's ``active_ring``."""
    return WRITERS[audio(perf)["active_ring"]]


def wait_sample(perf: Performance, sample: int, timeout: float) -> dict[str, Any]:
    """Wait until the callback has played past ``sample``; the audio telemetry then."""
    return wait_until(
        lambda: (t := audio(perf)).get("sample", 0) >= sample and t,
        timeout,
        f"the clock to pass sample {sample}",
    )


def wait_in_step(perf: Performance, after: int, timeout: float) -> dict[str, Any]:
    """Wait until both synths run and the audio actor, at a heartbeat past ``after``, trusts
    the standby (its last compared block matched the active one's); the audio telemetry."""

    def in_step() -> dict[str, Any] | None:
        snap = {a["name"]: a for a in perf.status()["actors"]}
        tel = snap["audio"]["telemetry"]
        ready = all(snap[s]["state"] == "ready" for s in SYNTHS)
        return tel if ready and tel.get("sample", 0) >= after and tel["standby_trusted"] else None

    return wait_until(in_step, timeout, "both synths in step again")


@dataclass
class Disturbance:
    """One SIGKILL or SIGSTOP (``kind`` "kill" / "stop") of the active synth: which, its pid,
    the clock when it began and when the pair was in step again, the fallback blocks and
    switches the audio actor had counted at those two moments."""

    kind: str
    actor: str
    pid: int
    sample: int
    underruns_before: int
    switches_before: int
    recovered_sample: int = 0
    underruns_after: int = 0
    switches_after: int = 0
    killed_by_supervisor: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


def wait_successor(perf: Performance, name: str, old_pid: int, timeout: float) -> dict[str, Any]:
    """Wait for ``name``'s successor of ``old_pid`` to be ready and to have sent a block."""
    return perf.wait_actor(
        name,
        lambda a: (
            a["pid"] not in (None, old_pid)
            and a["state"] == "ready"
            and a["telemetry"].get("first_block_clock", -1) >= 0
        ),
        timeout,
        f"{name}'s successor sending blocks",
    )


def disturb_active(
    perf: Performance, kind: str, stop_s: float = 2.0, timeout: float = 30.0
) -> Disturbance:
    """SIGKILL (``kind="kill"``) or SIGSTOP for ``stop_s`` s of audio, then SIGCONT
    (``"stop"``), the synth playing now; return once the pair is in step again.

    It begins at a heartbeat that shows the standby trusted (a synth that missed a block on a
    loaded machine, and so was switched away from, must match again first)."""
    tel = audio(perf)
    tel = wait_in_step(perf, int(tel.get("sample", 0)) + 1, timeout)
    name = WRITERS[tel["active_ring"]]
    pid = perf.actor(name)["pid"]
    d = Disturbance(kind, name, pid, int(tel["sample"]), tel["underruns"], tel["switches"])
    if kind == "kill":
        os.kill(pid, signal.SIGKILL)
        successor = wait_successor(perf, name, pid, timeout)
        after = int(successor["telemetry"]["first_block"]) + 8 * BLOCK
        d.detail = {k: successor["telemetry"].get(k) for k in ("rebuild_ms", "rebuilt_voices")}
    elif kind == "stop":
        os.kill(pid, signal.SIGSTOP)
        try:
            # Stopped for stop_s of the performance's clock (the callback runs on).
            wait_sample(perf, d.sample + round(stop_s * SAMPLE_RATE), timeout)
        finally:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                d.killed_by_supervisor = True
        after = int(audio(perf)["sample"]) + SAMPLE_RATE // 4
        if d.killed_by_supervisor or perf.actor(name)["pid"] != pid:
            d.killed_by_supervisor = True
            wait_successor(perf, name, pid, timeout)
    else:
        raise ValueError(f"kind must be 'kill' or 'stop', not {kind!r}")
    tel = wait_in_step(perf, after, timeout)
    d.recovered_sample = int(tel["sample"])
    d.underruns_after = tel["underruns"]
    d.switches_after = tel["switches"]
    return d


def kill_now(pids: list[int]) -> None:
    """SIGKILL every pid, back to back."""
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- CPU
class CpuSampler:
    """Averages the status telemetry's ``cpu_percent`` of the two synths by role (the one
    playing, the standby), one sample per :meth:`sample` call."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {"active": [], "standby": []}

    def sample(self, perf: Performance) -> None:
        snap = {a["name"]: a for a in perf.status()["actors"]}
        ring = snap["audio"]["telemetry"].get("active_ring")
        if ring not in WRITERS or any(snap[s]["state"] != "ready" for s in SYNTHS):
            return  # a restart in progress: neither figure is a steady state
        active = WRITERS[ring]
        standby = next(s for s in SYNTHS if s != active)
        self.samples["active"].append(float(snap[active]["cpu_percent"]))
        self.samples["standby"].append(float(snap[standby]["cpu_percent"]))

    def means(self) -> dict[str, float | None]:
        return {
            f"{role}_cpu_percent": round(float(np.mean(v)), 2) if v else None
            for role, v in self.samples.items()
        }


def run_for(
    perf: Performance, until_sample: int, timeout: float, cpu: CpuSampler | None = None
) -> dict[str, Any]:
    """Let the performance play until ``until_sample``, sampling CPU every 0.5 s."""
    deadline = time.monotonic() + timeout
    while (tel := audio(perf)).get("sample", 0) < until_sample:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the clock did not reach sample {until_sample} in {timeout} s")
        if cpu is not None:
            cpu.sample(perf)
        time.sleep(0.5 if cpu is not None else 0.05)
    return tel


# ---------------------------------------------------------------- recordings
def differences(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int]:
    """Compare two recordings ``(frames, channels)`` over their common length: the number of
    frames that differ in any channel, the longest run of consecutive differing frames and
    where it starts (frames)."""
    n = min(a.shape[0], b.shape[0])
    differ = np.any(a[:n] != b[:n], axis=1)
    count = int(differ.sum())
    if not count:
        return 0, 0, 0
    edges = np.diff(np.concatenate([[0], differ.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    k = int(np.argmax(ends - starts))
    return count, int(ends[k] - starts[k]), int(starts[k])


def offline_render(score: ScoreConfig, frames: int, preset: str = "strings") -> np.ndarray:
    """What an undisturbed synth (the actor's defaults: 32 voices, gain 0.25, seed 0) plays
    for ``score``: ``frames`` float32 ``(frames, 2)`` from sample 0, block by block."""
    synth = voices.Synth(
        sample_rate=SAMPLE_RATE, channels=2, n_voices=32, preset=preset, max_block=BLOCK,
        master_gain=0.25, seed=0, event_capacity=2 * 4096 + 256,
    )  # fmt: skip
    events = score_events(score)
    pending = next(events)
    out = np.zeros((frames, 2), np.float32)
    for start in range(0, frames - frames % BLOCK, BLOCK):
        while pending.time < start + BLOCK:
            synth.schedule(
                pending.time, int(pending.kind), pending.key, pending.velocity, pending.channel
            )
            pending = next(events)
        synth.render(BLOCK, out=out[start : start + BLOCK])
    return out


def as_pcm16(samples: np.ndarray) -> np.ndarray:
    """``samples`` as the WAV writer stores them (16-bit), read back as float32."""
    ints = np.clip(np.rint(samples * 32767.0), -32768, 32767).astype(np.int16)
    return ints.astype(np.float32) / 32768.0


def recording_offset(tel: dict[str, Any]) -> int:
    """The clock sample of ``output.wav``'s first frame, from one audio telemetry record: the
    clock's sample minus the blocks played (pre-roll blocks are neither played nor recorded,
    and the held clock jumps to the first block's sample when it starts)."""
    return int(tel["sample"]) - int(tel["callbacks"]) * BLOCK
