"""The symbolic listener (MIDI notes → emotion) against the audio listener on the same pieces.

The composer writes pieces at known PAD targets (16 targets on a 4 × 4 grid of valence ×
arousal, dominance in a Latin square over them, × seeds; the ``kelly compose`` machinery,
express strategy, rules engine). Each piece is heard twice:

* **symbolic**: its notes (every pitched track; drums left out, a keyboard player plays
  no drum kit) go to :mod:`kelly_actors.symbolic.listener` as the MIDI input actor feeds
  it: the sliding window's estimate every 0.5 s, the mean of those with a confidence;
* **audio**: the piece rendered by FluidSynth (``FluidR3_GM.sf2``) goes through the live
  path's feature extractor and the shipped ``models/emotion.onnx`` frame by frame (LSTM
  state carried), the mean of its frames after a 1 s warm-up (the model card's 94 frames).

For each listener and a null baseline (every piece predicted at the targets' mean):
per-axis MAE, side agreement (valence: its sign; arousal and dominance: above or below
0.5; the null's is the majority side's share), Pearson r, and quadrant accuracy (valence
sign × arousal side).

    python benchmarks/midi_listener.py [--quick] [--seeds N] [--bars N]

``--quick``: one seed, 4 bars a piece (< 1 min here). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kelly_actors.audio.features import extract  # noqa: E402
from kelly_actors.bus.frames import STATE_SIZE  # noqa: E402
from kelly_actors.composer import midi_file  # noqa: E402
from kelly_actors.composer.emotion.pad import PAD  # noqa: E402
from kelly_actors.composer.orchestrator import Composition, compose_emotion  # noqa: E402
from kelly_actors.inference.model import load_model  # noqa: E402
from kelly_actors.symbolic.listener import ListenerSettings, estimate  # noqa: E402
from kelly_actors.symbolic.notes import NoteTracker  # noqa: E402
from training.ddsp.data import SAMPLE_RATE, render  # noqa: E402

AXES = ("valence", "arousal", "dominance")
VALENCES = (-0.7, -0.25, 0.25, 0.7)
AROUSALS = (0.2, 0.4, 0.6, 0.8)
DOMINANCES = (0.2, 0.4, 0.6, 0.8)
#: The symbolic listener is asked this often (s), as the MIDI input actor publishes.
EVERY_S = 0.5
#: Audio frames left out at the start (the model card's warm-up: 1 s at hop 512).
WARMUP_FRAMES = 94
MODEL = REPO / "models" / "emotion.onnx"


def targets() -> list[PAD]:
    """16 points: valence × arousal on a grid, dominance a Latin square over it."""
    return [
        PAD(v, a, DOMINANCES[(i + j) % 4])
        for (i, v), (j, a) in itertools.product(enumerate(VALENCES), enumerate(AROUSALS))
    ]


def seconds_of(piece: Composition, beat: float) -> float:
    """A beat's time in seconds through the piece's tempo changes."""
    t, at, bpm = 0.0, 0.0, piece.tempo_changes[0].bpm
    for change in piece.tempo_changes[1:]:
        if change.beat >= beat:
            break
        t += (change.beat - at) * 60.0 / bpm
        at, bpm = change.beat, change.bpm
    return t + (beat - at) * 60.0 / bpm


def symbolic(piece: Composition, settings: ListenerSettings) -> tuple[float, float, float] | None:
    """The symbolic listener's mean estimate over the piece, as the live actor hears it."""
    channel = {t.name: t.channel for t in piece.tracks if not t.is_drums}
    # (time s, note-offs first, channel, pitch, velocity; 0 for a note-off)
    events: list[tuple[float, int, int, int, int]] = []
    for n in piece.notes:
        if n.track in channel:
            ch = channel[n.track]
            events.append((seconds_of(piece, n.start_beat), 1, ch, n.pitch, n.velocity))
            events.append((seconds_of(piece, n.end_beat), 0, ch, n.pitch, 0))
    events.sort()
    notes = NoteTracker(settings.stuck_s)
    estimates = []
    end = events[-1][0] if events else 0.0
    ask = 1.0
    for t, on, ch, pitch, velocity in [*events, (math.inf, 0, 0, 0, 0)]:
        while ask <= min(t, end):
            notes.expire(ask)
            est = estimate(notes.recent(ask, settings.window_s), ask, settings)
            if est is not None and est.confidence > 0:
                estimates.append((est.valence, est.arousal, est.dominance))
            ask += EVERY_S
        if on:
            notes.note_on(ch, pitch, velocity, t)
        elif t < math.inf:
            notes.note_off(ch, pitch, t)
    if not estimates:
        return None
    return tuple(float(x) for x in np.mean(estimates, axis=0))  # type: ignore[return-value]


