"""Inside a private network namespace: a real ``kelly run`` whose clock follows a Link
session, and an ``aalink`` peer in this process that starts the session, watches Kelly's
transport in shared memory beside its own Link timeline, then jumps the tempo by 100 bpm.

Run by tests/link/test_link_peers.py as ``unshare -n sh -c '<loopback set-up>; exec python
link_scenario.py RUN_DIR'``; prints one JSON object (raw observations and Kelly's status)
on its last line. Times are ``CLOCK_MONOTONIC_RAW`` seconds, Link's clock.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from performance import Performance, wait_until
from toml_config import performance_toml

from kelly_actors.bus.transport import Transport
from kelly_actors.supervisor.rundir import RunDir

RATE = 48_000
#: The session's tempo; Kelly's composer wishes the same (arousal 0.75: 60 + 120·0.75 bpm),
#: so nothing but the peer's jump moves the tempo.
START_BPM = 150.0
JUMP_BY_BPM = 100.0
QUANTUM = 4
#: Lead mode: the session's tempo before Kelly joins, and a peer's change Kelly undoes.
LEAD_PEER_BPM = 100.0
LEAD_WINDOW_S = 2.0
#: Observation windows (s): while locked at the start tempo, and after the jump's re-lock.
WINDOW_A_S = 4.0
WINDOW_B_S = 3.0
POLL_S = 0.002
#: An observation whose reads lie further apart (s) is dropped.
SPAN_S = 0.0002
#: After the lock, before the first window (s).
SETTLE_S = 1.0


def kelly_config(mode: str = "follow") -> str:
    link = {"enabled": True, "mode": mode, "tempo_max": 300.0, "slew_bpm_per_s": 120.0}
    rings = [
        {"name": "audio_out", "shape": [256, 2], "dtype": "float32", "capacity": 32,
         "policy": "drop", "writer": "synth", "readers": ["audio"]},
        {"name": "notes", "shape": [8], "dtype": "float64", "capacity": 4096,
         "policy": "overwrite", "writer": "composer", "readers": ["synth"]},
        {"name": "tempo", "shape": [4], "dtype": "float64", "capacity": 64,
         "policy": "drop", "writer": "composer", "readers": ["audio"]},
    ]  # fmt: skip
    actors = [
        {"name": "audio", "target": "kelly_actors.audio.actor:AudioActor", "nice": -10,
         "options": {"backend": "null", "in_ring": "", "tempo": START_BPM, "link": link}},
        {"name": "synth", "target": "kelly_actors.synth.actor:SynthActor", "nice": -5,
         "depends_on": ["audio"], "options": {"lookahead_blocks": 4}},
        {"name": "composer", "target": "kelly_actors.composer.actor:ComposerActor",
         "depends_on": ["audio", "synth"],
         "options": {"estimates": "", "sensors_ring": "", "midi": {"api": "none"},
                     "emotion": {"arousal": 0.75},
                     "recording": {"directory": "off"}, "transformer": {"engine": "rules"}}},
    ]  # fmt: skip
    return performance_toml(actors, rings)


def raw_now() -> float:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW) / 1e9


class Watch:
    """Kelly's transport and this peer's Link timeline, sampled together."""

    def __init__(self, link: Any, transport: Transport) -> None:
        self.link = link
        self.transport = transport
        #: (t, kelly counter, kelly beat, kelly tempo, kelly running, peer beat, peer tempo)
        self.rows: list[list[float]] = []
        #: (t, the audio actor's Link status) every 0.25 s while a window runs.
        self.statuses: list[list[Any]] = []

    def sample(self) -> None:
        before = raw_now()
        state = self.transport.read()
        peer_beat = self.link.beat
        after = raw_now()
        if state is None or after - before > SPAN_S:
            return  # preempted between the reads: the moment is not known well enough
        self.rows.append(
            [(before + after) / 2, state.sample_counter, state.beat, state.tempo,
             float(state.running), peer_beat, self.link.tempo]
        )  # fmt: skip

    def run(self, seconds: float, perf: Performance | None = None) -> None:
        end = raw_now() + seconds
        next_status = raw_now()
        while raw_now() < end:
            self.sample()
            if perf is not None and raw_now() >= next_status:
                self.statuses.append([raw_now(), audio_link(perf)])
                next_status = raw_now() + 0.25
            time.sleep(POLL_S)


async def baseline_peer(out_path: Path, stop_path: Path) -> None:
    """A plain aalink peer in a process of its own: samples (t, beat) until ``stop_path``
    exists, then writes them to ``out_path`` — Link's own peer-to-peer agreement, the
    baseline ``benchmarks/link.py`` sets Kelly's against."""
    import aalink

    link = aalink.Link(START_BPM)
    link.quantum = QUANTUM
    link.enabled = True
    samples = []
    while not stop_path.exists():
        before = raw_now()
        beat = link.beat
        after = raw_now()
        if link.num_peers and after - before <= SPAN_S:
            samples.append(((before + after) / 2, beat))
        await asyncio.sleep(POLL_S)
    link.enabled = False
    out_path.write_text(json.dumps(samples))


