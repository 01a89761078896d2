"""Held-out metrics for the model and two baselines, on the same frames.

* **mean**: always predicts the training labels' mean.
* **linear**: ridge regression (λ = 1) from the standardised features of one frame — the
  same inputs the network's first layer gets (the raw features it does not mask plus the
  18 key features, :func:`~training.emotion.model.key_features`) — to (valence, arousal,
  dominance), fitted on the training frames, clipped to the ranges;
  **linear_all**: the same on all 128 raw features.
* **model**: the exported ONNX file run by onnxruntime over each whole clip from a zero state.

Metrics per axis: MAE and R² over all test frames after :data:`WARMUP_FRAMES`; 4-quadrant
accuracy: sign of valence × arousal above/below 0.5, per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from training.emotion.dataset import Dataset
from training.emotion.model import key_features
from training.emotion.train import WARMUP_FRAMES

AXES = ("valence", "arousal", "dominance")
LOW = np.array([-1.0, 0.0, 0.0], np.float32)
HIGH = np.array([1.0, 1.0, 1.0], np.float32)
RIDGE = 1.0


def inputs(x: np.ndarray, key: bool) -> np.ndarray:
    """Raw frames (n, 128) → (n, 146) with the key features appended, or as they are."""
    if not key:
        return x
    with torch.no_grad():
        k = key_features(torch.from_numpy(np.ascontiguousarray(x, np.float32))).numpy()
    return np.concatenate([x, k], axis=1)


@dataclass(frozen=True)
class Linear:
    """y = ((inputs(x) − mean) / std) @ weights + bias; weights (n_in, 3), mean/std (n_in,),
    bias (3,); n_in = 146 with the key features (``key``), else 128."""

    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    key: bool = False

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = np.clip((inputs(x, self.key) - self.mean) / self.std, -8, 8)
        return np.clip(z @ self.weights + self.bias, LOW, HIGH)


def fit_linear(data: Dataset, keep: np.ndarray | None = None, key: bool = False) -> Linear:
    """Ridge fit on the training frames; ``keep`` bool (128,) selects raw features (None =
    all); ``key`` adds the key features."""
    clips = data.clips("train")
    raw = np.concatenate([data.clip(i)[WARMUP_FRAMES:] for i in clips])
    x = inputs(raw, key).astype(np.float64)
    y = np.concatenate(
        [np.repeat(data.labels[i][None], data.clip(i).shape[0] - WARMUP_FRAMES, 0) for i in clips]
    )
    mean, std = x.mean(0), np.maximum(x.std(0), 1e-6)
    if keep is not None:
        keep = np.concatenate([keep, np.ones(x.shape[1] - keep.shape[0], bool)])
        std = np.where(keep, std, np.inf)  # a dropped feature standardises to 0
    z = np.clip((x - mean) / std, -8, 8)
    bias = y.mean(0)
    w = np.linalg.solve(z.T @ z + RIDGE * np.eye(z.shape[1]), z.T @ (y - bias))
    return Linear(mean, std, w, bias, key)


def quadrant(v: np.ndarray, a: np.ndarray) -> np.ndarray:
    return (v >= 0).astype(int) * 2 + (a >= 0.5).astype(int)


def metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, float | dict[str, float]]:
    """pred, truth: float (n, 3). MAE and R² per axis, quadrant accuracy."""
    out: dict[str, float | dict[str, float]] = {}
    for k, axis in enumerate(AXES):
        err = pred[:, k] - truth[:, k]
        var = float(np.sum((truth[:, k] - truth[:, k].mean()) ** 2))
        out[axis] = {
            "mae": round(float(np.abs(err).mean()), 4),
            "r2": round(1.0 - float(np.sum(err**2)) / var, 4) if var > 0 else 0.0,
        }
    hits = quadrant(pred[:, 0], pred[:, 1]) == quadrant(truth[:, 0], truth[:, 1])
    out["quadrant_accuracy"] = round(float(hits.mean()), 4)
    return out


def model_predictions(session, data: Dataset, clips: list[int]) -> list[np.ndarray]:
    """onnxruntime over each clip from a zero state → per clip float32 (frames, 4)."""
    out = []
    for i in clips:
        x = data.clip(i)[:, None, :]
        zeros = np.zeros((1, 1, 128), np.float32)
        emotion = session.run(["emotion"], {"features": x, "h": zeros, "c": zeros})[0]
        out.append(emotion[:, 0, :])
    return out


def evaluate(
    session, data: Dataset, split: str, linear: Linear, linear_all: Linear
) -> dict[str, object]:
    """Metrics of model, mean and linear on ``split``, scored on the same frames."""
    clips = data.clips(split)
    preds = model_predictions(session, data, clips)
    truth, model, lin, lin_all = [], [], [], []
    for i, pred in zip(clips, preds, strict=True):
        frames = data.clip(i)[WARMUP_FRAMES:]
        truth.append(np.repeat(data.labels[i][None], frames.shape[0], 0))
        model.append(pred[WARMUP_FRAMES:, :3])
        lin.append(linear.predict(frames))
        lin_all.append(linear_all.predict(frames))
    truth_a = np.concatenate(truth)
    train_mean = data.labels[data.clips("train")].mean(0)
    return {
        "clips": len(clips),
        "frames": int(truth_a.shape[0]),
        "model": metrics(np.concatenate(model), truth_a),
        "mean_baseline": metrics(np.repeat(train_mean[None], truth_a.shape[0], 0), truth_a),
        "linear_baseline": metrics(np.concatenate(lin), truth_a),
        "linear_all_features": metrics(np.concatenate(lin_all), truth_a),
        "mean_confidence": round(
            float(np.concatenate([p[WARMUP_FRAMES:, 3] for p in preds]).mean()), 4
        ),
    }


def beats_baselines(result: dict[str, object]) -> bool:
    """True when the model's MAE is lower and its R² higher than every baseline's on every
    axis, and its quadrant accuracy is higher."""
    model = result["model"]
    for base in ("mean_baseline", "linear_baseline", "linear_all_features"):
        other = result[base]
        if any(model[a]["mae"] >= other[a]["mae"] for a in AXES):
            return False
        if any(model[a]["r2"] <= other[a]["r2"] for a in AXES):
            return False
        if model["quadrant_accuracy"] <= other["quadrant_accuracy"]:
            return False
    return True
