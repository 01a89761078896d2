"""The shipped transformer and its card: the card names the file by sha256, the model itself
reproduces the card's controllability figures with the card's seed, and on fresh seeds
its tempo still follows arousal as the card claims; scale-aware decoding keeps notes in
the key."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from kelly_actors.music.theory import Key
from kelly_actors.transformer.generate import GenerationConfig, Generator
from kelly_actors.transformer.session import StepSession
from kelly_actors.transformer.tokens import decode
from training.transformer.card import controllability

MODEL = Path(__file__).resolve().parents[2] / "models" / "transformer.onnx"
CARD = json.loads(MODEL.with_suffix(".json").read_text())
#: The issue's target for the tempo ~ arousal rank correlation.
TEMPO_AROUSAL_TARGET = 0.3
#: Fresh seeds land within about ±0.2 of the card's figure (20 pieces per corner); a model
#: that ignores arousal scatters around 0 with a standard deviation of about 0.11.
FRESH_TOLERANCE = 0.3


@pytest.fixture(scope="module")
def session() -> StepSession:
    return StepSession(MODEL)


def _without_timing(figures: dict) -> dict:
    return {k: v for k, v in figures.items() if k != "seconds"}


def test_the_card_describes_the_shipped_file(session: StepSession) -> None:
    assert CARD["file"] == MODEL.name
    assert hashlib.sha256(MODEL.read_bytes()).hexdigest() == CARD["sha256"]
    assert session.metadata["kelly.parameters"] == str(CARD["parameters"])
    assert CARD["sha256"] in MODEL.with_suffix(".md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("figures", "scale_aware"),
    [("controllability", False), ("controllability_scale_aware", True)],
)
def test_the_model_reproduces_the_cards_controllability_with_its_seed(
    session: StepSession, figures: str, scale_aware: bool
) -> None:
    claimed = CARD[figures]
    generator = Generator(session, GenerationConfig(scale_aware=scale_aware))
    measured, _ = controllability(
        generator,
        claimed["pieces_per_corner"],
        claimed["bars_per_piece"],
        CARD["train_config"]["seed"],
    )
    assert _without_timing(measured) == _without_timing(claimed)


@pytest.mark.slow
def test_on_fresh_seeds_tempo_follows_arousal_as_the_card_claims(session: StepSession) -> None:
    free = Generator(session, GenerationConfig(scale_aware=False))
    measured, _ = controllability(free, pieces=20, bars=8, seed=4242)
    fresh, claimed = measured["spearman_tempo_arousal"], CARD["controllability"]
    assert fresh > TEMPO_AROUSAL_TARGET, measured
    assert abs(fresh - claimed["spearman_tempo_arousal"]) < FRESH_TOLERANCE, measured


def test_the_card_reports_both_decodings_and_the_live_one_follows_valence() -> None:
    assert CARD["decoding"]["live_and_offline"] == "scale-aware"
    assert GenerationConfig().scale_aware
    assert list(GenerationConfig().triad_emphasis) == CARD["decoding"]["triad_emphasis_nats"]
    aware = CARD["controllability_scale_aware"]
    assert aware["mode_matches_valence_sign"] >= 0.8
    assert aware["spearman_tempo_arousal"] > TEMPO_AROUSAL_TARGET
    assert 0.0 <= CARD["controllability"]["mode_matches_valence_sign"] <= 1.0


def test_scale_aware_generation_stays_in_the_key_it_is_given(session: StepSession) -> None:
    key = Key(2, "aeolian")
    generator = Generator(session)
    piece = decode(generator.piece(-0.5, 0.5, 2, np.random.default_rng(3), key=key))
    pitched = [n for b in piece for n in b.notes if n.track != "drums"]
    assert pitched and all(key.contains(n.pitch) for n in pitched)
