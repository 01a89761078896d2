"""The shipped model card: its controllability figures meet the issue's targets with the
decoding the composer uses, and scale-aware decoding keeps notes in the key."""

from __future__ import annotations

import json

import numpy as np

from kelly_actors.music.theory import Key
from kelly_actors.transformer.generate import GenerationConfig, Generator
from kelly_actors.transformer.session import DEFAULT_MODEL, StepSession
from kelly_actors.transformer.tokens import decode

CARD = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text())


def test_the_card_reports_both_decodings_and_the_live_one_follows_valence() -> None:
    assert CARD["decoding"]["live_and_offline"] == "scale-aware"
    assert GenerationConfig().scale_aware
    assert list(GenerationConfig().triad_emphasis) == CARD["decoding"]["triad_emphasis_nats"]
    aware = CARD["controllability_scale_aware"]
    assert aware["mode_matches_valence_sign"] >= 0.8
    assert aware["spearman_tempo_arousal"] > 0.3
    assert 0.0 <= CARD["controllability"]["mode_matches_valence_sign"] <= 1.0


def test_scale_aware_generation_stays_in_the_key_it_is_given() -> None:
    key = Key(2, "aeolian")
    generator = Generator(StepSession())
    piece = decode(generator.piece(-0.5, 0.5, 2, np.random.default_rng(3), key=key))
    pitched = [n for b in piece for n in b.notes if n.track != "drums"]
    assert pitched and all(key.contains(n.pitch) for n in pitched)
