"""Soak: the default performance for minutes on end — does anything grow?

Runs ``kelly run`` (the built-in performance, or ``--config``) in a private temporary run
directory and, every ``--interval`` seconds, samples each actor's process (and the
supervisor's, and the ``kelly run`` process when it is another one): RSS, USS (memory only
that process holds: the honest leak figure) and PSS, open file descriptors and threads.
Actor pids come from the supervisor's status PUB (:class:`~kelly_actors.console.connection.
StatusFeed`), which a soak only listens to: a ``status`` command would itself add a line to
the event log being measured. The run is stopped with SIGTERM (a clean stop).

Figures, per actor:

- ``rss_slope_mib_per_h``: the least-squares slope of RSS (MiB) over the samples taken
  after the warm-up (``--warmup``, default 20 % of the run and at least 30 s; the first
  samples see the arenas and caches filling). ``uss_slope_mib_per_h`` likewise. Slopes of a
  2-minute ``--quick`` run are noisy (one 64 KiB step is ~2.6 MiB/h over 90 s): the target
  is for the long runs. ``rss_slope_halves`` are the slopes of the first and the second half
  of the post-warm-up samples: the in-run comparison of whether growth is slowing down.
- ``fds`` and ``threads``: at the first sample, after warm-up, at the end, and the most.
- An actor that restarted (a new pid) is measured from its last incarnation, and its
  ``restarts`` say so.

Run-wide: ``underruns_per_h`` are the audio actor's under-run blocks (its ``underrun``
events in ``events.jsonl``: blocks the callback had to fill itself because no synth block
was there) after the first 10 s of the run, per hour; the first 10 s (the pre-roll, start
order) are given apart. ``xruns_per_h`` likewise for device xruns (none with the null
backend). ``event_log_bytes_per_h``: growth of ``events.jsonl`` after the warm-up, with
the events that made it (``event_log_kinds``).

``target_met`` (issue 16): every RSS slope ≤ 0.5 MiB/h after warm-up, no fd and no thread
growth after warm-up (end ≤ the post-warm-up value), no under-run after the first 10 s.

    python benchmarks/soak.py [--minutes M] [--quick] [--interval S] [--warmup S]

``--quick``: 2 minutes, a sample every 2 s. Default: 60 minutes, a sample every 5 s.

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from kelly_actors.console.connection import StatusFeed, resolve
from kelly_actors.supervisor.rundir import RunDir

MIB = 1 << 20
#: The targets of issue 16.
MAX_SLOPE_MIB_PER_H = 0.5
#: Under-runs in the run's first seconds (start order, pre-roll) do not count.
START_S = 10.0
MIN_WARMUP_S = 30.0
#: Actor states that count as started (a degraded actor runs, e.g. without its model).
UP = ("ready", "degraded")
WARMUP_FRACTION = 0.2
#: Exits listed in the figures (restarts are counted in full).
MAX_EXITS = 20


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"kelly run exited {proc.returncode} while waiting for {what}")
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


class Series:
    """One process's samples: seconds since the soak began, bytes, counts."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.proc = psutil.Process(pid)
        self.t: list[float] = []
        self.rss: list[int] = []
        self.uss: list[int] = []
        self.pss: list[int] = []
        self.fds: list[int] = []
        self.threads: list[int] = []
        self.cpu_start = self._cpu()
        self.cpu_end = self.cpu_start

    def _cpu(self) -> float:
        times = self.proc.cpu_times()
        return times.user + times.system

    def sample(self, t: float) -> bool:
        """False when the process is gone."""
        try:
            with self.proc.oneshot():
                mem = self.proc.memory_full_info()
                fds = self.proc.num_fds()
                threads = self.proc.num_threads()
                self.cpu_end = self._cpu()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False
        self.t.append(t)
        self.rss.append(mem.rss)
        self.uss.append(mem.uss)
        self.pss.append(getattr(mem, "pss", 0))
        self.fds.append(fds)
        self.threads.append(threads)
        return True


def slope_per_h(t: np.ndarray, values: np.ndarray) -> float | None:
    """Least-squares slope in MiB per hour (None with fewer than 3 samples)."""
    if len(t) < 3 or np.ptp(t) <= 0:
        return None
    return round(float(np.polyfit(t / 3600.0, values / MIB, 1)[0]), 3)


