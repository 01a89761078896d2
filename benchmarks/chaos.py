"""Chaos: random SIGKILL and SIGSTOP of every actor and of the supervisor, through JACK.

The default performance runs under ``kelly run --audio-device jack --record DIR --duration S``
(the audio actor is a JACK client with the compiled callback; a JACK dummy server is started
when none runs). A measuring JACK client (``chaos-meter``, :mod:`jack_meter`) listens to
``kelly:out_1`` — what an audience hears — and is reconnected when the audio actor comes back
under a new client. After a reference stretch without disturbance (30 s, 8 s with
``--quick``), every ``--interval`` seconds on average (exponential, seeded) one target is
picked at random among the actors and the supervisor, and is either SIGKILLed (70 %) or
SIGSTOPped for 0.5–3 s and continued. The run ends by its own ``--duration``, through every
supervisor succession.

Figures, one JSON object on the last line:

- ``kills`` / ``stops``: per target; ``supervisor_kills``; ``restarts`` (``run.json``, per
  actor) and ``supervisor_restarts`` (successions).
- ``longest_gap_ms``: the longest silence the meter heard during the chaos between two
  sounding JACK cycles, beside ``reference_longest_gap_ms``, the same measure over the
  undisturbed reference stretch of the same run (rests in the music, and cycles the meter
  itself missed, count in both); ``gaps_over_reference`` lists every longer one with the
  disturbance just before it.
- ``underruns`` / ``xruns``: the audio actor's ``underrun`` and ``xrun`` events during the chaos,
  and per hour.
- ``orphans``: processes that descended from ``kelly run`` at any sample (every 0.5 s) and
  still run once it has exited; ``leaks``: the run's ``/dev/shm`` objects left.
- ``recording_complete``: every ``output*.wav`` segment is a valid WAV;
  ``run_json_complete``: ``run.json`` exists and says the duration was reached;
  ``exit_code`` of ``kelly run`` (0 expected).

    python benchmarks/chaos.py [--minutes M] [--quick] [--seed N] [--interval S] [--targets T,…]
                               [--config TOML]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "support"))

from jack_meter import Meter, jack_running  # noqa: E402
from performance import Performance  # noqa: E402

from kelly_actors.audio import wav  # noqa: E402
from kelly_actors.bus.namespace import runtime_dir  # noqa: E402
from kelly_actors.supervisor.client import ControlClient  # noqa: E402
from kelly_actors.supervisor.rundir import RunDir  # noqa: E402

METER = "chaos-meter"
OUT_1 = re.compile(r"^kelly(-\d+)?:out_1$")
SUPERVISOR = "supervisor"
KILL_SHARE = 0.7
STOP_S = (0.5, 3.0)
SAMPLE_EVERY = 0.5
#: Seconds between the last disturbance and the run's end (every stop continued).
TAIL_S = 5.0


@dataclass
class Disturbance:
    target: str
    kind: str  # "kill" | "stop"
    pid: int
    frame: int  # the JACK server's frame time when it was sent
    stop_s: float = 0.0


@dataclass
class Chaos:
    """The state of one chaos run: what was done, what was seen."""

    perf: Performance
    meter: Meter
    rng: random.Random
    interval: float
    #: Names to pick from (actors, "supervisor"); empty: every one.
    only: frozenset[str]
    done: list[Disturbance] = field(default_factory=list)
    to_continue: list[tuple[float, int]] = field(default_factory=list)
    seen_pids: set[int] = field(default_factory=set)
    actors: dict[str, int] = field(default_factory=dict)
    reconnected_by_meter: int = 0
    client: ControlClient | None = None

    # ------------------------------------------------------------ watching
    def sample(self) -> None:
        """Note every descendant of ``kelly run`` and, when the supervisor answers, the
        actors' pids; keep the meter listening to the audio actor."""
        try:
            self.seen_pids.update(
                p.pid for p in psutil.Process(self.perf.proc.pid).children(recursive=True)
            )
        except psutil.Error:
            pass
        snap = self._status()
        if snap is not None:
            self.actors = {a["name"]: a["pid"] for a in snap["actors"] if a["pid"]}
        if not self.meter.listening() and self.meter.connect_any():
            self.reconnected_by_meter += 1

    def _status(self) -> dict[str, Any] | None:
        try:
            if self.client is None:
                self.client = ControlClient(RunDir(self.perf.run_dir), timeout=1.0)
            return self.client.request("status")
        except Exception:  # a supervisor dying or starting: ask a fresh one next time
            if self.client is not None:
                self.client.close()
                self.client = None
            return None

    def wait(self, seconds: float) -> None:
        """Sample and continue stopped processes for ``seconds``."""
        end = time.monotonic() + seconds
        while (now := time.monotonic()) < end and self.perf.proc.poll() is None:
            self._continue_due(now)
            self.sample()
            time.sleep(min(SAMPLE_EVERY, max(0.0, end - time.monotonic())))
        self._continue_due(float("inf") if self.perf.proc.poll() is not None else 0.0)

    def _continue_due(self, now: float) -> None:
        for due, pid in [c for c in self.to_continue if c[0] <= now]:
            self.to_continue.remove((due, pid))
            _signal(pid, signal.SIGCONT)

    # ------------------------------------------------------------ disturbing
    def disturb(self) -> None:
        info = RunDir(self.perf.run_dir).read()
        targets = dict(self.actors)
        if info is not None:
            targets[SUPERVISOR] = info.pid
        if self.only:
            targets = {name: pid for name, pid in targets.items() if name in self.only}
        if not targets:
            return
        target = self.rng.choice(sorted(targets))
        pid = targets[target]
        frame = self.meter.client.frame_time
        if self.rng.random() < KILL_SHARE:
            if _signal(pid, signal.SIGKILL):
                self.done.append(Disturbance(target, "kill", pid, frame))
            return
        stop_s = self.rng.uniform(*STOP_S)
        if _signal(pid, signal.SIGSTOP):
            self.done.append(Disturbance(target, "stop", pid, frame, round(stop_s, 2)))
            self.to_continue.append((time.monotonic() + stop_s, pid))

    def run(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and self.perf.proc.poll() is None:
            pause = min(self.rng.expovariate(1.0 / self.interval), 3 * self.interval)
            self.wait(min(pause, max(0.0, end - time.monotonic())))
            if time.monotonic() < end:
                self.disturb()
        self.wait(max(STOP_S))  # every stopped process continued

    def close(self) -> None:
        for _, pid in self.to_continue:
            _signal(pid, signal.SIGCONT)
        if self.client is not None:
            self.client.close()


def _signal(pid: int, sig: int) -> bool:
    try:
        psutil.Process(pid).send_signal(sig)
    except psutil.Error:
        return False
    return True


# ---------------------------------------------------------------- figures
def _ms(frames: float, rate: int) -> float:
    return round(frames / rate * 1e3, 1)


def _gaps(chaos: Chaos, reference: tuple[int, int], disturbed: tuple[int, int]) -> dict[str, Any]:
    meter, rate = chaos.meter, chaos.meter.sample_rate
    ref = max((g for _, g in meter.silences(*reference)), default=0)
    during = meter.silences(*disturbed)
    longest = max((g for _, g in during), default=0)
    over = []
    for start, length in during:
        if length <= ref:
            continue
        before = [d for d in chaos.done if d.frame <= start]
        cause = f"{before[-1].kind} {before[-1].target}" if before else "none"
        over.append({"gap_ms": _ms(length, rate), "after": cause})
    return {
        "longest_gap_ms": _ms(longest, rate),
        "reference_longest_gap_ms": _ms(ref, rate),
        "gaps_over_reference": over,
    }


def _events(run_dir: Path, since: float) -> dict[str, int]:
    counts = {"underrun": 0, "xrun": 0}
    for path in sorted(run_dir.glob("events.jsonl*"), reverse=True):
        for line in path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") in counts and record.get("time", 0) >= since:
                counts[record["event"]] += 1
    return counts


def _recording(record: Path) -> dict[str, Any]:
    segments, frames, valid = [], 0, True
    for path in sorted(record.glob("output*.wav")):
        try:
            info = wav.read_info(path)
        except (OSError, ValueError) as exc:
            valid = False
            segments.append({"file": path.name, "error": str(exc)})
            continue
        frames += info.frames
        segments.append({"file": path.name, "seconds": round(info.frames / info.sample_rate, 2)})
    return {"recording_complete": valid and bool(segments), "segments": segments}


def _run_json(record: Path) -> dict[str, Any]:
    try:
        summary = json.loads((record / "run.json").read_text())
    except (OSError, ValueError):
        return {"run_json_complete": False, "restarts": {}, "supervisor_restarts": None}
    return {
        "run_json_complete": summary.get("reason") == "duration reached",
        "restarts": summary.get("restarts", {}),
        "supervisor_restarts": summary.get("supervisor_restarts"),
    }


def _still_running(pids: set[int]) -> list[int]:
    alive = []
    for pid in sorted(pids):
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.Error:
            pass
    return alive


def _counts(done: list[Disturbance], kind: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for d in done:
        if d.kind == kind:
            counts[d.target] = counts.get(d.target, 0) + 1
    return dict(sorted(counts.items()))


# ---------------------------------------------------------------- the run
def chaos_run(
    work: Path,
    run_s: float,
    reference_s: float,
    seed: int,
    interval: float,
    targets: frozenset,
    config: Path | None = None,
) -> dict:
    """One ``kelly run --duration run_s``: the reference stretch once every actor is ready,
    then chaos until ``TAIL_S`` before the run's own end."""
    record = work / "take"
    args = ["--duration", str(run_s), "--record", str(record), "--audio-device", "jack"]
    launched = time.monotonic()
    text = config.read_text() if config is not None else None
    with Performance(work / "run", text, args) as perf:
        snap = perf.wait_ready(min(120.0, run_s))
        tag = snap["run"]["tag"]
        meter = Meter(METER, OUT_1, int((run_s + 60) * 48000 / 256))
        chaos = Chaos(perf, meter, random.Random(seed), interval, targets)
        try:
            chaos.sample()
            chaos.wait(reference_s)
            reference = (meter.frames[0] if meter.count else 0, meter.client.frame_time)
            chaos_started, chaos_from = time.time(), time.monotonic()
            chaos.run(launched + run_s - TAIL_S - chaos_from)
            chaos_s = time.monotonic() - chaos_from
            disturbed = (reference[1], meter.client.frame_time)
            code = perf.proc.wait(run_s + 120)
            orphans = _still_running(chaos.seen_pids)
            leaks = sorted(p.name for p in runtime_dir().glob(f"kelly-{tag}*"))
            figures = _gaps(chaos, (int(reference[0]), reference[1]), disturbed)
            reconnected = chaos.reconnected_by_meter
        finally:
            chaos.close()
            meter.close()
    events = _events(work / "run", chaos_started)
    hours = chaos_s / 3600
    return {
        "chaos_s": round(chaos_s, 1),
        "exit_code": code,
        **figures,
        "kills": _counts(chaos.done, "kill"),
        "stops": _counts(chaos.done, "stop"),
        "supervisor_kills": sum(d.target == SUPERVISOR and d.kind == "kill" for d in chaos.done),
        **_run_json(record),
        **_recording(record),
        "underruns": events["underrun"],
        "underruns_per_h": round(events["underrun"] / hours, 1),
        "xruns": events["xrun"],
        "xruns_per_h": round(events["xrun"] / hours, 1),
        "orphans": len(orphans),
        "leaks": len(leaks),
        "meter_reconnects": reconnected,
        "disturbances": [
            {"target": d.target, "kind": d.kind, **({"stop_s": d.stop_s} if d.stop_s else {})}
            for d in chaos.done
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="chaos length (default 10)")
    parser.add_argument("--quick", action="store_true", help="a 55 s run (under a minute)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--interval", type=float, help="mean s between disturbances (10, or 4 with --quick)"
    )
    parser.add_argument("--config", type=Path, help="performance TOML (default: built in)")
    parser.add_argument(
        "--targets", default="", help="comma-separated actor names and/or 'supervisor' (all)"
    )
    args = parser.parse_args()
    interval = args.interval or (4.0 if args.quick else 10.0)
    if args.minutes <= 0 or interval <= 0:
        parser.error("--minutes and --interval must be positive")
    targets = frozenset(t for t in args.targets.split(",") if t)
    reference_s = 8.0 if args.quick else 30.0
    # Start-up comes out of the run: --quick has about 40 s of chaos.
    run_s = 55.0 if args.quick else args.minutes * 60 + reference_s + 30.0
    work = Path(tempfile.mkdtemp(prefix="kc-", dir="/tmp"))
    jackd = None
    if not jack_running():
        started = subprocess.run(
            [str(REPO / "scripts" / "jack")], check=True, capture_output=True, text=True
        )
        jackd = int(started.stdout.strip()) if started.stdout.strip() else None
    try:
        result = chaos_run(work, run_s, reference_s, args.seed, interval, targets, args.config)
    finally:
        if jackd is not None:
            _signal(jackd, signal.SIGTERM)
    result = {
        "benchmark": "chaos",
        "run_s": run_s,
        "reference_s": reference_s,
        "seed": args.seed,
        "interval_s": interval,
        "targets": sorted(targets) or "all",
        **result,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
