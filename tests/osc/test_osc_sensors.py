"""The OSC actor's sensor input: samples at their addresses become readings on a real
``sensors`` ring; wrong types and absurd values are refused with counts; calibration
through ``/kelly/calibrate`` and the ``calibrate`` verb; the preflight's checks."""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterator

import numpy as np
import pytest

from kelly_actors.bus.namespace import RunNamespace
from kelly_actors.bus.ring import Ring, RingReader, RingSpec, RingWriter
from kelly_actors.cli.ctl import add_actions
from kelly_actors.config.typed import ConfigError
from kelly_actors.osc import commands
from kelly_actors.osc.actor import OscActor
from kelly_actors.osc.commands import Refused
from kelly_actors.osc.config import OscConfig
from kelly_actors.osc.sensor_input import SensorInput, UnknownSensor
from kelly_actors.osc.wire import Message
from kelly_actors.sensors.reading import ROW_DTYPE, ROW_SHAPE, Reading
from kelly_actors.sensors.spec import SensorSpec
from kelly_actors.verbs.verb import Request

SPECS = (
    SensorSpec("heart_rate", "heart_rate", weight=0.6),
    SensorSpec("motion", "motion", address="/wrist/accel"),
)


@pytest.fixture
def ring() -> Iterator[tuple[RingWriter, RingReader]]:
    ns = RunNamespace.create()
    name = ns.segment_name("sensors")
    owner = Ring.create(name, RingSpec("sensors", ROW_SHAPE, ROW_DTYPE, 16, policy="overwrite"))
    writer, reader = RingWriter.attach(name), RingReader.attach(name, 0)
    try:
        yield writer, reader
    finally:
        for r in (writer, reader, owner):
            r.close()
        ns.release()


def rows(reader: RingReader) -> list[Reading]:
    out = np.zeros(ROW_SHAPE, ROW_DTYPE)
    got = []
    while reader.read_into(out):
        got.append(Reading.from_row(out))
    return got


def test_samples_become_one_reading_per_sensor_and_step_on_the_ring(ring) -> None:
    writer, reader = ring
    sensors = SensorInput(SPECS, writer)
    assert sensors.takes("/kelly/sensor/heart_rate") and sensors.takes("/wrist/accel")
    assert not sensors.takes("/kelly/sensor/motion")
    for i, bpm in enumerate((70, 72.5, 71)):
        tag = "i" if isinstance(bpm, int) else "f"
        sensors.take(Message("/kelly/sensor/heart_rate", tag, (bpm,)), 10.0 + i)
    sensors.take(Message("/wrist/accel", "d", (1.0,)), 12.0)
    sensors.flush()
    sensors.flush()  # nothing new: nothing written
    heart, wrist = rows(reader)
    assert heart.index == 0 and heart.weight == 0.6 and heart.stamp == 12.0
    assert 0.5 < heart.arousal < 0.55 and heart.dominance is None
    assert wrist.index == 1 and wrist.dominance == 0.5
    status = sensors.telemetry(13.0)
    assert status["heart_rate"]["value"] == 71.0 and status["heart_rate"]["age_s"] == 1.0
    assert status["motion"]["address"] == "/wrist/accel"
    assert sensors.totals()["readings"] == 2


@pytest.mark.parametrize(
    ("tags", "args", "kind", "why"),
    [
        ("f", (math.nan,), commands.BAD_VALUE, "not_finite"),
        ("f", (-72.0,), commands.BAD_VALUE, "out_of_range"),
        ("i", (400,), commands.BAD_VALUE, "out_of_range"),
        ("s", ("72",), commands.WRONG_TYPES, "wrong_types"),
        ("ff", (72.0, 73.0), commands.WRONG_TYPES, "wrong_types"),
        ("", (), commands.WRONG_TYPES, "wrong_types"),
        ("T", (True,), commands.WRONG_TYPES, "wrong_types"),
    ],
)
def test_bad_samples_are_refused_and_counted_per_sensor(ring, tags, args, kind, why) -> None:
    writer, reader = ring
    sensors = SensorInput(SPECS, writer)
    with pytest.raises(Refused) as refused:
        sensors.take(Message("/kelly/sensor/heart_rate", tags, args), 1.0)
    assert refused.value.kind == kind
    sensors.flush()
    assert rows(reader) == []
    assert sensors.telemetry(1.0)["heart_rate"]["refused"] == {why: 1}
    assert sensors.totals()["refused"] == 1


def test_calibration_opens_a_window_and_its_median_becomes_the_baseline(ring) -> None:
    writer, reader = ring
    sensors = SensorInput(SPECS, writer)
    answer = sensors.calibrate("heart_rate", 2, 0.0)
    assert answer["seconds"] == 2.0 and answer["baseline_source"] == "default"
    assert sensors.next_due() == 2.0
    for i, bpm in enumerate((61.0, 62.0, 60.0, 63.0)):
        sensors.take(Message("/kelly/sensor/heart_rate", "f", (bpm,)), 0.4 * i)
    assert not sensors.tick(1.9)
    assert sensors.tick(2.0) and sensors.next_due() is None
    assert sensors.telemetry(2.0)["heart_rate"]["baseline"] == 61.5
    sensors.flush()  # the level moved with the baseline: a reading says so
    assert rows(reader)[-1].level == pytest.approx(0.0, abs=0.05)
    assert sensors.saved()["heart_rate"]["source"] == "calibrated"
    with pytest.raises(UnknownSensor, match="no sensor named 'pulse'"):
        sensors.calibrate("pulse", 0, 0.0)
    for seconds in ("ten", 0.5, 1000, True):
        with pytest.raises(ValueError):
            sensors.calibrate("heart_rate", seconds, 0.0)


def test_calibrate_over_osc_and_from_kelly_ctl() -> None:
    cfg = OscConfig(sensors=SPECS)
    request = commands.request_for(Message("/kelly/calibrate", "s", ("heart_rate",)), cfg)
    assert request.local == commands.CALIBRATE
    assert request.args == {"sensor": "heart_rate", "seconds": 0.0}
    timed = commands.request_for(Message("/kelly/calibrate", "sf", ("motion", 20.0)), cfg)
    assert timed.args == {"sensor": "motion", "seconds": 20.0}
    parser = argparse.ArgumentParser(prog="kelly ctl")
    add_actions(parser.add_subparsers(dest="action", required=True))
    args = parser.parse_args(["calibrate", "heart_rate", "--seconds", "20"])
    assert args.verb.request(args) == Request(
        "call",
        {"actor": "osc", "method": "calibrate", "args": {"sensor": "heart_rate", "seconds": 20.0}},
    )


def test_the_preflight_wants_the_ring_and_addresses_that_are_not_commands() -> None:
    ring = RingSpec("sensors", ROW_SHAPE, ROW_DTYPE, 64)
    OscActor.preflight(OscConfig(sensors=SPECS), {"sensors": ring})
    OscActor.preflight(OscConfig(), {})  # no sensors, no ring needed
    with pytest.raises(ConfigError, match="need a ring 'sensors'"):
        OscActor.preflight(OscConfig(sensors=SPECS), {})
    with pytest.raises(ConfigError, match="need a ring 'sensors'"):
        OscActor.preflight(
            OscConfig(sensors=SPECS), {"sensors": RingSpec("sensors", (4,), ROW_DTYPE, 64)}
        )
    clash = (SensorSpec("hr", "heart_rate", address="/kelly/panic"),)
    with pytest.raises(ConfigError, match="/kelly/panic is a command"):
        OscActor.preflight(OscConfig(sensors=clash), {"sensors": ring})
