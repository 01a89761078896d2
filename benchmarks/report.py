"""How long ``kelly report`` takes for a 3-hour take, against a 1-minute take in the same run.

Each take is written here, like a recorded ``kelly run`` leaves it: the event log (a bar
every 2 s with its emotion by source and writer, a typed sentence a minute, an xrun every
10 minutes, 2 under-run records a second), ``output.wav`` (48 kHz stereo 16-bit: 2 GiB for
3 hours, sparse on disk apart from a second of tone each minute) and the MIDI segments
(the composer's recorder, 5 notes a bar). Writing the takes is not timed; the report is
built in-process, every PNG and the HTML written. The target: a 3-hour take in under a
minute, every event still a row of the page's tables (checked).

    python benchmarks/report.py [--quick]   # 3 hours, or 20 minutes with --quick

Last line: one JSON object: ``long_s`` (the long take's report, s), ``baseline_s`` (the
1-minute take's), ``ratio_vs_one_minute``, ``hours``, ``events``, ``bars``, ``wav_bytes``,
``html_bytes``, ``under_a_minute``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "report"))

from report_support import RATE, event_lines, write_events, write_midi  # noqa: E402

from kelly_actors.report.build import build  # noqa: E402


def sparse_wav(path: Path, seconds: float, channels: int = 2) -> int:
    """A 16-bit WAV of ``seconds``, silent (sparse) but for a 1 s tone at each minute."""
    frames = int(seconds * RATE)
    align = 2 * channels
    data = frames * align
    header = b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, RATE, RATE * align, align, 16)
    header += b"data" + struct.pack("<I", data)
    t = np.arange(RATE) / RATE
    tone = (8000 * np.sin(2 * np.pi * 220 * t)).astype("<i2")
    block = np.repeat(tone[:, None], channels, axis=1).tobytes()
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(len(header) + data)
        for minute in range(int(seconds // 60)):
            f.seek(len(header) + minute * 60 * RATE * align)
            f.write(block)
    return len(header) + data


def take(root: Path, name: str, seconds: float) -> tuple[Path, int, int]:
    """Write a take of ``seconds``; (its directory, event records, WAV bytes)."""
    directory = root / name
    directory.mkdir(mode=0o700)
    lines = event_lines(seconds, bar_s=2.0, underruns_per_s=2.0)
    write_events(directory, lines)
    wav_bytes = sparse_wav(directory / "output.wav", seconds)
    write_midi(directory, int(seconds / 2.0))
    return directory, len(lines), wav_bytes


def timed(directory: Path) -> tuple[float, str]:
    began = time.perf_counter()
    built = build(directory)
    return time.perf_counter() - began, built.html.read_text()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="20 minutes instead of 3 hours")
    args = parser.parse_args()
    hours = 1 / 3 if args.quick else 3.0
    root = Path(tempfile.mkdtemp(prefix="kelly-report-bench-"))
    try:
        short, _, _ = take(root, "minute", 60.0)
        long, events, wav_bytes = take(root, "long", hours * 3600.0)
        timed(short)  # warm: imports, matplotlib's font cache
        baseline_s, _ = timed(short)
        long_s, html = timed(long)
        rows = html.rsplit("<h2>Every event", 1)[1].count("<tr>") - 1
        assert rows == events, f"the events table has {rows} rows, the log {events} records"
        result = {
            "long_s": round(long_s, 2),
            "baseline_s": round(baseline_s, 2),
            "ratio_vs_one_minute": round(long_s / baseline_s, 2),
            "hours": round(hours, 3),
            "events": events,
            "bars": int(hours * 3600 / 2.0),
            "wav_bytes": wav_bytes,
            "html_bytes": len(html.encode()),
            "under_a_minute": long_s < 60.0,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result))
    return 0 if result["under_a_minute"] else 1


if __name__ == "__main__":
    sys.exit(main())
