"""The pure steps of a sensor sample: plausibility, spike clipping, smoothing, the level
above rest, confidence decay and the calibration's resting baseline."""

from __future__ import annotations

import math

import pytest

from kelly_actors.sensors import signal
from kelly_actors.sensors.spec import KINDS

HR, EDA, MOTION = KINDS["heart_rate"], KINDS["eda"], KINDS["motion"]


@pytest.mark.parametrize(
    ("kind", "value", "why"),
    [
        (HR, math.nan, signal.NOT_FINITE),
        (HR, math.inf, signal.NOT_FINITE),
        (HR, -60.0, signal.OUT_OF_RANGE),
        (HR, 0.0, signal.OUT_OF_RANGE),
        (HR, 400.0, signal.OUT_OF_RANGE),
        (HR, 72.0, None),
        (HR, 240.0, None),
        (EDA, 0.0, signal.OUT_OF_RANGE),
        (EDA, -1.0, signal.OUT_OF_RANGE),
        (EDA, 4.2, None),
        (MOTION, -0.1, signal.OUT_OF_RANGE),
        (MOTION, 0.0, None),
        (MOTION, 33.0, signal.OUT_OF_RANGE),
    ],
)
def test_physically_absurd_samples_are_refused_with_the_reason(kind, value, why) -> None:
    assert signal.refusal(kind, value) == why


def test_a_spike_is_clamped_to_the_largest_step_from_the_median_and_said_so() -> None:
    assert signal.clip_spike(75.0, 70.0, 30.0) == (75.0, False)
    assert signal.clip_spike(100.0, 70.0, 30.0) == (100.0, False)  # exactly the step
    assert signal.clip_spike(140.0, 70.0, 30.0) == (100.0, True)
    assert signal.clip_spike(30.0, 70.0, 30.0) == (40.0, True)
    assert signal.clip_spike(200.0, None, 30.0) == (200.0, False)  # nothing to compare with


def test_smoothing_follows_a_step_with_its_time_constant_whatever_the_sample_spacing() -> None:
    assert signal.smooth(None, 80.0, 1.0, 2.0) == 80.0
    assert signal.smooth(70.0, 80.0, 1.0, 0.0) == 80.0
    # After one time constant a step is 1 − 1/e of the way, in one sample or in ten.
    one = signal.smooth(70.0, 80.0, 2.0, 2.0)
    s = 70.0
    for _ in range(10):
        s = signal.smooth(s, 80.0, 0.2, 2.0)
    expected = 70.0 + 10.0 * (1.0 - math.exp(-1.0))
    assert one == pytest.approx(expected) and s == pytest.approx(expected)
    assert signal.smooth(70.0, 80.0, -1.0, 2.0) == 70.0  # a clock step back moves nothing


def test_the_level_is_the_distance_above_rest_in_spans_clipped() -> None:
    assert signal.level(70.0, 70.0, 40.0) == 0.0
    assert signal.level(90.0, 70.0, 40.0) == 0.5
    assert signal.level(150.0, 70.0, 40.0) == 1.0
    assert signal.level(20.0, 70.0, 40.0) == -1.0
    # Motion: the smoothed value is already a distance from rest (g).
    assert signal.level(0.25, 1.0, 0.5, rectified=True) == 0.5
    assert signal.level(2.0, 1.0, 0.5, rectified=True) == 1.0
    assert signal.arousal_of(0.0) == 0.5 and signal.arousal_of(1.0) == 1.0
    assert signal.arousal_of(-1.0) == 0.0 and signal.dominance_of(0.5) == 0.75


def test_confidence_holds_then_decays_by_1_over_e_per_decay_time_then_drops_out() -> None:
    assert signal.confidence(0.0, 3.0, 5.0) == 1.0
    assert signal.confidence(3.0, 3.0, 5.0) == 1.0
    assert signal.confidence(8.0, 3.0, 5.0) == pytest.approx(math.exp(-1.0))
    assert signal.confidence(13.0, 3.0, 5.0) == pytest.approx(math.exp(-2.0))
    ages = [3.0 + 0.5 * i for i in range(40)]
    values = [signal.confidence(a, 3.0, 5.0) for a in ages]
    assert values == sorted(values, reverse=True)
    # Below MIN_CONFIDENCE the reading no longer counts at all.
    assert signal.confidence(3.0 + 5.0 * 3.1, 3.0, 5.0) == 0.0


def test_the_resting_baseline_is_the_median_of_the_window() -> None:
    assert signal.resting_baseline([]) is None
    assert signal.resting_baseline([70.0, 71.0]) is None  # fewer than 3 samples
    assert signal.resting_baseline([70.0, 72.0, 71.0]) == 71.0
    # A missed beat (half the rate) and an ectopic spike do not move it.
    window = [68.0, 69.0, 70.0, 35.0, 71.0, 72.0, 180.0, 70.0, 69.0]
    assert signal.resting_baseline(window) == 70.0
