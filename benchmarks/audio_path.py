"""The whole performance through JACK, against a compiled reference client beside it.

Runs ``kelly run --audio-device jack`` (the default graph: audio → features,
composer → synth → audio, with the compiled callback) against a JACK server
(started here with the dummy driver if none runs), twice: on an idle machine
and with two busy processes beside it. In each run the compiled reference
client (``python -m kelly_actors.audio.native.reference``, a sine and nothing
else) runs in the same graph, its output on the same playback port: its
missed cycles are the machine's, measured alike in the same run. The ratio is
ours over the reference's, each +1 (so two clean runs give 1.0).

    python benchmarks/audio_path.py [--quick]     # 2 × 60 s, or 2 × 20 s with --quick

Last line: one JSON object: ``xrun_ratio_vs_c_reference`` (the worse of the two
runs), ``own_overruns``, ``callback_p99_ms``, ``callback_max_ms`` (the worse of
the two), and the figures of each run.
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
from typing import Any

from kelly_actors.console.doctor.jack import server_realtime

REPO = Path(__file__).resolve().parent.parent
BUSY = "while True: pass"


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


def _reference() -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kelly_actors.audio.native.reference", "--seconds", "600"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _reference_figures(proc: subprocess.Popen) -> dict[str, Any]:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return json.loads(out.strip().splitlines()[-1])


def one_run(seconds: int, busy: int) -> dict[str, Any]:
    """A performance of ``seconds`` beside ``busy`` spinning processes and the reference."""
    spinners = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(busy)]
    work = Path(tempfile.mkdtemp(prefix="kb-", dir="/tmp"))
    reference = _reference()
    try:
        record = work / "rec"
        subprocess.run(
            [
                sys.executable, "-m", "kelly_actors.cli", "--run-dir", str(work), "run",
                "--audio-device", "jack", "--record", str(record), "--duration", str(seconds),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        summary = json.loads((record / "run.json").read_text())
    finally:
        machine = _reference_figures(reference)
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
        shutil.rmtree(work, ignore_errors=True)
    audio = summary["audio"]
    return {
        "busy_processes": busy,
        "ours_missed": audio["missed_cycles"],
        "reference_missed": machine["missed_cycles"],
        "xrun_ratio_vs_c_reference": round(
            (audio["missed_cycles"] + 1) / (machine["missed_cycles"] + 1), 3
        ),
        "own_overruns": audio["own_overruns"],
        "ours_by_cause": {
            k: audio[k] for k in ("missed_late", "missed_preempted", "skipped_cycles")
        },
        "server_xruns": summary["xruns"],
        "callback": audio["callback"],
        "callback_p50_ms": audio["callback_p50_ms"],
        "callback_p99_ms": audio["callback_p99_ms"],
        "callback_max_ms": audio["callback_max_ms"],
        "reference_callback_p99_ms": machine["callback_p99_ms"],
        "underruns": audio["underruns"],
        "restarts": sum(summary["restarts"].values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 × 20 s instead of 2 × 60 s")
    args = parser.parse_args()
    seconds = 20 if args.quick else 60
    jackd = None
    if not jack_running():
        # The project's own starter: real-time where permitted, as a user runs JACK.
        started = subprocess.run(
            [str(REPO / "scripts" / "jack")], check=True, capture_output=True, text=True
        )
        jackd = int(started.stdout.strip())
    try:
        runs = [one_run(seconds, busy) for busy in (0, 2)]
        realtime = server_realtime()
    finally:
        if jackd is not None:
            stop_process(jackd)
    figures = {
        "seconds": seconds,
        "xrun_ratio_vs_c_reference": max(r["xrun_ratio_vs_c_reference"] for r in runs),
        "own_overruns": sum(r["own_overruns"] for r in runs),
        "callback_p99_ms": max(r["callback_p99_ms"] for r in runs),
        "callback_max_ms": max(r["callback_max_ms"] for r in runs),
        "period_ms": 256 / 48.0,
        "jack_realtime": realtime,
        "idle": runs[0],
        "busy": runs[1],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