def baseline_ms(result: dict[str, Any], rows: np.ndarray) -> dict[str, float]:
    """Per window, the largest and p99 phase gap (ms) between the baseline peer and this one."""
    base = np.asarray(result["baseline"], dtype=np.float64)
    out = {}
    for name, window in windows(result, rows).items():
        t, peer_beat, peer_tempo = rows[window, 0], rows[window, 5], rows[window, 6]
        k = np.searchsorted(base[:, 0], t).clip(0, len(base) - 1)
        beat = base[k, 1] + (t - base[k, 0]) * peer_tempo / 60.0
        gap = np.abs(((beat - peer_beat + QUANTUM / 2) % QUANTUM - QUANTUM / 2) * 60e3 / peer_tempo)
        out[f"{name}_max"] = float(gap.max())
        out[f"{name}_p99"] = float(np.percentile(gap, 99))
    return out


def audio_link(perf: Performance) -> dict[str, Any]:
    return perf.actor("audio")["telemetry"]["link"]


async def main(run_dir: Path, baseline: bool) -> dict[str, Any]:
    import aalink

    link = aalink.Link(START_BPM)
    link.quantum = QUANTUM
    link.enabled = True
    out: dict[str, Any] = {}
    stop_path, base_path = run_dir / "baseline.stop", run_dir / "baseline.json"
    peer = None
    if baseline:
        args = [sys.executable, __file__, "--peer", str(base_path), str(stop_path)]
        peer = subprocess.Popen(args)
    try:
        with Performance(run_dir, kelly_config()) as perf:
            perf.wait_ready(30)
            out["t_ready"] = raw_now()
            info = wait_until(lambda: RunDir(run_dir).read(), 10, "the run's record")
            transport = Transport.attach(f"kelly-{info.tag}-transport")
            try:
                watch = Watch(link, transport)

                def locked() -> bool:
                    watch.sample()
                    status = audio_link(perf)
                    return status["locked"] and status["peers"] >= 1 and link.num_peers >= 1

                wait_until(locked, 15, "Kelly locked to the session", interval=0.05)
                watch.run(SETTLE_S)  # Link refines its measure of the peers' clocks at first
                out["t_locked"] = raw_now()
                out["bars_before"] = perf.actor("composer")["telemetry"]["bars"]
                watch.run(WINDOW_A_S, perf)
                out["t_jump"] = raw_now()
                out["status_before_jump"] = audio_link(perf)
                out["start_bpm"] = link.tempo
                out["jump_bpm"] = link.tempo + JUMP_BY_BPM
                link.tempo = out["jump_bpm"]

                def relocked() -> bool:
                    watch.sample()
                    status = audio_link(perf)
                    return status["tempo_jumps"] >= 1 and status["locked"]

                wait_until(relocked, 10, "Kelly locked again after the jump", interval=0.02)
                out["t_relocked"] = raw_now()
                watch.run(WINDOW_B_S, perf)
                out["status"] = audio_link(perf)
                out["composer"] = perf.actor("composer")["telemetry"]
                out["restarts"] = {a["name"]: a["restarts"] for a in perf.status()["actors"]}
                out["rows"] = watch.rows
                out["statuses"] = watch.statuses
                out["xrun_samples"] = perf.actor("audio")["telemetry"]["xrun_samples"]
            finally:
                transport.close()
            out["exit"] = perf.stop()
    finally:
        link.enabled = False
        if peer is not None:
            stop_path.write_text("")
            try:
                peer.wait(10)
            finally:
                peer.kill()
    if peer is not None:
        out["baseline"] = json.loads(base_path.read_text())
    return out


