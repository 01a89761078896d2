"""One sensor's pipeline, calibration window, counts and readings; the reading's ring row;
the [[sensors]] tables."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from kelly_actors.config import performance
from kelly_actors.config.typed import ConfigError, from_mapping
from kelly_actors.osc.config import OscConfig
from kelly_actors.sensors.reading import ROW_DTYPE, ROW_SHAPE, BadReading, Reading
from kelly_actors.sensors.spec import SensorSpec
from kelly_actors.sensors.state import SensorState


def heart(**options: object) -> SensorState:
    return SensorState(SensorSpec("heart_rate", "heart_rate", **options), 0)  # type: ignore[arg-type]


def test_until_calibrated_a_sensor_runs_on_its_kinds_default_baseline_and_says_so() -> None:
    state = heart()
    assert state.baseline == 70.0
    assert state.status(0.0)["baseline_source"] == "default (not calibrated)"
    assert state.confidence(0.0) == 0.0  # no sample yet
    configured = heart(baseline=62.0)
    assert configured.baseline == 62.0 and configured.status(0.0)["baseline_source"] == "configured"


def test_samples_are_smoothed_and_give_arousal_above_rest() -> None:
    state = heart(smoothing_s=1.0)
    t = 0.0
    for _ in range(50):  # 10 s of 110 bpm at 5 Hz: smoothed to within a hair of 110
        assert state.take(110.0, t) is None
        t += 0.2
    reading = state.reading()
    assert reading.level == pytest.approx(1.0, abs=0.01)  # 40 bpm above rest = one span
    assert reading.arousal == pytest.approx(1.0, abs=0.01)
    assert reading.dominance is None and reading.weight == 0.5
    assert reading.stamp == pytest.approx(t - 0.2)
    assert not state.dirty


def test_absurd_samples_are_refused_and_counted_and_leave_the_state_alone() -> None:
    state = heart()
    state.take(72.0, 0.0)
    for value in (math.nan, -5.0, 400.0, 0.0):
        assert state.take(value, 1.0) is not None
    state.refuse("wrong_types")
    status = state.status(1.0)
    assert status["refused"] == {"not_finite": 1, "out_of_range": 3, "wrong_types": 1}
    assert status["accepted"] == 1 and status["value"] == 72.0 and status["age_s"] == 1.0


def test_an_outlier_is_clamped_to_the_spike_step_and_counted() -> None:
    state = heart()
    for i, v in enumerate((70.0, 71.0, 70.0, 72.0)):
        state.take(v, i * 0.8)
    state.take(200.0, 4.0)  # an artefact: 130 bpm above the recent median
    assert state.clamped == 1
    assert state.last_value == pytest.approx(71.0 + 30.0)  # the median of the last three
    state.take(73.0, 4.8)
    assert state.clamped == 1


def test_a_fast_real_rise_is_not_clipped() -> None:
    state = heart()
    t, bpm = 0.0, 70.0
    while bpm < 150.0:  # 20 bpm a second, one sample per beat
        state.take(bpm, t)
        t += 60.0 / bpm
        bpm += 20.0 * 60.0 / bpm
    assert state.clamped == 0


def test_calibration_takes_the_median_of_its_window() -> None:
    state = heart()
    answer = state.calibrate(5.0, 100.0)
    assert answer["sensor"] == "heart_rate" and answer["seconds"] == 5.0
    assert state.status(101.0)["baseline_source"].startswith("calibrating (4 s left")
    for i, v in enumerate((58.0, 60.0, 61.0, 150.0, 59.0, 60.0)):
        state.take(v, 100.5 + i * 0.5)
    assert not state.tick(104.9)
    assert state.tick(105.0)
    assert state.baseline == 60.0 and state.baseline_source == "calibrated"
    assert state.status(105.0)["calibration"] == "6 samples in 5 s"
    assert state.dirty  # the level moved with the baseline: a new reading is due
    # The level is now measured from 60 bpm.
    state.take(60.0, 106.0)
    assert state.reading().level < 0.2


def test_a_calibration_without_samples_fails_and_keeps_the_baseline() -> None:
    state = heart()
    state.calibrate(0.0, 0.0)  # 0: the sensor's own calibrate_s (30 s)
    assert state.window_end == 30.0
    state.take(80.0, 1.0)
    assert state.tick(30.0)
    assert state.baseline == 70.0 and state.baseline_source == "default"
    assert state.calibration_note.startswith("failed: 1 samples in 30 s")


def test_a_calibration_survives_a_restart_of_the_bridge() -> None:
    state = heart()
    state.calibrate(2.0, 0.0)
    for i in range(5):
        state.take(64.0, 0.1 * i)
    state.tick(2.0)
    again = heart()
    again.restore(state.saved())
    assert again.baseline == 64.0 and again.baseline_source == "calibrated"
    for bad in (None, {"source": "calibrated", "baseline": 900.0}, {"baseline": 50.0}):
        fresh = heart()
        fresh.restore(bad)
        assert fresh.baseline == 70.0


def test_motion_is_the_distance_from_rest_and_moves_dominance_too() -> None:
    state = SensorState(SensorSpec("wrist", "motion", smoothing_s=0.0), 3)
    state.take(1.0, 0.0)
    still = state.reading()
    assert still.level == 0.0 and still.arousal == 0.5 and still.dominance == 0.5
    state.take(0.75, 0.1)  # 0.25 g below gravity is as much movement as above it
    moving = state.reading()
    assert moving.level == pytest.approx(0.5) and moving.dominance == pytest.approx(0.75)
    assert moving.index == 3


def test_a_reading_travels_as_one_ring_row_and_bad_rows_are_refused() -> None:
    row = np.zeros(ROW_SHAPE, ROW_DTYPE)
    reading = Reading(2, 0.8, None, 0.5, 1234.5, 3.0, 5.0, 0.6)
    reading.write(row)
    assert Reading.from_row(row) == reading
    assert reading.confidence(1234.5 + 8.0) == pytest.approx(math.exp(-1.0))
    for index, value in ((0, 1.5), (1, 1.2), (1, math.nan), (2, 2.0), (3, -0.1), (5, 0.0)):
        bad = row.copy()
        bad[index] = value
        with pytest.raises(BadReading):
            Reading.from_row(bad)


def osc_options(*tables: dict) -> dict:
    data = {
        "actors": [{"name": "osc", "target": "kelly_actors.osc.actor:OscActor"}],
        "sensors": list(tables),
    }
    return performance.parse(data).actor("osc").options


def test_sensors_tables_reach_their_bridge_and_are_checked_there() -> None:
    options = osc_options({"name": "hr", "kind": "heart_rate", "weight": 0.7})
    cfg = from_mapping(OscConfig, options, "actors.osc.options")
    assert cfg.sensors[0].osc_address == "/kelly/sensor/hr" and cfg.sensors[0].weight == 0.7
    assert cfg.sensors[0].tuning().span == 40.0


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ([{"name": "hr", "kind": "pulse"}], "kind must be one of heart_rate, eda, motion"),
        ([{"name": "Heart", "kind": "heart_rate"}], "name 'Heart': lower-case letters"),
        ([{"name": "hr", "kind": "heart_rate", "address": "/a b"}], "address '/a b' must"),
        ([{"name": "hr", "kind": "heart_rate", "baseline": 400.0}], "outside 25…240"),
        ([{"name": "hr", "kind": "heart_rate", "weight": 2.0}], "weight must be within"),
        ([{"name": "hr", "kind": "heart_rate", "colour": "red"}], "unknown key(s) colour"),
        (
            [{"name": "hr", "kind": "heart_rate"}, {"name": "hr", "kind": "eda"}],
            "two sensors have the name 'hr'",
        ),
    ],
)
def test_bad_sensor_tables_are_named(tables: list[dict], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        from_mapping(OscConfig, osc_options(*tables), "actors.osc.options")


def test_a_sensor_needs_a_bridge_that_exists() -> None:
    data = {
        "actors": [{"name": "osc", "target": "kelly_actors.osc.actor:OscActor"}],
        "sensors": [{"name": "hr", "kind": "heart_rate", "bridge": "wearable"}],
    }
    with pytest.raises(ConfigError, match=re.escape("sensors[0].bridge: no actor named")):
        performance.parse(data)


def test_confidence_of_a_state_decays_with_the_age_of_its_last_sample() -> None:
    state = heart()
    state.take(70.0, 10.0)
    hold, decay = state.tuning.hold_s, state.tuning.decay_s
    assert state.confidence(10.0 + hold) == 1.0
    assert state.confidence(10.0 + hold + decay) == pytest.approx(math.exp(-1.0))
    assert state.confidence(10.0 + hold + 4 * decay) == 0.0
