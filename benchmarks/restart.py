"""How long from SIGKILL of a running actor until its replacement is ready.

Runs a real ``kelly run`` with one plain actor, kills the actor N times and
reads the supervisor's event log for the replacement's ``actor_ready`` time
(the same wall clock as the kill). Baseline, in the same run: starting a
fresh interpreter that imports the actor runtime (what a restart would cost
without the supervisor's forkserver).

    python benchmarks/restart.py [--quick]

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
from pathlib import Path

import numpy as np

from kelly_actors.supervisor.client import ControlClient
from kelly_actors.supervisor.rundir import RunDir

CONFIG = """
[supervisor]
max_restarts = 1000
max_seconds = 60.0
backoff_initial = 0.0
stable_after = 0.1

[[actors]]
name = "plain"
target = "kelly_actors.demo.idle:IdleActor"
"""


def wait_for(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.005)
    raise TimeoutError("benchmark step timed out")


def ready_events(run_dir: Path) -> list[dict]:
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["event"] == "actor_ready"]


def measure_restarts(kills: int) -> list[float]:
    run_dir = Path(tempfile.mkdtemp(prefix="kb-", dir="/tmp"))
    (run_dir / "p.toml").write_text(CONFIG)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kelly_actors.cli",
            "--run-dir",
            str(run_dir),
            "run",
            str(run_dir / "p.toml"),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: RunDir(run_dir).running(), 30)
        client = ControlClient(RunDir(run_dir), timeout=10)

        def plain() -> dict:
            return client.request("status")["actors"][0]

        wait_for(lambda: plain()["state"] == "ready", 30)
        times = []
        for n in range(kills):
            time.sleep(0.2)  # past stable_after: every kill is a first failure
            pid = plain()["pid"]
            killed_at = time.time()
            os.kill(pid, signal.SIGKILL)
            events = wait_for(
                lambda n=n: len(ready_events(run_dir)) >= n + 2 and ready_events(run_dir), 10
            )
            times.append(events[n + 1]["time"] - killed_at)
        client.request("stop")
        client.close()
        proc.wait(30)
        return times
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(run_dir, ignore_errors=True)


def measure_cold_starts(count: int) -> list[float]:
    code = "import kelly_actors.actor.runtime, kelly_actors.demo.idle"
    times = []
    for _ in range(count):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 kills instead of 20")
    args = parser.parse_args()
    kills = 8 if args.quick else 20
    restart_ms = np.array(measure_restarts(kills)) * 1e3
    cold_ms = np.array(measure_cold_starts(5 if args.quick else 10)) * 1e3
    figures = {
        "kills": kills,
        "restart_p50_ms": round(float(np.percentile(restart_ms, 50)), 2),
        "restart_p99_ms": round(float(np.percentile(restart_ms, 99)), 2),
        "restart_max_ms": round(float(restart_ms.max()), 2),
        "cold_start_p50_ms": round(float(np.percentile(cold_ms, 50)), 2),
        "ratio_cold_vs_restart": round(
            float(np.percentile(cold_ms, 50) / np.percentile(restart_ms, 50)), 1
        ),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
