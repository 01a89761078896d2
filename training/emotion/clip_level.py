"""Clip-level scores (issue 12): one reading per 6 s clip, with bootstrap intervals, against
baselines that get what the network gets.

A clip's reading is the mean over its frames after :data:`WARMUP_FRAMES` (the first second,
while the LSTM state fills), which is how the product and ``benchmarks/closed_loop.py`` read
a piece. Three baselines read the same clips:

* **clip-mean ridge**: ridge regression from the clip mean of the network's own inputs (the
  raw features it does not mask plus the 18 key features), the key features of the
  clip's mean chroma and, for a network that reads them, the clip mean of the beat
  resonators' tempo features, fitted on the training clips, its λ chosen on the validation
  clips (the network's early stopping sees those too);
* **rule**: mode and pace as the project's formulas write them, read back: valence ±0.5
  (the mean |valence| of a uniform label on each side) by whether the clip-mean chroma
  correlates better with a major or a minor key profile over the 12 transpositions; arousal
  from the clip's detected onsets a second, inverting the onset rate the performances are
  played at (:func:`~training.emotion.performances.onsets_per_second`: tempo × melody
  density); dominance the training mean (neither cue carries it);
* **mean**: the training labels' mean.

Every score is given with a 95 % percentile interval over :data:`RESAMPLES` bootstrap
resamples of the clips (seeded), the clip being the unit the labels vary by.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from kelly_actors.bus.frames import CHROMA, ONSET
from training.emotion.dataset import HOP_SIZE, SAMPLE_RATE, Dataset
from training.emotion.evaluate import AXES, HIGH, LOW, inputs, quadrant
from training.emotion.model import N_TEMPO_FEATURES, chroma_key_features
from training.emotion.train import WARMUP_FRAMES, clip_tempo_features

RESAMPLES = 1000
#: Ridge strengths the clip-mean baseline chooses from on the validation clips.
RIDGE_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0)
#: The rule baseline's valence for a detected major / minor mode.
RULE_VALENCE = 0.5
#: Targets of issue 12 at clip level, on the test and the validation split.
TARGETS = {"valence_r2": 0.5, "arousal_r2": 0.6, "quadrant_accuracy": 0.70}


#: Width of :func:`clip_inputs` without and with the tempo features.
CLIP_INPUTS = 164
CLIP_INPUTS_TEMPO = CLIP_INPUTS + N_TEMPO_FEATURES


def clip_inputs(frames: np.ndarray, tempo: bool = False) -> np.ndarray:
    """One clip's frames float32 (T, 128) → float64 (164,): the mean after the warm-up of
    the 128 raw features and of the 18 frame key features (:func:`inputs`), then the 18 key
    features of the clip's mean chroma (what a slow chroma average reads by the clip's end);
    with ``tempo`` (for a network that reads the beat resonators), (189,): then the mean
    after the warm-up of the 25 tempo features, streamed from the clip's start."""
    parts = []
    if tempo:
        parts.append(clip_tempo_features(frames)[WARMUP_FRAMES:].mean(0))
    frames = frames[WARMUP_FRAMES:]
    chroma = torch.from_numpy(frames[:, CHROMA].mean(0).astype(np.float32))
    with torch.no_grad():
        slow = chroma_key_features(chroma).numpy()
    return np.concatenate([inputs(frames, True).mean(0), slow, *parts]).astype(np.float64)


def clip_means(data: Dataset, clips: list[int], tempo: bool = False) -> np.ndarray:
    """float64 (n_clips, 164 or 189): :func:`clip_inputs` of each clip."""
    return np.stack([clip_inputs(data.clip(i), tempo) for i in clips])


