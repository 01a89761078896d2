"""The composer's fusion with sensors: a raised heart rate raises arousal beside text and
the listener by its weight, motion moves dominance too, a lock wins, a silent sensor fades."""

from __future__ import annotations

import pytest

from kelly_actors.composer.emotion.pad import NEUTRAL, PAD
from kelly_actors.composer.live.fusion import EmotionFusion, FusionSettings, body_of
from kelly_actors.composer.mapper import tempo_bpm
from kelly_actors.sensors.reading import Reading


def fusion(**settings: object) -> EmotionFusion:
    return EmotionFusion(FusionSettings(**settings), NEUTRAL)


def heart(arousal: float, stamp: float = 0.0, weight: float = 0.5) -> Reading:
    return Reading(0, arousal, None, weight, stamp, 3.0, 5.0, 2 * arousal - 1)


def test_with_no_one_speaking_a_raised_heart_rate_alone_raises_arousal_and_tempo() -> None:
    f = fusion()
    f.sensor(heart(0.5))
    calm = f.next_bar(0.5)
    assert calm.point == NEUTRAL and calm.source == "sensors"
    f.sensor(heart(0.95, stamp=1.0))
    raised = f.next_bar(1.5)
    assert raised.point.arousal == pytest.approx(0.95)
    assert (raised.point.valence, raised.point.dominance) == (0.0, 0.5)
    assert tempo_bpm(raised.point.arousal) > tempo_bpm(calm.point.arousal) + 50
    assert f.body is not None and f.body.sensors == 1


def test_a_sensor_counts_beside_an_explicit_emotion_by_its_weight() -> None:
    f = fusion()
    f.set_emotion(PAD(0.4, 0.2, 0.3))
    f.sensor(heart(1.0, weight=0.5))
    bar = f.next_bar(0.0)
    # (1 × 0.2 + 0.5 × 1.0) / 1.5: the performer's point keeps twice the sensor's say.
    assert bar.point.arousal == pytest.approx(0.7 / 1.5)
    assert (bar.point.valence, bar.point.dominance) == (0.4, 0.3)
    assert bar.source == "performer+sensors"


def test_motion_moves_dominance_and_several_sensors_are_weighed_together() -> None:
    readings = [
        heart(0.9, weight=0.5),
        Reading(1, 0.7, 0.8, 0.25, 0.0, 1.0, 5.0, 0.6),
    ]
    body = body_of(readings, 0.5)
    assert body is not None
    assert body.arousal == pytest.approx((0.5 * 0.9 + 0.25 * 0.7) / 0.75)
    assert body.dominance == pytest.approx(0.8) and body.dominance_weight == 0.25
    f = fusion()
    for r in readings:
        f.sensor(r)
    assert f.next_bar(0.5).point.dominance == pytest.approx(0.8)


def test_an_arousal_lock_wins_over_the_sensors() -> None:
    f = fusion()
    f.sensor(heart(0.5))
    f.next_bar(0.0)
    assert f.lock("arousal") == 0.5
    f.sensor(heart(1.0, stamp=1.0))
    held = f.next_bar(1.0)
    assert held.point.arousal == 0.5 and "sensors" in held.source
    f.unlock("arousal")
    assert f.next_bar(2.0).point.arousal == 1.0


def test_a_sensor_whose_packets_stopped_fades_out_and_then_counts_no_more() -> None:
    f = fusion()
    f.set_emotion(PAD(0.0, 0.2, 0.5))
    f.sensor(heart(1.0, stamp=0.0, weight=1.0))
    fresh = f.next_bar(1.0).point.arousal  # within hold_s: full weight
    fading = f.next_bar(3.0 + 5.0).point.arousal  # one decay time later: weight 1/e
    assert fresh == pytest.approx(0.6)
    assert 0.2 < fading < fresh
    gone = f.next_bar(3.0 + 5.0 * 4).point
    assert gone.arousal == pytest.approx(0.2) and f.body is None
