"""PAD points, the thesaurus and intent trajectories."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_actors.composer.emotion import thesaurus
from kelly_actors.composer.emotion.intent import Strategy, plan
from kelly_actors.composer.emotion.pad import NEUTRAL, PAD, blend, quadrant

valences = st.floats(-1.0, 1.0)
units = st.floats(0.0, 1.0)
pads = st.builds(PAD, valences, units, units)


def test_pad_rejects_coordinates_outside_their_ranges():
    for bad in ((1.5, 0.5, 0.5), (0.0, -0.1, 0.5), (0.0, 0.5, 1.1), (float("nan"), 0.5, 0.5)):
        with pytest.raises(ValueError):
            PAD(*bad)


def test_clamped_pulls_points_onto_the_edges():
    assert PAD.clamped(3.0, -1.0, 2.0) == PAD(1.0, 0.0, 1.0)


@settings(deadline=None, database=None)
@given(pads, pads, st.floats(0.0, 1.0))
def test_lerp_stays_between_its_ends(a, b, t):
    p = a.lerp(b, t)
    assert p.distance(a) <= a.distance(b) + 1e-9


@settings(deadline=None, database=None)
@given(pads)
def test_negation_flips_valence_and_keeps_points_in_range(p):
    n = p.negated()
    assert n.valence * p.valence <= 0
    assert abs(n.valence) <= abs(p.valence)


def test_blend_is_the_weighted_mean():
    b = blend([(PAD(1.0, 1.0, 1.0), 3.0), (PAD(-1.0, 0.0, 0.0), 1.0)])
    assert b == PAD(0.5, 0.75, 0.75)


def test_blend_without_positive_weight_is_an_error():
    with pytest.raises(ValueError):
        blend([(NEUTRAL, 0.0)])


def test_quadrants_follow_valence_sign_and_arousal():
    assert quadrant(PAD(0.5, 0.8, 0.5)) == "positive-high"
    assert quadrant(PAD(-0.5, 0.2, 0.5)) == "negative-low"
    assert quadrant(PAD(0.0, 0.2, 0.5)) == "neutral-low"


def test_thesaurus_has_72_uniquely_named_emotions():
    names = [e.name for e in thesaurus.all_emotions()]
    assert len(names) == 72
    assert len(set(names)) == 72


def test_every_emotion_has_a_family_a_tier_synonyms_and_a_source():
    sources = {
        thesaurus.SOURCE_ALMA,
        thesaurus.SOURCE_PLACED,
        thesaurus.SOURCE_RUSSELL_MEHRABIAN,
    }
    for e in thesaurus.all_emotions():
        assert e.family in thesaurus.families()
        assert e.tier in (1, 2, 3)
        assert e.synonyms
        assert e.source in sources


def test_the_named_emotions_of_the_brief_are_present():
    for name in ("grief", "joy", "anger", "fear", "peace", "longing", "awe"):
        assert thesaurus.get(name).name == name


def test_families_sit_on_the_expected_side_of_valence():
    for family, sign in (("joy", 1), ("peace", 1), ("sadness", -1), ("fear", -1), ("anger", -1)):
        assert all(e.valence * sign > 0 for e in thesaurus.by_family(family))


def test_nearest_to_an_emotion_is_itself():
    for e in thesaurus.all_emotions():
        assert thesaurus.nearest(e.pad, 1)[0][0] is e


def test_lookup_finds_synonyms_and_phrases():
    assert thesaurus.lookup("Furious").name == "rage"
    assert thesaurus.lookup("at peace").name == "peace"
    assert thesaurus.lookup("broken-hearted").name == "heartbreak"
    assert thesaurus.lookup("xyzzy") is None


def test_blending_grief_and_joy_lands_between_them():
    mid = thesaurus.blend_emotions({"grief": 1, "joy": 1})
    assert thesaurus.get("grief").valence < mid.valence < thesaurus.get("joy").valence


def test_unknown_name_raises_key_error():
    with pytest.raises(KeyError):
        thesaurus.get("nope")


GRIEF = thesaurus.get("grief").pad
PEACE = thesaurus.get("peace").pad


def test_transform_starts_where_the_person_is_and_ends_at_the_goal():
    t = plan(GRIEF, PEACE, Strategy.TRANSFORM, 16)
    assert len(t) == 16
    assert t.points[0] == GRIEF
    assert t.points[-1] == PEACE


def test_transform_moves_step_by_step_never_backwards():
    t = plan(GRIEF, PEACE, "transform", 24)
    distances = [p.distance(PEACE) for p in t.points]
    assert all(b <= a + 1e-12 for a, b in itertools.pairwise(distances))
    steps = [a.distance(b) for a, b in zip(t.points, t.points[1:], strict=False)]
    assert max(steps) < GRIEF.distance(PEACE) / 4


def test_soothe_lowers_arousal_before_it_changes_valence():
    rage = thesaurus.get("rage").pad
    t = plan(rage, None, Strategy.SOOTHE, 16)
    half = t.points[8]
    assert half.arousal < rage.arousal - 0.4
    assert abs(half.valence - rage.valence) < 0.15
    assert t.points[-1] == PEACE


def test_soothe_caps_the_arousal_of_an_excited_goal():
    t = plan(GRIEF, thesaurus.get("euphoria").pad, Strategy.SOOTHE, 8)
    assert t.points[-1].arousal <= 0.35


def test_express_stays_with_the_current_emotion():
    t = plan(GRIEF, PEACE, Strategy.EXPRESS, 12)
    assert all(p.valence < -0.7 for p in t.points)
    assert t.points[0] == GRIEF


def test_transform_without_goal_heads_for_the_positive_counterpart():
    t = plan(GRIEF, None, Strategy.TRANSFORM, 8)
    assert t.points[-1].valence > 0


def test_single_bar_plan_is_the_target_and_zero_bars_is_an_error():
    assert plan(GRIEF, PEACE, Strategy.TRANSFORM, 1).points == (PEACE,)
    with pytest.raises(ValueError):
        plan(GRIEF, PEACE, Strategy.TRANSFORM, 0)