@dataclass(frozen=True)
class ClipRidge:
    """y = ((x − mean) / std) @ weights + bias on clip-mean inputs ``x`` (n, n_in); a
    masked feature has std = inf and reads 0. weights (n_in, 3), bias (3,)."""

    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    ridge: float

    @property
    def tempo(self) -> bool:
        """Whether the fit reads the tempo features (:func:`clip_inputs`)."""
        return self.mean.shape[0] == CLIP_INPUTS_TEMPO

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = np.clip((x - self.mean) / self.std, -8, 8)
        return np.clip(z @ self.weights + self.bias, LOW, HIGH)

    def arrays(self) -> dict[str, np.ndarray]:
        """The fit as ``clip_*`` arrays, for ``emotion.baseline.npz``."""
        return {
            "clip_mean": self.mean,
            "clip_std": self.std,
            "clip_weights": self.weights,
            "clip_bias": self.bias,
            "clip_ridge": np.float64(self.ridge),
        }

    @classmethod
    def from_arrays(cls, saved) -> ClipRidge:
        """The fit back from :meth:`arrays` (a dict or a loaded ``.npz``)."""
        return cls(
            saved["clip_mean"],
            saved["clip_std"],
            saved["clip_weights"],
            saved["clip_bias"],
            float(saved["clip_ridge"]),
        )


def _fit_ridge(x: np.ndarray, y: np.ndarray, keep: np.ndarray, ridge: float) -> ClipRidge:
    mean, std = x.mean(0), np.maximum(x.std(0), 1e-6)
    std = np.where(keep, std, np.inf)
    z = np.clip((x - mean) / std, -8, 8)
    bias = y.mean(0)
    w = np.linalg.solve(z.T @ z + ridge * np.eye(z.shape[1]), z.T @ (y - bias))
    return ClipRidge(mean, std, w, bias, ridge)


def fit_clip_ridge(data: Dataset, keep: np.ndarray, tempo: bool = False) -> ClipRidge:
    """Ridge on the training clips' means; ``keep`` bool (128,) the raw features the network
    sees (the key features are always kept); λ from :data:`RIDGE_GRID` by the lowest
    validation squared error (valence halved, as the network's loss weighs it)."""
    train, val = data.clips("train"), data.clips("val")
    x, y = clip_means(data, train, tempo), data.labels[train].astype(np.float64)
    xv, yv = clip_means(data, val, tempo), data.labels[val].astype(np.float64)
    keep = np.concatenate([keep, np.ones(x.shape[1] - keep.shape[0], bool)])
    scale = np.array([0.5, 1.0, 1.0])

    def val_error(fit: ClipRidge) -> float:
        return float((((fit.predict(xv) - yv) * scale) ** 2).mean())

    return min((_fit_ridge(x, y, keep, lam) for lam in RIDGE_GRID), key=val_error)


def rule_predictions(data: Dataset, clips: list[int], dominance: float) -> np.ndarray:
    """float64 (n_clips, 3): the rule baseline (module docstring). The mode is read by the
    network's own key features of the clip-mean chroma: value 0 is the best major and
    value 1 the best minor key-profile correlation (:func:`chroma_key_features`)."""
    out = np.empty((len(clips), 3))
    for row, i in enumerate(clips):
        frames = data.clip(i)[WARMUP_FRAMES:]
        chroma = torch.from_numpy(frames[:, CHROMA].mean(0).astype(np.float32))
        with torch.no_grad():
            major, minor = chroma_key_features(chroma)[:2].tolist()
        per_second = frames[:, ONSET].sum() * SAMPLE_RATE / (HOP_SIZE * max(len(frames), 1))
        out[row] = (
            RULE_VALENCE if major >= minor else -RULE_VALENCE,
            arousal_of_onset_rate(float(per_second)),
            dominance,
        )
    return out


def arousal_of_onset_rate(per_second: float) -> float:
    """The arousal (0…1) whose onset rate (60 + 120·a)/60 · (0.5 + 3.5·a) onsets a second
    (formulas 1 and 4) is ``per_second``: the root of 7a² + 4.5a + 0.5 − rate, clipped."""
    root = (-4.5 + np.sqrt(4.5**2 - 28.0 * (0.5 - per_second))) / 14.0
    return float(np.clip(root, 0.0, 1.0))


