"""Offline composition speed: bars composed per second with every engine running.

A bar at 120 bpm lasts 2 s, so ``realtime_factor`` = bars_per_s × 2. The
target is ≥ 100× real time. The piece travels across the emotion space
(grief → joy → rage → peace, transform strategy) so every mode, every
arousal band (drums off/on, every comping and bass pattern) and the key
changes are exercised. Mapping and MIDI writing are timed separately.

    python benchmarks/compose.py [--quick] [--bars N] [--repeats R] [--seed S]

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

from kelly_actors.composer import midi_file
from kelly_actors.composer.emotion import thesaurus
from kelly_actors.composer.emotion.intent import plan
from kelly_actors.composer.mapper import timeline
from kelly_actors.composer.orchestrator import compose

SECONDS_PER_BAR_AT_120 = 4 * 60.0 / 120.0
JOURNEY = ("grief", "joy", "rage", "peace")


def _points(bars: int):
    legs = len(JOURNEY) - 1
    per_leg = max(1, bars // legs)
    points = []
    for a, b in itertools.pairwise(JOURNEY):
        leg = plan(thesaurus.get(a).pad, thesaurus.get(b).pad, "transform", per_leg)
        points.extend(leg.points)
    while len(points) < bars:
        points.append(points[-1])
    return tuple(points[:bars])


def run(bars: int, repeats: int, seed: int) -> dict:
    params = timeline(_points(bars))
    compose(params[:8], seed)  # warm caches (voicing tables) outside the timing
    times, notes = [], 0
    for r in range(repeats):
        start = time.perf_counter()
        piece = compose(params, seed + r)
        times.append(time.perf_counter() - start)
        notes = len(piece.notes)
    best = min(times)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        midi_file.write(piece, os.path.join(tmp, "bench.mid"))
        write_s = time.perf_counter() - start
    bars_per_s = bars / best
    return {
        "benchmark": "compose",
        "bars": bars,
        "repeats": repeats,
        "notes_per_piece": notes,
        "best_s": round(best, 4),
        "median_s": round(statistics.median(times), 4),
        "bars_per_s": round(bars_per_s, 1),
        "ms_per_bar": round(1000 * best / bars, 3),
        "realtime_factor": round(bars_per_s * SECONDS_PER_BAR_AT_120, 1),
        "target_realtime_factor": 100,
        "midi_write_s": round(write_s, 4),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, well under a minute")
    parser.add_argument("--bars", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    bars = args.bars or (256 if args.quick else 2048)
    repeats = args.repeats or (3 if args.quick else 5)
    result = run(bars, repeats, args.seed)
    print(
        f"{result['bars']} bars: {result['bars_per_s']} bars/s, "
        f"{result['realtime_factor']}x real time at 120 bpm"
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
