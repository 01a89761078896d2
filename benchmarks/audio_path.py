"""The whole performance graph through JACK's dummy driver: callback cost vs period.

Runs ``kelly run --audio-device system --record DIR --duration S`` (the
default graph: audio → features, composer → synth → audio) against a JACK
server (started here with the dummy driver if none runs), then reads the
run's ``run.json``. The baseline is the block period itself: the ratio says
what share of the period the callback used.

    python benchmarks/audio_path.py [--quick]     # 60 s, or 15 s with --quick

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

from kelly_actors.console.doctor.jack import server_realtime

REPO = Path(__file__).resolve().parent.parent


def jack_running() -> bool:
    done = subprocess.run(["jack_wait", "-c"], capture_output=True, text=True)
    return done.stdout.strip() == "running"


def stop_process(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM ``pid`` and wait (polling, with a deadline) until it is gone."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 s instead of 60 s")
    args = parser.parse_args()
    seconds = 15 if args.quick else 60
    jackd = None
    if not jack_running():
        # The project's own starter: real-time where permitted, as a user runs JACK.
        started = subprocess.run(
            [str(REPO / "scripts" / "jack")], check=True, capture_output=True, text=True
        )
        jackd = int(started.stdout.strip())
    work = Path(tempfile.mkdtemp(prefix="kb-", dir="/tmp"))
    try:
        record = work / "rec"
        subprocess.run(
            [
                sys.executable, "-m", "kelly_actors.cli", "--run-dir", str(work), "run",
                "--audio-device", "system", "--record", str(record), "--duration", str(seconds),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        summary = json.loads((record / "run.json").read_text())
        realtime = server_realtime()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if jackd is not None:
            stop_process(jackd)
    audio = summary["audio"]
    figures = {
        "seconds": seconds,
        "xruns": summary["xruns"],
        "callback_p50_ms": audio["callback_p50_ms"],
        "callback_p99_ms": audio["callback_p99_ms"],
        "callback_max_ms": audio["callback_max_ms"],
        "period_ms": audio["period_ms"],
        "p99_share_of_period": round(audio["callback_p99_ms"] / audio["period_ms"], 4),
        "underruns": audio["underruns"],
        "restarts": sum(summary["restarts"].values()),
        "jack_realtime": realtime,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