def model_clip_predictions(frame_predictions: list[np.ndarray]) -> np.ndarray:
    """Per clip float (frames, ≥3) network outputs → (n_clips, 3) clip readings."""
    return np.stack([p[WARMUP_FRAMES:, :3].mean(0) for p in frame_predictions]).astype(np.float64)


def _scores(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(n, 3) each → [mae × 3, r2 × 3, quadrant accuracy]."""
    err = pred - truth
    var = ((truth - truth.mean(0)) ** 2).sum(0)
    r2 = np.where(var > 0, 1.0 - (err**2).sum(0) / np.where(var > 0, var, 1.0), 0.0)
    hits = quadrant(pred[:, 0], pred[:, 1]) == quadrant(truth[:, 0], truth[:, 1])
    return np.concatenate([np.abs(err).mean(0), r2, [hits.mean()]])


def scores(pred: np.ndarray, truth: np.ndarray, seed: int = 0) -> dict[str, object]:
    """Per axis MAE and R², and quadrant accuracy, each ``[value, low, high]`` (the 95 %
    bootstrap interval over clips). pred, truth: float (n_clips, 3)."""
    point = _scores(pred, truth)
    rng = np.random.default_rng(seed)
    n = len(truth)
    draws = np.stack([_scores(pred[idx], truth[idx]) for idx in rng.integers(0, n, (RESAMPLES, n))])
    low, high = np.percentile(draws, [2.5, 97.5], axis=0)

    def cell(k: int) -> list[float]:
        return [round(float(point[k]), 4), round(float(low[k]), 4), round(float(high[k]), 4)]

    out: dict[str, object] = {
        axis: {"mae": cell(k), "r2": cell(3 + k)} for k, axis in enumerate(AXES)
    }
    out["quadrant_accuracy"] = cell(6)
    return out


def evaluate_clips(
    frame_predictions: list[np.ndarray], data: Dataset, split: str, ridge: ClipRidge
) -> dict[str, object]:
    """Clip-level scores of the network (``frame_predictions``: per clip of ``split``, in
    ``data.clips(split)`` order) and of the three baselines, on the same clips."""
    clips = data.clips(split)
    truth = data.labels[clips].astype(np.float64)
    train_mean = data.labels[data.clips("train")].mean(0).astype(np.float64)
    readings = {
        "model": model_clip_predictions(frame_predictions),
        "clip_mean_ridge": ridge.predict(clip_means(data, clips, ridge.tempo)),
        "rule": rule_predictions(data, clips, float(train_mean[2])),
        "mean_baseline": np.repeat(train_mean[None], len(clips), 0),
    }
    result: dict[str, object] = {"clips": len(clips), "ridge": ridge.ridge}
    result.update({name: scores(pred, truth) for name, pred in readings.items()})
    result["targets_met"] = targets_met(result)
    result["beats"] = beats(result)
    return result


def targets_met(result: dict) -> dict[str, bool]:
    """Issue 12's clip-level targets on one split, by the point estimate."""
    m = result["model"]
    return {
        "valence_r2": m["valence"]["r2"][0] >= TARGETS["valence_r2"],
        "arousal_r2": m["arousal"]["r2"][0] >= TARGETS["arousal_r2"],
        "quadrant_accuracy": m["quadrant_accuracy"][0] >= TARGETS["quadrant_accuracy"],
    }


def beats(result: dict) -> dict[str, dict[str, bool]]:
    """Per baseline and axis: the network's R² above the baseline's (point estimates)."""
    m = result["model"]
    return {
        base: {a: m[a]["r2"][0] > result[base][a]["r2"][0] for a in AXES}
        for base in ("clip_mean_ridge", "rule", "mean_baseline")
    }
