"""Sensors in real performances: the OSC actor on a free UDP port, the composer, a simulated
heart rate. A rise from 70 to 150 bpm raises the composer's arousal and tempo within two
bars; a lock on arousal holds against it; calibration takes the resting baseline; bad
samples are refused with counts and the music goes on."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from performance import Performance, kelly, wait_until
from sensor_support import (
    HEART,
    Peer,
    Player,
    composer_now,
    osc_port,
    segments,
    sensor_performance,
    until_composer,
)

from kelly_actors.sensors.simulate import Settings, Sweep

pytestmark = pytest.mark.slow


def first_bar(perf: Performance) -> dict[str, Any]:
    return until_composer(perf, lambda t: t["bar"] is not None, 30, "the composer's first bar")


def test_a_heart_rate_rising_from_70_to_150_bpm_raises_arousal_and_tempo_within_two_bars(
    run_dir,
) -> None:
    rest = Settings(hr=Sweep(70.0, 70.0))
    ramp = Settings(hr=Sweep(70.0, 150.0), period_s=8.0)  # 70 → 150 bpm in 4 s
    top = Settings(hr=Sweep(150.0, 150.0))
    with Performance(run_dir, sensor_performance()) as perf:
        port = osc_port(perf)
        first_bar(perf)
        stream = segments((rest, 3.0), (ramp, 4.0), (top, 0.0))
        with Player(port, stream, mark=140.0) as player:
            calm = until_composer(
                perf, lambda t: t["sensors"]["body"], 15, "the sensor in the composer's fusion"
            )
            assert calm["sensors"]["body"]["arousal"] < 0.6  # 70 bpm is the default rest
            assert calm["emotion"]["arousal"] < 0.6 and calm["tempo"] < 135
            wait_until(lambda: player.marked_at, 20, "the simulated heart rate at 140 bpm")
            bar_high = composer_now(perf)["bar"]
            raised = until_composer(
                perf,
                lambda t: t["emotion"]["arousal"] >= 0.8 and t["tempo"] >= 155,
                20,
                "arousal and tempo raised",
            )
        assert raised["bar"] <= bar_high + 2, (bar_high, raised)
        assert raised["emotion"]["source"] == "sensors"
        osc = perf.actor("osc")
        heart = osc["telemetry"]["sensors"]["heart_rate"]
        assert heart["accepted"] > 10 and heart["refused"] == {}
        assert heart["baseline_source"] == "default (not calibrated)"
        assert all(a["restarts"] == 0 for a in perf.status()["actors"])
        assert perf.stop() == 0


BAD_SAMPLES: list[tuple[Any, ...]] = [
    (math.nan,),  # not_finite
    (-72.0,),  # out_of_range
    (400,),  # out_of_range (an int: 'i')
    ("72",),  # wrong_types
    (72.0, 73.0),  # wrong_types
    (),  # wrong_types
    (True,),  # wrong_types ('T')
]


def test_calibration_a_lock_against_the_sensor_and_bad_samples_refused_with_counts(
    run_dir,
) -> None:
    with Performance(run_dir, sensor_performance()) as perf:
        port = osc_port(perf)
        first_bar(perf)
        resting = segments((Settings(hr=Sweep(60.0, 60.0), drop=0.0), 0.0))
        with Player(port, resting):
            done = kelly("ctl", "calibrate", "heart_rate", "--seconds", "4", run_dir=run_dir)
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout)["baseline_source"] == "default"
            osc = perf.wait_actor(
                "osc",
                lambda a: (
                    a["telemetry"]["sensors"]["heart_rate"]["baseline_source"] == "calibrated"
                ),
                15,
                "the calibration window to close",
            )
        assert osc["telemetry"]["sensors"]["heart_rate"]["baseline"] == pytest.approx(60, abs=2)

        with Peer(port) as peer:
            peer.send("/kelly/lock", "arousal")
            kind, (_, answer) = peer.answer("/kelly/lock")
            assert kind == "/kelly/ok"
            locked = json.loads(answer)["value"]
            lock_bar = composer_now(perf)["composed_bar"]
            racing = segments((Settings(hr=Sweep(150.0, 150.0)), 0.0))
            with Player(port, racing):
                for args in BAD_SAMPLES:
                    peer.send(HEART, *args)
                peer.send("/kelly/sensor/pulse", 72.0)  # not a sensor of this performance
                body_high = until_composer(
                    perf,
                    lambda t: (t["sensors"]["body"] or {}).get("arousal", 0.0) > 0.9,
                    20,
                    "the sensor proposing high arousal",
                )
                held = []

                def two_more_bars() -> bool:
                    t = composer_now(perf)
                    if t["bar"] > lock_bar:
                        held.append((t["bar"], t["emotion"]["arousal"], t["tempo"]))
                    return t["bar"] >= body_high["composed_bar"] + 2

                wait_until(two_more_bars, 20, "two bars with the sensor high", interval=0.1)
                assert held and all(a == pytest.approx(locked, abs=1e-3) for _, a, _ in held)
                assert len({tempo for _, _, tempo in held}) == 1, held

                peer.send("/kelly/unlock", "arousal")
                assert peer.answer("/kelly/unlock")[0] == "/kelly/ok"
                unlocked_at = composer_now(perf)["bar"]
                raised = until_composer(
                    perf, lambda t: t["emotion"]["arousal"] > 0.9, 20, "arousal following again"
                )
                assert raised["bar"] <= unlocked_at + 2
            _, (_, code, _) = peer.answer("/kelly/sensor/pulse")
            assert code == "unknown_address"
            peer.collect()
            answered = [m for m in peer.received if m[1][:1] == (HEART,)]
            assert answered == [], "sensor samples are never answered"

        osc = perf.actor("osc")["telemetry"]
        heart = osc["sensors"]["heart_rate"]
        assert heart["refused"] == {"not_finite": 1, "out_of_range": 2, "wrong_types": 4}
        assert osc["refused"] == {"bad_value": 3, "wrong_types": 4, "unknown_address": 1}
        assert osc["sensor_totals"]["refused"] == 7 and heart["accepted"] > 10
        logged = {e["detail"]["kind"] for e in perf.events() if e["event"] == "osc_refused"}
        assert logged == {"bad_value", "wrong_types", "unknown_address"}
        assert all(a["restarts"] == 0 for a in perf.status()["actors"])
        assert perf.stop() == 0
