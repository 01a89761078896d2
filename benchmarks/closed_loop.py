"""Closed loop: does the shipped listener hear the emotion the composer was asked for?

The composer writes pieces at known PAD targets (the 16 points of
``benchmarks/midi_listener.py``: valence × arousal on a 4 × 4 grid, dominance a Latin
square over them) × seeds (the ``kelly compose`` machinery, rules engine). Every pitched
track is moved to a GM program that no split of the listener's data set plays
(:data:`UNHEARD_PROGRAMS`, a different pair per piece); the drums stay, as the product
plays them. FluidSynth (``FluidR3_GM.sf2``) renders the piece; the live path's feature
extractor and the shipped ``models/emotion.onnx`` hear it frame by frame (LSTM state
carried); the piece's reading is the mean of its frames after the 1 s warm-up.

Reported: quadrant agreement (valence sign × arousal above/below 0.5), valence-sign and
arousal-side agreement, per-axis MAE and Pearson r, each beside the majority-class null.
Targets (issue 12): quadrant ≥ 0.85, valence sign ≥ 0.90.

    python benchmarks/closed_loop.py [--quick] [--seeds N] [--bars N]

``--quick``: 16 targets × 3 seeds, 4 bars a piece (about a minute here). The last line
is one JSON object with ``quadrant``, ``valence_sign`` and ``arousal_side``.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import mido
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kelly_actors.audio.features import extract  # noqa: E402
from kelly_actors.bus.frames import STATE_SIZE  # noqa: E402
from kelly_actors.composer import midi_file  # noqa: E402
from kelly_actors.composer.orchestrator import compose_emotion  # noqa: E402
from kelly_actors.inference.model import load_model  # noqa: E402
from training.ddsp.data import SAMPLE_RATE, render  # noqa: E402
from training.emotion.dataset import TEST_INSTRUMENTS, TRAIN_INSTRUMENTS, VAL_INSTRUMENTS  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "midi_listener", REPO / "benchmarks" / "midi_listener.py"
)
midi_listener = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(midi_listener)

MODEL = REPO / "models" / "emotion.onnx"
DRUM_CHANNEL = 9
TARGETS = {"quadrant": 0.85, "valence_sign": 0.90}
#: Melodic GM programs (0-based) of several families; none is a listener data-set timbre.
UNHEARD_PROGRAMS = (4, 6, 11, 21, 26, 40, 42, 46, 57, 60, 65, 16)
assert not set(UNHEARD_PROGRAMS) & {
    i.program
    for i in (*TRAIN_INSTRUMENTS, *VAL_INSTRUMENTS, *TEST_INSTRUMENTS)
    if i.renderer == "fluidsynth"
}


def reprogram(path: Path, programs: tuple[int, ...]) -> None:
    """Every non-drum channel of the MIDI file at ``path`` onto ``programs`` (by channel,
    cycling); the program changes go at the start of the first track."""
    mid = mido.MidiFile(path)
    channels = sorted(
        {m.channel for t in mid.tracks for m in t if hasattr(m, "channel")} - {DRUM_CHANNEL}
    )
    for track in mid.tracks:
        track[:] = [m for m in track if m.type != "program_change" or m.channel == DRUM_CHANNEL]
    changes = [
        mido.Message("program_change", channel=ch, program=programs[k % len(programs)], time=0)
        for k, ch in enumerate(channels)
    ]
    mid.tracks[0][0:0] = changes
    mid.save(path)


def heard(model, mid: Path, wav: Path) -> tuple[float, float, float]:
    """The listener's mean (valence, arousal, dominance) over the rendered file."""
    _, feats = extract(render(mid, wav), SAMPLE_RATE)
    h = np.zeros((1, 1, STATE_SIZE), np.float32)
    emotion, _, _ = model.run(feats[:, None, :], h, h.copy())
    frames = emotion[midi_listener.WARMUP_FRAMES :, 0, :3]
    return tuple(float(x) for x in frames.mean(axis=0))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, 4 bars (about 1 min)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per target (default 5)")
    parser.add_argument("--bars", type=int, default=8, help="bars a piece (default 8)")
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args()
    seeds, bars = (3, 4) if args.quick else (args.seeds, args.bars)
    model = load_model(args.model)
    points = midi_listener.targets()
    truth, guesses = [], []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kelly-closed-loop-") as tmp:
        for n, (seed, point) in enumerate(itertools.product(range(seeds), points)):
            piece = compose_emotion(point, bars=bars, seed=seed)
            mid, wav = Path(tmp) / f"p{n}.mid", Path(tmp) / f"p{n}.wav"
            midi_file.write(piece, mid)
            k = n % len(UNHEARD_PROGRAMS)
            programs = (UNHEARD_PROGRAMS[k], UNHEARD_PROGRAMS[(k + 5) % len(UNHEARD_PROGRAMS)])
            reprogram(mid, programs)
            guess = heard(model, mid, wav)
            truth.append(point.as_tuple())
            guesses.append(guess)
            print(f"seed {seed} {point.as_tuple()} programs {programs}: heard "
                  f"{tuple(round(x, 2) for x in guess)}", flush=True)  # fmt: skip
    t, g = np.array(truth), np.array(guesses)
    scores = midi_listener.scores(t, g)
    null = midi_listener.scores(t, np.tile(t.mean(axis=0), (len(t), 1)), null=True)
    result = {
        "benchmark": "closed_loop",
        "quick": args.quick,
        "model": args.model.name,
        "pieces": len(t),
        "seeds": seeds,
        "bars": bars,
        "programs": list(UNHEARD_PROGRAMS),
        "quadrant": scores["quadrant"],
        "valence_sign": scores["valence"]["side"],
        "arousal_side": scores["arousal"]["side"],
        "per_axis": {a: scores[a] for a in midi_listener.AXES},
        "null": {"quadrant": null["quadrant"], "valence_sign": null["valence"]["side"]},
        "targets_met": {
            "quadrant": scores["quadrant"] >= TARGETS["quadrant"],
            "valence_sign": scores["valence"]["side"] >= TARGETS["valence_sign"],
        },
        "wall_s": round(time.perf_counter() - started, 1),
        "python": platform.python_version(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
