"""``kelly top``'s sensor lines: each sensor's value, baseline, age and weight, and what
the sensors proposed to the composer, from a status snapshot."""

from __future__ import annotations

from typing import Any

from kelly_actors.console import view
from kelly_actors.osc.sensor_input import SensorInput
from kelly_actors.osc.wire import Message
from kelly_actors.sensors.spec import SensorSpec


def snapshot(osc: dict[str, Any], composer: dict[str, Any]) -> dict[str, Any]:
    return {"actors": [{"name": "osc", "telemetry": osc}, {"name": "c", "telemetry": composer}]}


def test_each_sensor_shows_value_baseline_age_weight_and_counts() -> None:
    sensors = SensorInput(
        (SensorSpec("heart_rate", "heart_rate"), SensorSpec("eda", "eda", weight=0.3)), None
    )
    sensors.take(Message("/kelly/sensor/heart_rate", "f", (72.0,)), 10.0)
    sensors.by_name["heart_rate"].refuse("out_of_range")
    osc = {"sensors": sensors.telemetry(11.5), "sensor_totals": sensors.totals()}
    composer = {
        "emotion": {"valence": 0.0, "arousal": 0.6, "dominance": 0.5},
        "sensors": {
            "body": {
                "arousal": 0.53,
                "arousal_weight": 0.5,
                "dominance": None,
                "dominance_weight": 0.0,
                "sensors": 1,
            }
        },
    }
    heart, eda, body = view.sensor_lines(snapshot(osc, composer))
    assert heart.startswith("heart_rate    72.0 bpm rest 70.0 (default (not calibrated))")
    assert "age 1.5 s  weight 0.50 conf 1.00  level +0.05" in heart and "refused 1" in heart
    assert eda.startswith("eda              - µS  rest 5.0") and "age never" in eda
    assert body == "body → arousal 0.53 (weight 0.50)"


def test_without_sensors_there_are_no_lines() -> None:
    assert view.sensor_lines(snapshot({"port": 9000}, {"emotion": {}})) == []
