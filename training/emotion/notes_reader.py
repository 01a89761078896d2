"""How much valence the notes of a clip tell, heard perfectly: a reference for the listener.

``python -m training.emotion.notes_reader [--seed 0] [--takes 32]`` plans the data set's
clips (:func:`~training.emotion.dataset.plan_clips`, no audio rendered) and fits a small
network on the exact notes of the training clips: the duration-weighted pitch-class shares
of all notes and of those below the clip's median pitch, each read from the diatonic
collection that matches the clip best (:func:`note_shares`). It then reads valence on the
held-out clips of the shipped plan — the clips the model card scores — and prints their
R² (95 % bootstrap interval over clips) and valence-sign agreement, as one JSON object on
its last line. The reading is the mean of ``--readers`` networks fitted from different
initialisations.

The reader hears no timbre, no room and no noise, so where the audio listener does worse
on a split, what is lost is in the hearing; where it does better, it uses what these 24
shares leave out (order, rhythm, the melody's line). Training clips come from a plan with
``--takes`` performances of each training piece (symbolic clips cost no rendering), the
same training pieces as the shipped plan; the held-out clips are the shipped plan's.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from training.emotion.dataset import Clip, DataConfig, plan_clips
from training.emotion.model import DIATONIC
from training.emotion.performances import Performance

#: Full-batch Adam steps, learning rate and weight decay: fixed, not tuned on any split.
STEPS = 1500
LEARNING_RATE = 3e-3
WEIGHT_DECAY = 1e-4
RESAMPLES = 1000


def note_shares(performance: Performance) -> np.ndarray:
    """float32 (24,): duration-weighted pitch-class shares of all notes (0–11) and of the
    notes below their median pitch (12–23), both rotated so value ``j`` is pitch class
    ``r + j``, with ``r`` the transposition of :data:`DIATONIC` that matches all notes best
    (each half sums to 1, or is 0 where it has no notes)."""
    pitch = np.array([n.pitch for n in performance.notes], dtype=np.int64)
    seconds = np.array([n.duration for n in performance.notes], dtype=np.float64)
    every = np.bincount(pitch % 12, seconds, minlength=12)
    low = pitch < np.median(pitch) if len(pitch) else pitch.astype(bool)
    bass = np.bincount(pitch[low] % 12, seconds[low], minlength=12)
    collection = np.array(DIATONIC, dtype=np.float64) - np.mean(DIATONIC)
    fit = [every @ np.roll(collection, r) for r in range(12)]
    order = (int(np.argmax(fit)) + np.arange(12)) % 12
    halves = [h[order] / h.sum() if h.sum() > 0 else h[order] for h in (every, bass)]
    return np.concatenate(halves).astype(np.float32)


def reader_inputs(clips: list[Clip]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`note_shares` of ``clips`` (n, 24) float32 and their valence labels (n,)
    float32."""
    x = np.stack([note_shares(c.performance) for c in clips])
    return x, np.array([c.performance.target[0] for c in clips], dtype=np.float32)


def fit_reader(x: np.ndarray, valence: np.ndarray, seed: int) -> nn.Module:
    """An MLP 24 → 128 → 64 → 1 (tanh, −1…1) fitted by mean squared error on ``x`` (n, 24)
    and ``valence`` (n,), with :data:`STEPS` full-batch Adam steps from ``seed``."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Linear(x.shape[1], 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 1)
    )
    opt = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    inputs, target = torch.from_numpy(x), torch.from_numpy(valence)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = (torch.tanh(net(inputs)[:, 0]) - target).square().mean()
        loss.backward()
        opt.step()
    return net.eval()


def read(net: nn.Module, x: np.ndarray) -> np.ndarray:
    """float64 (n,) valence readings of ``x`` (n, 24)."""
    with torch.no_grad():
        return torch.tanh(net(torch.from_numpy(x))[:, 0]).double().numpy()


def r2(pred: np.ndarray, truth: np.ndarray) -> float:
    """Coefficient of determination of ``pred`` for ``truth`` (n,) each; 0 where ``truth``
    does not vary (a bootstrap draw of one clip)."""
    spread = ((truth - truth.mean()) ** 2).sum()
    return float(1.0 - ((pred - truth) ** 2).sum() / spread) if spread > 0 else 0.0


def r2_with_interval(pred: np.ndarray, truth: np.ndarray, seed: int = 0) -> list[float]:
    """[R², low, high]: the 95 % bootstrap interval over clips (n,) each."""
    rng = np.random.default_rng(seed)
    n = len(truth)
    draws = [r2(pred[i], truth[i]) for i in rng.integers(0, n, (RESAMPLES, n))]
    low, high = np.percentile(draws, [2.5, 97.5])
    return [round(r2(pred, truth), 4), round(float(low), 4), round(float(high), 4)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.emotion.notes_reader")
    p.add_argument("--seed", type=int, default=0, help="the data set's seed (the shipped: 0)")
    p.add_argument("--takes", type=int, default=32, help="training takes of each piece")
    p.add_argument("--readers", type=int, default=5, help="readers averaged (seeds 0 on)")
    args = p.parse_args(argv)
    if args.takes < 1 or args.readers < 1:
        p.error("--takes and --readers must be at least 1")
    torch.set_num_threads(1)
    shipped = DataConfig(seed=args.seed)
    training = [c for c in plan_clips(replace(shipped, takes=args.takes)) if c.split == "train"]
    x, y = reader_inputs(training)
    nets = [fit_reader(x, y, seed) for seed in range(args.readers)]
    held = plan_clips(shipped)
    result: dict[str, object] = {"train_clips": len(y), "takes": args.takes, "readers": len(nets)}
    for split in ("val", "test"):
        clips = [c for c in held if c.split == split]
        xs, labels = reader_inputs(clips)
        truth = labels.astype(np.float64)
        pred = np.mean([read(net, xs) for net in nets], axis=0)
        result[split] = {
            "clips": len(clips),
            "valence_r2": r2_with_interval(pred, truth),
            "valence_sign": round(float(np.mean(np.sign(pred) == np.sign(truth))), 4),
        }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
