"""The five emotion → music formulas and the further parameters."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_actors.composer import mapper
from kelly_actors.composer.emotion import thesaurus
from kelly_actors.composer.emotion.pad import PAD


@pytest.mark.parametrize(("arousal", "bpm"), [(0.0, 60.0), (0.5, 120.0), (1.0, 180.0)])
def test_tempo_is_60_plus_120_arousal(arousal, bpm):
    assert mapper.tempo_bpm(arousal) == bpm


@pytest.mark.parametrize(("dominance", "velocity"), [(0.0, 60.0), (0.5, 93.5), (1.0, 127.0)])
def test_velocity_is_60_plus_67_dominance(dominance, velocity):
    assert mapper.velocity(dominance) == velocity


@pytest.mark.parametrize(
    ("valence", "mode"),
    [
        (1.0, "lydian"),
        (0.85, "lydian"),
        (0.5, "ionian"),
        (0.25, "ionian"),
        (0.1, "mixolydian"),
        (0.0, "dorian"),
        (-0.2, "dorian"),
        (-0.5, "aeolian"),
        (-0.8, "phrygian"),
        (-1.0, "phrygian"),
    ],
)
def test_mode_follows_valence_from_dark_to_bright(valence, mode):
    assert mapper.mode_for(valence) == mode


@pytest.mark.parametrize(("arousal", "density"), [(0.0, 0.5), (0.5, 2.25), (1.0, 4.0)])
def test_density_is_half_plus_three_and_a_half_arousal(arousal, density):
    assert mapper.note_density(arousal) == density


def test_brightness_and_register_span_their_ranges():
    assert mapper.brightness(-1.0, 0.0) == pytest.approx(0.0, abs=1e-12)
    assert mapper.brightness(1.0, 1.0) == pytest.approx(1.0)
    assert mapper.brightness(0.0, 0.5) == 0.5
    assert mapper.register_shift(-1.0, 0.0) == -7
    assert mapper.register_shift(1.0, 1.0) == 7
    assert mapper.register_shift(0.0, 0.5) == 0


@settings(deadline=None, database=None)
@given(st.floats(-1, 1), st.floats(0, 1), st.floats(0, 1))
def test_every_parameter_stays_in_its_documented_range(v, a, d):
    p = mapper.map_emotion(PAD(v, a, d))
    assert 60 <= p.tempo_bpm <= 180
    assert 60 <= p.velocity <= 127
    assert 0.5 <= p.density <= 4.0
    assert -7 <= p.register_shift <= 7
    assert 0 <= p.tension <= 1
    assert 0 <= p.dissonance <= 1
    assert 0 <= p.swing <= 0.3
    assert 0.35 <= p.legato <= 1.0
    assert p.articulation in {"legato", "normal", "staccato"}


def test_grief_is_more_tense_and_dissonant_than_joy():
    grief = mapper.map_emotion(thesaurus.get("grief").pad)
    joy = mapper.map_emotion(thesaurus.get("joy").pad)
    assert grief.tension > joy.tension
    assert grief.dissonance > joy.dissonance


def test_calm_music_is_legato_and_agitated_music_detached():
    assert mapper.map_emotion(thesaurus.get("serenity").pad).articulation == "legato"
    assert mapper.map_emotion(thesaurus.get("rage").pad).articulation == "staccato"


def test_hysteresis_keeps_the_mode_near_a_boundary():
    assert mapper.mode_with_hysteresis(0.23, "ionian") == "ionian"
    assert mapper.mode_with_hysteresis(0.23, None) == "mixolydian"
    assert mapper.mode_with_hysteresis(0.1, "ionian") == "mixolydian"


def test_params_round_trip_through_json():
    p = mapper.map_emotion(thesaurus.get("longing").pad)
    assert mapper.MusicalParams.from_dict(json.loads(json.dumps(p.to_dict()))) == p