async def main_lead(run_dir: Path) -> dict[str, Any]:
    """Kelly leads: a session at LEAD_PEER_BPM takes Kelly's tempo and phase when Kelly
    joins, and a change another peer makes is undone."""
    import aalink

    link = aalink.Link(LEAD_PEER_BPM)
    link.quantum = QUANTUM
    link.enabled = True
    out: dict[str, Any] = {"peer_bpm": LEAD_PEER_BPM}
    try:
        with Performance(run_dir, kelly_config("lead")) as perf:
            perf.wait_ready(30)
            info = wait_until(lambda: RunDir(run_dir).read(), 10, "the run's record")
            transport = Transport.attach(f"kelly-{info.tag}-transport")
            try:
                watch = Watch(link, transport)

                def led() -> bool:
                    watch.sample()
                    status = audio_link(perf)
                    return status["locked"] and status["peers"] >= 1 and link.tempo == START_BPM

                wait_until(led, 15, "the session at Kelly's tempo", interval=0.05)
                watch.run(SETTLE_S)
                out["t_locked"] = raw_now()
                watch.run(LEAD_WINDOW_S, perf)
                out["t_jump"] = raw_now()
                link.tempo = LEAD_PEER_BPM
                wait_until(lambda: link.tempo == START_BPM, 5, "Kelly to undo the change", 0.001)
                out["undone_s"] = raw_now() - out["t_jump"]
                out["t_relocked"] = raw_now()

                def counted() -> dict[str, Any] | None:
                    status = audio_link(perf)  # heartbeat telemetry: up to 0.2 s old
                    return status if status["overridden"] >= 1 else None

                out["status"] = wait_until(counted, 3, "the override counted", 0.05)
                out["rows"] = watch.rows
                out["xrun_samples"] = perf.actor("audio")["telemetry"]["xrun_samples"]
            finally:
                transport.close()
            out["exit"] = perf.stop()
    finally:
        link.enabled = False
    return out


# -- what the observations say (tests/link/test_link_peers.py, benchmarks/link.py) ----------

#: The observation window (s, each side) over which the sample clock's offset is the minimum.
OFFSET_WINDOW_S = 0.5


def offsets(rows: np.ndarray) -> np.ndarray:
    """Per row, the sample clock's offset (s): the least ``t − counter / rate`` seen within
    OFFSET_WINDOW_S either side (each observation is the true offset plus a delay ≥ 0)."""
    t, candidate = rows[:, 0], rows[:, 0] - rows[:, 1] / RATE
    lo = np.searchsorted(t, t - OFFSET_WINDOW_S)
    hi = np.searchsorted(t, t + OFFSET_WINDOW_S, side="right")
    return np.array([candidate[a:b].min() for a, b in zip(lo, hi, strict=True)])


