"""Emotion fusion: text, neural estimates and performer overrides → one PAD per bar."""

from __future__ import annotations

import pytest

from kelly_actors.composer.emotion.pad import NEUTRAL, PAD
from kelly_actors.composer.emotion.text import analyse
from kelly_actors.composer.live.fusion import EmotionFusion, FusionError, FusionSettings, pad_from


def fusion(**settings: object) -> EmotionFusion:
    return EmotionFusion(FusionSettings(**settings), NEUTRAL)


def test_without_any_source_the_start_emotion_keeps_playing() -> None:
    f = fusion()
    assert f.next_bar(0.0).point == NEUTRAL
    assert f.next_bar(1.0).source == "initial"


def test_a_performer_override_lands_at_the_next_bar_with_full_confidence() -> None:
    f = fusion()
    f.set_emotion(PAD(-0.5, 0.8, 0.4))
    bar = f.next_bar(0.0)
    assert bar.point == PAD(-0.5, 0.8, 0.4)
    assert (bar.confidence, bar.source) == (1.0, "performer")
    assert f.target is None


def test_text_with_a_desire_plans_a_journey_that_ends_on_the_target() -> None:
    f = fusion(journey_bars=8)
    f.feel(analyse("I feel grief, but I want to get to acceptance"))
    assert f.target is not None
    points = [f.next_bar(float(i)).point for i in range(10)]
    assert points[0].valence < -0.5  # the iso principle: start where the person is
    assert points[7] == f.target and points[9] == f.target  # then stay there
    assert f.next_bar(11.0).source == "text"


def test_text_without_a_desire_is_expressed_not_transformed() -> None:
    f = fusion(journey_bars=4)
    f.feel(analyse("I am so angry"))
    assert f.target is None
    assert f.next_bar(0.0).point.valence < 0


def test_text_with_no_emotion_is_refused_with_the_reason() -> None:
    with pytest.raises(FusionError, match="no emotion recognised"):
        fusion().feel(analyse("the table is brown"))


def test_neural_estimates_below_the_gate_are_ignored() -> None:
    f = fusion(confidence_gate=0.5)
    assert not f.estimate(PAD(0.9, 0.9, 0.9), 0.3, now=0.0)
    assert f.next_bar(0.1).point == NEUTRAL
    assert f.gated == 1


def test_neural_estimates_are_smoothed_with_alpha() -> None:
    f = fusion(smoothing=0.25, deadband=0.0)
    f.estimate(PAD(0.0, 0.5, 0.5), 0.8, now=0.0)
    f.estimate(PAD(0.8, 0.5, 0.5), 0.8, now=0.1)
    bar = f.next_bar(0.2)
    assert bar.point.valence == pytest.approx(0.2)  # 0 + 0.25 · (0.8 − 0)
    assert bar.source == "neural"


def test_stale_neural_estimates_stop_counting() -> None:
    f = fusion(estimate_timeout_s=2.0)
    f.set_emotion(PAD(-0.5, 0.2, 0.5))
    f.estimate(PAD(0.9, 0.9, 0.9), 1.0, now=0.0)
    assert f.next_bar(1.0).source == "performer+neural"
    assert f.next_bar(5.0).point == PAD(-0.5, 0.2, 0.5)


def test_explicit_and_neural_are_weighted_by_confidence() -> None:
    f = fusion(neural_weight=0.5, deadband=0.0)
    f.set_emotion(PAD(0.0, 0.2, 0.5))
    f.estimate(PAD(0.0, 0.8, 0.5), 1.0, now=0.0)
    # weights: performer 1.0, neural 0.5 · 1.0 → a third of the way to the estimate
    assert f.next_bar(0.1).point.arousal == pytest.approx(0.4)


def test_a_locked_axis_holds_while_the_others_move() -> None:
    f = fusion()
    f.set_emotion(PAD(0.6, 0.3, 0.5))
    f.next_bar(0.0)
    assert f.lock("valence") == pytest.approx(0.6)
    f.set_emotion(PAD(-0.8, 0.9, 0.2))
    bar = f.next_bar(1.0)
    assert bar.point.as_tuple() == pytest.approx((0.6, 0.9, 0.2))
    f.unlock("valence")
    assert f.next_bar(2.0).point.valence == pytest.approx(-0.8)


def test_small_wobbles_inside_the_deadband_do_not_move_the_music() -> None:
    f = fusion(deadband=0.05, smoothing=1.0)
    f.estimate(PAD(0.3, 0.5, 0.5), 1.0, now=0.0)
    first = f.next_bar(0.0).point
    f.estimate(PAD(0.33, 0.51, 0.5), 1.0, now=0.1)
    assert f.next_bar(0.2).point == first
    f.estimate(PAD(0.6, 0.5, 0.5), 1.0, now=0.3)
    assert f.next_bar(0.4).point.valence == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"valence": 2, "arousal": 0.5, "dominance": 0.5}, "valence must be within"),
        ({"valence": 0, "arousal": "x", "dominance": 0.5}, "arousal must be a finite number"),
        ({"valence": 0, "arousal": 0.5}, "dominance must be a finite number"),
        ({"valence": float("nan"), "arousal": 0.5, "dominance": 0.5}, "valence must be a finite"),
    ],
)
def test_bad_pad_values_are_refused_with_a_clear_message(values: dict, message: str) -> None:
    with pytest.raises(FusionError, match=message):
        pad_from(values)


def test_unknown_axes_cannot_be_locked() -> None:
    with pytest.raises(FusionError, match="axis must be one of"):
        fusion().lock("tempo")


def test_the_fusion_state_survives_a_round_trip() -> None:
    f = fusion(journey_bars=6)
    f.feel(analyse("I feel grief, but I want to get to acceptance"))
    f.next_bar(0.0)
    f.lock("dominance")
    g = fusion(journey_bars=6)
    g.restore(f.to_dict())
    assert g.to_dict() == f.to_dict()
    assert [g.next_bar(1.0).point for _ in range(3)] == [f.next_bar(1.0).point for _ in range(3)]