def summarise(series: Series, warmup_s: float, restarts: int, elapsed_s: float) -> dict[str, Any]:
    t = np.asarray(series.t)
    after = t >= warmup_s
    if after.sum() < 3:  # a late incarnation: measure what there is
        after = np.ones_like(t, bool)
    rss, uss = np.asarray(series.rss, float), np.asarray(series.uss, float)
    idx = np.flatnonzero(after)
    half = idx[: len(idx) // 2], idx[len(idx) // 2 :]
    first = int(idx[0])

    def counts(values: list[int]) -> dict[str, int]:
        return {
            "start": values[0],
            "after_warmup": values[first],
            "end": values[-1],
            "max": max(values),
        }

    return {
        "pid": series.pid,
        "restarts": restarts,
        "samples": len(t),
        "rss_slope_mib_per_h": slope_per_h(t[after], rss[after]),
        "uss_slope_mib_per_h": slope_per_h(t[after], uss[after]),
        "pss_slope_mib_per_h": slope_per_h(t[after], np.asarray(series.pss, float)[after]),
        "rss_slope_halves": [slope_per_h(t[h], rss[h]) for h in half],
        "rss_mib": {
            "start": round(rss[0] / MIB, 2),
            "after_warmup": round(rss[first] / MIB, 2),
            "end": round(rss[-1] / MIB, 2),
        },
        "uss_mib": {"after_warmup": round(uss[first] / MIB, 2), "end": round(uss[-1] / MIB, 2)},
        "fds": counts(series.fds),
        "threads": counts(series.threads),
        "cpu_percent": round(100 * (series.cpu_end - series.cpu_start) / max(elapsed_s, 1e-9), 1),
    }


def read_events(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            continue  # a line being written
    return events


def soak(minutes: float, interval: float, warmup_s: float | None, config: Path | None):
    seconds = minutes * 60.0
    warmup = warmup_s if warmup_s is not None else max(MIN_WARMUP_S, WARMUP_FRACTION * seconds)
    run_dir = Path(tempfile.mkdtemp(prefix="kelly-soak-", dir="/tmp"))  # 0700
    args = [sys.executable, "-m", "kelly_actors.cli", "--run-dir", str(run_dir), "run"]
    if config is not None:
        args.append(str(config))
    else:  # the null clock the figures describe, not whatever device the machine has
        args += ["--audio-device", "null"]
    # --duration only as a safety net: the soak stops the run itself.
    args += ["--duration", str(seconds + 300)]
    stderr = (run_dir / "kelly.stderr").open("wb")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    feed: StatusFeed | None = None
    try:
        info = wait_for(lambda: RunDir(run_dir).running(), 60, "the supervisor", proc)
        feed = StatusFeed(resolve(run_dir, None))

        def ready() -> dict[str, Any] | None:
            feed.drain(0.2)
            snap = feed.snapshot
            if snap and snap["actors"] and all(a["state"] in UP for a in snap["actors"]):
                return snap
            return None

        snap = wait_for(ready, 120, "every actor ready", proc)
        events_path = run_dir / "events.jsonl"
        began = time.monotonic()
        load_start = os.getloadavg()
        series: dict[str, Series] = {}
        restarts: Counter[str] = Counter()
        extra = {"supervisor": info.pid}
        if proc.pid != info.pid:
            extra["kelly_run"] = proc.pid
        log_at_warmup: int | None = None
        warmup_wall: float | None = None
        next_sample = began
        while True:
            now = time.monotonic()
            t = now - began
            if t > seconds:
                break
            if proc.poll() is not None:
                raise RuntimeError(f"kelly run exited {proc.returncode} during the soak")
            feed.drain(0.0)
            snap = feed.snapshot or snap
            pids = {a["name"]: a["pid"] for a in snap["actors"] if a.get("pid")}
            pids.update(extra)
            for name, pid in pids.items():
                s = series.get(name)
                if s is not None and s.pid != pid:
                    restarts[name] += 1
                    s = None
                if s is None:
                    try:
                        s = series[name] = Series(pid)
                    except psutil.NoSuchProcess:
                        continue
                s.sample(t)
            if log_at_warmup is None and t >= warmup:
                log_at_warmup = events_path.stat().st_size
                warmup_wall = time.time()
            next_sample += interval
            time.sleep(max(0.0, next_sample - time.monotonic()))
        elapsed = time.monotonic() - began
        log_end = events_path.stat().st_size
        end_wall = time.time()
        load_end = os.getloadavg()
        final = snap
    finally:
        if feed is not None:
            feed.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        stderr.close()

    events = read_events(events_path)
    shutil.rmtree(run_dir, ignore_errors=True)
    return {
        "series": series,
        "restarts": restarts,
        "elapsed": elapsed,
        "warmup": warmup,
        "events": events,
        "log_bytes": (log_at_warmup, log_end),
        "walls": (warmup_wall, end_wall),
        "load": (load_start, load_end),
        "final": final,
        "exit_code": proc.returncode,
    }


def glitches(events: list[dict[str, Any]], end_wall: float) -> dict[str, Any]:
    """Under-runs and xruns from the event log, before and after the run's first 10 s."""
    start = next((e["time"] for e in events if e["event"] == "run_started"), None)
    if start is None:
        start = min((e["time"] for e in events), default=end_wall)
    out: dict[str, Any] = {}
    for kind in ("underrun", "xrun"):
        early = late = 0
        for e in events:
            if e["event"] == kind and e["time"] <= end_wall:
                n = int(e.get("detail", {}).get("count", 1))
                if e["time"] - start < START_S:
                    early += n
                else:
                    late += n
        hours = max(end_wall - start - START_S, 1e-9) / 3600.0
        out[kind] = {"first_10s": early, "after_10s": late, "per_h": round(late / hours, 1)}
    return out


def exits(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every actor exit that was not a commanded stop: when (s into the run), who, why."""
    start = next((e["time"] for e in events if e["event"] == "run_started"), 0.0)
    return [
        {
            "t_s": round(e["time"] - start, 1),
            "actor": e["detail"].get("actor"),
            "reason": e["detail"].get("reason"),
        }
        for e in events
        if e["event"] == "actor_exited" and not e.get("detail", {}).get("commanded")
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 minutes, a sample every 2 s")
    parser.add_argument("--minutes", type=float, help="soak length (default 60; --quick 2)")
    parser.add_argument("--interval", type=float, help="seconds between samples (5; --quick 2)")
    parser.add_argument(
        "--warmup", type=float, help="seconds left out of the slopes (default 20%%, ≥ 30 s)"
    )
    parser.add_argument("--config", type=Path, help="performance TOML (default: built in)")
    args = parser.parse_args()
    minutes = args.minutes if args.minutes is not None else (2.0 if args.quick else 60.0)
    interval = args.interval if args.interval is not None else (2.0 if args.quick else 5.0)
    if minutes <= 0 or interval <= 0:
        parser.error("--minutes and --interval must be positive")

    r = soak(minutes, interval, args.warmup, args.config)
    elapsed, warmup = r["elapsed"], r["warmup"]
    actors = {
        name: summarise(s, warmup, r["restarts"][name], elapsed) for name, s in r["series"].items()
    }
    log_warm, log_end = r["log_bytes"]
    warm_wall, end_wall = r["walls"]
    post_events = [
        e for e in r["events"] if warm_wall is not None and warm_wall <= e["time"] <= end_wall
    ]
    log_per_h = None
    if log_warm is not None and warm_wall is not None and end_wall > warm_wall:
        log_per_h = round((log_end - log_warm) / ((end_wall - warm_wall) / 3600.0), 1)
    g = glitches(r["events"], end_wall)
    slopes = {n: a["rss_slope_mib_per_h"] for n, a in actors.items()}
    telemetry = {a["name"]: a.get("telemetry") or {} for a in (r["final"] or {}).get("actors", [])}
    audio = telemetry.get("audio", {})
    target = {
        "rss_slope": all(s is not None and s <= MAX_SLOPE_MIB_PER_H for s in slopes.values()),
        "fds": all(a["fds"]["end"] <= a["fds"]["after_warmup"] for a in actors.values()),
        "threads": all(
            a["threads"]["end"] <= a["threads"]["after_warmup"] for a in actors.values()
        ),
        "underruns": g["underrun"]["after_10s"] == 0,
    }
    target["all"] = all(target.values())
    figures = {
        "minutes": round(elapsed / 60.0, 2),
        "warmup_s": round(warmup, 1),
        "interval_s": interval,
        "rss_slope_mib_per_h": slopes,
        "uss_slope_mib_per_h": {n: a["uss_slope_mib_per_h"] for n, a in actors.items()},
        "rss_mib": {n: a["rss_mib"] for n, a in actors.items()},
        "fds": {n: a["fds"] for n, a in actors.items()},
        "threads": {n: a["threads"] for n, a in actors.items()},
        "restarts": {n: a["restarts"] for n, a in actors.items() if a["restarts"]},
        "underruns_per_h": g["underrun"]["per_h"],
        "underruns_first_10s": g["underrun"]["first_10s"],
        "underruns_after_10s": g["underrun"]["after_10s"],
        "underruns_telemetry": audio.get("underruns"),
        "xruns_per_h": g["xrun"]["per_h"],
        "event_log_bytes_per_h": log_per_h,
        "event_log_kinds": dict(Counter(e["event"] for e in post_events)),
        "exits": exits(r["events"])[:MAX_EXITS],
        "cpu_percent": {n: a["cpu_percent"] for n, a in actors.items()},
        "loadavg_1m": [round(r["load"][0][0], 2), round(r["load"][1][0], 2)],
        "exit_code": r["exit_code"],
        "actors": actors,
        "target_met": target,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