def phase_ms(rows: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Kelly's beat at each row's moment against the peer's, wrapped to the quantum, in ms."""
    t, counter, beat, tempo, _, peer_beat, peer_tempo = rows.T
    kelly = beat + (t - (offset + counter / RATE)) * tempo / 60.0
    diff = (kelly - peer_beat + QUANTUM / 2) % QUANTUM - QUANTUM / 2
    return diff * 60_000.0 / peer_tempo


#: Around an xrun of the audio clock (s before, after): a stall it skipped moves every
#: later sample to a later moment, which both Kelly and this observer must learn again.
XRUN_SPAN_S = (0.6, 1.2)


def windows(result: dict[str, Any], rows: np.ndarray) -> dict[str, np.ndarray]:
    """Rows while Kelly was locked (at the start tempo; after the jump's re-lock), away
    from the audio clock's xruns."""
    t, counter = rows[:, 0], rows[:, 1]
    calm = np.ones(len(rows), dtype=bool)
    before, after = XRUN_SPAN_S
    for sample in result.get("xrun_samples", []):
        calm &= (counter < sample - before * RATE) | (counter > sample + after * RATE)
    return {
        "before_jump": (t >= result["t_locked"]) & (t <= result["t_jump"]) & calm,
        "after_jump": (t >= result["t_relocked"]) & (t <= t[-1]) & calm,
    }


def bar_lines_ms(result: dict[str, Any], rows: np.ndarray, offset: np.ndarray) -> list[float]:
    """How far (ms) each of the composer's bar lines lies from the session's bar line, by the
    peer's timeline — each bar composed while Kelly was locked (the composer writes a bar
    when the one before it starts: that start lies in a locked window, and so does its own)."""
    spans = [(result["t_locked"], result["t_jump"]), (result["t_relocked"], rows[-1, 0])]
    before, after = XRUN_SPAN_S
    stalls = result.get("xrun_samples", [])

    def heard(sample: float) -> float:
        return offset[np.searchsorted(rows[:, 1], sample).clip(0, len(rows) - 1)] + sample / RATE

    out = []
    bars = result["status"]["composer_bars"]
    for (before_s, _), (start, _wish) in itertools.pairwise(bars):
        composed, at = heard(before_s), heard(start)
        if not any(lo <= composed and at <= hi for lo, hi in spans):
            continue  # composed before the lock, or while slewing after the jump
        if any(
            x - before * RATE <= s <= x + after * RATE for x in stalls for s in (before_s, start)
        ):
            continue  # the audio clock stalled meanwhile
        k = int(np.searchsorted(rows[:, 0], at).clip(0, len(rows) - 1))
        t, *_, peer_beat, peer_tempo = rows[k]
        beat = peer_beat + (at - t) * peer_tempo / 60.0
        out.append(((beat + QUANTUM / 2) % QUANTUM - QUANTUM / 2) * 60_000.0 / peer_tempo)
    return out


def figures(result: dict[str, Any]) -> dict[str, Any]:
    """The run's figures: per window the observations, the largest tempo gap (bpm) and phase
    gap (ms, largest and p99); the bar lines' distance (ms); lock and re-lock times (s)."""
    rows = np.asarray(result["rows"], dtype=np.float64)
    offset = offsets(rows)
    phase = phase_ms(rows, offset)
    out: dict[str, Any] = {}
    for name, window in windows(result, rows).items():
        out[name] = {
            "observations": int(window.sum()),
            "tempo_gap_bpm_max": float(np.abs(rows[window, 3] - rows[window, 6]).max()),
            "phase_ms_max": float(np.abs(phase[window]).max()),
            "phase_ms_p99": float(np.percentile(np.abs(phase[window]), 99)),
        }
    bars = bar_lines_ms(result, rows, offset)
    out["bar_lines_checked"] = len(bars)
    out["xruns"] = len(result.get("xrun_samples", []))
    out["bar_line_ms_max"] = max((abs(b) for b in bars), default=None)
    out["lock_s"] = result["t_locked"] - SETTLE_S - result["t_ready"]
    out["relock_s"] = result["t_relocked"] - result["t_jump"]
    return out


def _terminate(*_: object) -> None:
    raise SystemExit(143)  # unwinds through Performance.__exit__: the run is stopped


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    if sys.argv[1] == "--peer":
        asyncio.run(baseline_peer(Path(sys.argv[2]), Path(sys.argv[3])))
    elif sys.argv[2:] == ["--lead"]:
        print(json.dumps(asyncio.run(main_lead(Path(sys.argv[1])))))
    else:
        result = asyncio.run(main(Path(sys.argv[1]), baseline="--baseline" in sys.argv[2:]))
        print(json.dumps(result))
