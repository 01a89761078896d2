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
from training.emotion.clip_level import ClipRidge, clip_inputs, model_clip_predictions
from training.emotion.clip_level import scores as clip_scores
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
    evaluation = card()["evaluation"]
    test = evaluation["test"]
    model = test["model"]
    for baseline in ("mean_baseline", "linear_baseline", "linear_all_features"):
        for axis in AXES:
            assert model[axis]["mae"] < test[baseline][axis]["mae"], (baseline, axis)
        assert model["quadrant_accuracy"] > test[baseline]["quadrant_accuracy"], baseline
    # R² per axis is compared clip by clip (issue 12): a one-frame ridge against a network
    # that integrates seconds is not the fair comparison; the clip-mean ridge and the rule
    # read what the network reads, one reading per clip, as the product does.
    for split in ("test", "val"):
        beats = evaluation["clip_level"][split]["beats"]
        for baseline in ("clip_mean_ridge", "rule", "mean_baseline"):
            assert all(beats[baseline][axis] for axis in AXES), (split, baseline, beats)
    data = card()["data"]
    assert not set(data["train"]["pieces"]) & set(data["test"]["pieces"])
    assert not set(data["train"]["instruments"]) & set(data["test"]["instruments"])
    assert not set(data["val"]["pieces"]) & set(data["test"]["pieces"])
    assert not set(data["val"]["instruments"]) & set(data["test"]["instruments"])


@pytest.fixture(scope="module")
def fresh() -> dict[str, object]:
    """Fresh clips on the held-out DDSP instrument: their PAD points (n, 3), frames (T, 128)
    and the shipped model's frame readings (T, 4), one each per clip."""
    rng = random.Random(FRESH_SEED)
    points = [random_target(rng) for _ in range(FRESH_CLIPS)]
    perfs = [composed(p, seed=FRESH_SEED + i, seconds=6.0) for i, p in enumerate(points)]
    (instrument,) = [i for i in TEST_INSTRUMENTS if i.renderer == "ddsp"]
    model = load_model(SHIPPED)
    frames, readings = [], []
    for signal in render_all(instrument, perfs):
        _, clip = extract(signal, SAMPLE_RATE, FRAME_SIZE, HOP_SIZE)
        zero = np.zeros((1, 1, STATE_SIZE), np.float32)
        emotion, _, _ = model.run(clip[:, None, :], zero, zero)
        frames.append(clip)
        readings.append(emotion[:, 0, :])
    truth = np.array([p.as_tuple() for p in points], np.float64)
    return {"truth": truth, "frames": frames, "readings": readings}


def _fresh_scores(fresh: dict) -> dict[str, dict]:
    """Model, linear baseline and training-mean baseline scored on the same fresh frames
    (after the card's warm-up), as :func:`training.emotion.evaluate.evaluate` scores them."""
    saved = np.load(SHIPPED.parent / "emotion.baseline.npz")
    linear = Linear(
        saved["mean"], saved["std"], saved["weights"], saved["bias"], bool(saved["key"])
    )
    truth, by_model, by_linear = [], [], []
    for point, frames, reading in zip(
        fresh["truth"], fresh["frames"], fresh["readings"], strict=True
    ):
        scored = frames.shape[0] - WARMUP_FRAMES
        truth.append(np.repeat(point[None], scored, 0))
        by_model.append(reading[WARMUP_FRAMES:, :3])
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
def test_the_shipped_model_scores_fresh_clips_as_its_card_says(fresh) -> None:
    scores = _fresh_scores(fresh)
    model = _mean_mae(scores["model"])
    for baseline in ("mean_baseline", "linear_baseline"):
        assert model < _mean_mae(scores[baseline]), (baseline, scores)
    claimed = _mean_mae(card()["evaluation"]["test"]["model"])
    assert abs(model - claimed) < CARD_TOLERANCE, (model, claimed, scores)


def _clip_valence_r2(fresh: dict) -> dict[str, float]:
    """Valence R² of one reading per fresh clip: the shipped model, the clip-mean ridge of
    ``emotion.baseline.npz`` and the training mean (issue 12: valence on its own axis, so a
    model whose valence is useless cannot hide behind the other two)."""
    saved = np.load(SHIPPED.parent / "emotion.baseline.npz")
    ridge = ClipRidge.from_arrays(saved)
    truth = fresh["truth"]
    readings = {
        "model": model_clip_predictions(fresh["readings"]),
        "clip_mean_ridge": ridge.predict(np.stack([clip_inputs(f) for f in fresh["frames"]])),
        "mean": np.repeat(saved["label_mean"][None].astype(np.float64), len(truth), 0),
    }
    return {name: clip_scores(pred, truth)["valence"]["r2"][0] for name, pred in readings.items()}


@pytest.mark.slow
def test_on_fresh_clips_the_valence_reading_beats_the_training_mean(fresh) -> None:
    r2 = _clip_valence_r2(fresh)
    assert r2["model"] > r2["mean"], r2


@pytest.mark.slow
def test_on_fresh_clips_the_valence_reading_beats_the_clip_mean_ridge(fresh) -> None:
    # emotion-0af4b50e69f8: 0.43 against 0.33 (the mean -0.07) on these 16 clips.
    r2 = _clip_valence_r2(fresh)
    assert r2["model"] > r2["clip_mean_ridge"], r2
