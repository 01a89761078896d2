"""The shipped model: its card's held-out numbers beat both baselines, and a fresh
held-out sample rendered here agrees."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from inference_support import SHIPPED, card

from kelly_actors.audio.features import extract
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.inference.model import load_model
from training.emotion.performances import composed
from training.emotion.render import Instrument, render_all
from training.emotion.train import WARMUP_FRAMES


def test_the_card_describes_the_shipped_file() -> None:
    meta = card()
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest() == meta["sha256"]
    assert load_model(SHIPPED).version == meta["model_version"]
    assert (SHIPPED.parent / "emotion.md").read_text().count(meta["model_version"]) == 1


def test_on_held_out_pieces_and_instruments_the_network_beats_every_baseline() -> None:
    test = card()["evaluation"]["test"]
    model = test["model"]
    for baseline in ("mean_baseline", "linear_baseline", "linear_all_features"):
        for axis in ("valence", "arousal", "dominance"):
            assert model[axis]["mae"] < test[baseline][axis]["mae"], (baseline, axis)
            assert model[axis]["r2"] > test[baseline][axis]["r2"], (baseline, axis)
        assert model["quadrant_accuracy"] > test[baseline]["quadrant_accuracy"], baseline
    data = card()["data"]
    assert not set(data["train"]["pieces"]) & set(data["test"]["pieces"])
    assert not set(data["train"]["instruments"]) & set(data["test"]["instruments"])
    assert not set(data["val"]["pieces"]) & set(data["test"]["pieces"])
    assert not set(data["val"]["instruments"]) & set(data["test"]["instruments"])


@pytest.mark.slow
def test_a_fresh_held_out_sample_is_estimated_better_than_predicting_the_mean() -> None:
    baseline = np.load(SHIPPED.parent / "emotion.baseline.npz")
    model = load_model(SHIPPED)
    points = [PAD(-0.8, 0.15, 0.2), PAD(0.8, 0.9, 0.85), PAD(-0.6, 0.85, 0.8), PAD(0.7, 0.2, 0.3)]
    # Composer pieces with seeds no training piece used, on a held-out instrument.
    perfs = [composed(p, seed=5000 + i, seconds=6.0) for i, p in enumerate(points)]
    signals = render_all(Instrument("ddsp_brass", "ddsp", preset="brass"), perfs)
    err_model, err_mean = [], []
    for point, signal in zip(points, signals, strict=True):
        _, feats = extract(signal, 48_000, 2048, 512)
        h = np.zeros((1, 1, 128), np.float32)
        emotion, _, _ = model.run(feats[:, None, :], h, h)
        truth = np.array(point.as_tuple())
        err_model.append(np.abs(emotion[WARMUP_FRAMES:, 0, :3] - truth).mean(0))
        err_mean.append(np.abs(baseline["label_mean"] - truth))
    assert np.mean(err_model) < np.mean(err_mean), (np.mean(err_model, 0), np.mean(err_mean, 0))