def audio(piece: Composition, model, workdir: Path, name: str) -> tuple[float, float, float]:
    """The audio listener's mean estimate over the rendered piece."""
    mid, wav = workdir / f"{name}.mid", workdir / f"{name}.wav"
    midi_file.write(piece, mid)
    signal = render(mid, wav)
    _, feats = extract(signal, SAMPLE_RATE)
    h = np.zeros((1, 1, STATE_SIZE), np.float32)
    emotion, _, _ = model.run(feats[:, None, :], h, h.copy())
    frames = emotion[WARMUP_FRAMES:, 0, :3]
    return tuple(float(x) for x in frames.mean(axis=0))  # type: ignore[return-value]


def side(axis: str, x: float) -> bool:
    return x > 0.0 if axis == "valence" else x > 0.5


def scores(truth: np.ndarray, guess: np.ndarray, null: bool = False) -> dict:
    """Per-axis MAE, side agreement and r; quadrant accuracy. ``null``: a constant guess,
    whose side agreement is the majority side's share."""
    out: dict = {}
    for k, axis in enumerate(AXES):
        t, g = truth[:, k], guess[:, k]
        sides = np.array([side(axis, x) for x in t])
        if null:
            agree = max(sides.mean(), 1 - sides.mean())
            r = 0.0
        else:
            agree = float(np.mean(sides == np.array([side(axis, x) for x in g])))
            r = float(np.corrcoef(t, g)[0, 1]) if g.std() > 0 else 0.0
        out[axis] = {
            "mae": round(float(np.abs(t - g).mean()), 4),
            "side": round(float(agree), 4),
            "r": round(r, 3),
        }
    quad_t = [(side("valence", v), side("arousal", a)) for v, a, _ in truth]
    if null:
        counts = {q: quad_t.count(q) for q in set(quad_t)}
        out["quadrant"] = round(max(counts.values()) / len(quad_t), 4)
    else:
        quad_g = [(side("valence", v), side("arousal", a)) for v, a, _ in guess]
        hits = [x == y for x, y in zip(quad_t, quad_g, strict=True)]
        out["quadrant"] = round(float(np.mean(hits)), 4)
    out["mae_mean"] = round(float(np.mean([out[a]["mae"] for a in AXES])), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, 4 bars (< 1 min)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per target (default 3)")
    parser.add_argument("--bars", type=int, default=8, help="bars a piece (default 8)")
    args = parser.parse_args()
    seeds, bars = (1, 4) if args.quick else (args.seeds, args.bars)
    settings = ListenerSettings()
    model = load_model(MODEL)
    truth, sym, aud = [], [], []
    unheard = 0
    started = time.perf_counter()
    timings = {"compose": 0.0, "symbolic": 0.0, "audio": 0.0}
    with tempfile.TemporaryDirectory(prefix="kelly-midi-listener-") as tmp:
        for seed, (i, point) in itertools.product(range(seeds), enumerate(targets())):
            t0 = time.perf_counter()
            piece = compose_emotion(point, bars=bars, seed=seed)
            t1 = time.perf_counter()
            heard = symbolic(piece, settings)
            t2 = time.perf_counter()
            listened = audio(piece, model, Path(tmp), f"p{seed}-{i}")
            t3 = time.perf_counter()
            timings["compose"] += t1 - t0
            timings["symbolic"] += t2 - t1
            timings["audio"] += t3 - t2
            if heard is None:
                unheard += 1
                continue
            truth.append(point.as_tuple())
            sym.append(heard)
            aud.append(listened)
            print(
                f"seed {seed} target {point.as_tuple()}: symbolic "
                f"{tuple(round(x, 2) for x in heard)} audio {tuple(round(x, 2) for x in listened)}",
                flush=True,
            )
    t, s, a = np.array(truth), np.array(sym), np.array(aud)
    null = np.tile(t.mean(axis=0), (len(t), 1))
    result = {
        "benchmark": "midi_listener",
        "quick": args.quick,
        "pieces": len(t),
        "unheard": unheard,
        "targets": len(targets()),
        "seeds": seeds,
        "bars": bars,
        "symbolic": scores(t, s),
        "audio": scores(t, a),
        "null": scores(t, null, null=True),
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "wall_s": round(time.perf_counter() - started, 1),
        "python": platform.python_version(),
    }
    null_mae = result["null"]["mae_mean"]
    result["symbolic_mae_vs_null"] = round(result["symbolic"]["mae_mean"] / null_mae, 3)
    result["audio_mae_vs_null"] = round(result["audio"]["mae_mean"] / null_mae, 3)
    for name in ("symbolic", "audio", "null"):
        r = result[name]
        cells = "  ".join(f"{x[:1].upper()} {r[x]['mae']:.3f}/{r[x]['side']:.2f}" for x in AXES)
        print(f"{name:9s} MAE/side  {cells}  quadrant {r['quadrant']:.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
