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
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def jack_running() -> bool:
    done = subprocess.run(["jack_wait", "-c"], capture_output=True, text=True)
    return done.stdout.strip() == "running"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 s instead of 60 s")
    args = parser.parse_args()
    seconds = 15 if args.quick else 60
    jackd = None
    if not jack_running():
        jackd = subprocess.Popen(
            ["jackd", "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "256"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        subprocess.run(["timeout", "20", "jack_wait", "-w"], check=True, capture_output=True)
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
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if jackd is not None:
            jackd.terminate()
            jackd.wait(10)
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
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
