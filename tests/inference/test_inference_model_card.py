"""The shipped emotion model and its card: the card names the file by sha256, its held-out
numbers beat every baseline, and the model itself, run here on clips rendered afresh (pieces
and emotions no training run saw, on a held-out instrument), scores as the card says."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pytest
from inference_support import SHIPPED, card

from kelly_actors.audio.features import extract
from kelly_actors.bus.frames import STATE_SIZE
from kelly_actors.inference.model import load_model
from training.emotion.dataset import FRAME_SIZE, HOP_SIZE, TEST_INSTRUMENTS
from training.emotion.evaluate import AXES, Linear, metrics
from training.emotion.performances import composed, random_target
from training.emotion.render import SAMPLE_RATE, render_all
from training.emotion.train import WARMUP_FRAMES

#: Fresh clips: composer seeds and PAD points far from the training run's (seeds 1000+).
FRESH_SEED = 9100
FRESH_CLIPS = 16
#: How far the fresh mean MAE (over the three axes) may sit from the card's test figure:
#: across fresh seeds it lands 0.02–0.035 above it (composer pieces only, one instrument),
#: while predicting the training mean lands 0.08–0.14 above it.
CARD_TOLERANCE = 0.07


def test_the_card_describes_the_shipped_file() -> None:
    meta = card()
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest() == meta["sha256"]
    assert load_model(SHIPPED).version == meta["model_version"]
    assert (SHIPPED.parent / "emotion.md").read_text().count(meta["model_version"]) == 1


def test_on_held_out_pieces_and_instruments_the_card_says_the_network_beats_every_baseline() -> (
    None
):
    test = card()["evaluation"]["test"]
    model = test["model"]
    for baseline in ("mean_baseline", "linear_baseline", "linear_all_features"):
        for axis in AXES:
            assert model[axis]["mae"] < test[baseline][axis]["mae"], (baseline, axis)
            assert model[axis]["r2"] > test[baseline][axis]["r2"], (baseline, axis)
        assert model["quadrant_accuracy"] > test[baseline]["quadrant_accuracy"], baseline
    data = card()["data"]
    assert not set(data["train"]["pieces"]) & set(data["test"]["pieces"])
    assert not set(data["train"]["instruments"]) & set(data["test"]["instruments"])
    assert not set(data["val"]["pieces"]) & set(data["test"]["pieces"])
    assert not set(data["val"]["instruments"]) & set(data["test"]["instruments"])


def _fresh_scores() -> dict[str, dict]:
    """Model, linear baseline and training-mean baseline scored on the same fresh frames
    (after the card's warm-up), as :func:`training.emotion.evaluate.evaluate` scores them."""
    rng = random.Random(FRESH_SEED)
    points = [random_target(rng) for _ in range(FRESH_CLIPS)]
    perfs = [composed(p, seed=FRESH_SEED + i, seconds=6.0) for i, p in enumerate(points)]
    (instrument,) = [i for i in TEST_INSTRUMENTS if i.renderer == "ddsp"]
    signals = render_all(instrument, perfs)
    saved = np.load(SHIPPED.parent / "emotion.baseline.npz")
    linear = Linear(
        saved["mean"], saved["std"], saved["weights"], saved["bias"], bool(saved["key"])
    )
    model = load_model(SHIPPED)
    truth, by_model, by_linear = [], [], []
    for point, signal in zip(points, signals, strict=True):
        _, frames = extract(signal, SAMPLE_RATE, FRAME_SIZE, HOP_SIZE)
        zero = np.zeros((1, 1, STATE_SIZE), np.float32)
        emotion, _, _ = model.run(frames[:, None, :], zero, zero)
        scored = frames.shape[0] - WARMUP_FRAMES
        truth.append(np.repeat(np.array([point.as_tuple()]), scored, 0))
        by_model.append(emotion[WARMUP_FRAMES:, 0, :3])
        by_linear.append(linear.predict(frames[WARMUP_FRAMES:]))
    truth_a = np.concatenate(truth)
    return {
        "model": metrics(np.concatenate(by_model), truth_a),
        "linear_baseline": metrics(np.concatenate(by_linear), truth_a),
        "mean_baseline": metrics(np.repeat(saved["label_mean"][None], len(truth_a), 0), truth_a),
    }


def _mean_mae(scores: dict) -> float:
    return float(np.mean([scores[axis]["mae"] for axis in AXES]))


@pytest.mark.slow
def test_the_shipped_model_scores_fresh_clips_as_its_card_says() -> None:
    fresh = _fresh_scores()
    model = _mean_mae(fresh["model"])
    for baseline in ("mean_baseline", "linear_baseline"):
        assert model < _mean_mae(fresh[baseline]), (baseline, fresh)
    claimed = _mean_mae(card()["evaluation"]["test"]["model"])
    assert abs(model - claimed) < CARD_TOLERANCE, (model, claimed, fresh)
