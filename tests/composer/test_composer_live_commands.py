"""Controlling a running composer: feel, set-emotion, lock/unlock, estimate, panic,
and what `kelly status --json` then shows; a missing MIDI port only degrades it.

(How `kelly ctl` command lines map to these calls: tests/console/test_console_verbs.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from composer_support import composer_performance, read_note_log
from performance import Performance, env_with_support, wait_until
from toml_config import performance_toml

from kelly_actors.bus import note_events
from kelly_actors.supervisor.client import Refused

pytestmark = pytest.mark.slow


def call(perf: Performance, method: str, **args: Any) -> dict[str, Any]:
    return perf.request("call", actor="composer", method=method, args=args)


def composer_telemetry(perf: Performance) -> dict[str, Any]:
    return perf.actor("composer")["telemetry"]


@pytest.fixture
def performance(run_dir: Path):
    options = {
        "seed": 4,
        "midi": {"api": "jack", "connect": "no-such-midi-destination"},
        "recording": {"directory": str(run_dir / "rec")},
        "fusion": {"journey_bars": 4},
    }
    actors, rings = composer_performance(run_dir / "notes.jsonl", options)
    with Performance(run_dir, performance_toml(actors, rings)) as perf:
        perf.wait_actor("composer", lambda a: a["state"] in ("ready", "degraded"), 30, "composer")
        yield perf
        assert perf.stop() == 0


def test_a_missing_midi_port_degrades_the_composer_but_the_music_goes_on(
    performance: Performance,
) -> None:
    actor = performance.wait_actor(
        "composer",
        lambda a: a["state"] == "degraded" and a["telemetry"].get("bars", 0) >= 3,
        30,
        "three bars composed while degraded",
    )
    assert "no-such-midi-destination" in actor["degraded_reason"]
    assert actor["telemetry"]["midi_port"] is None
    assert actor["telemetry"]["recording_bars"] >= 3
    assert actor["restarts"] == 0


def test_feel_sets_a_journey_that_status_json_shows(performance: Performance, run_dir) -> None:
    result = call(performance, "feel", text="I feel grief, but I want to get to acceptance")
    assert result["nearest"][0] == "grief" and result["desired"][0] == "acceptance"
    landing = result["from_bar"]
    performance.wait_actor(
        "composer",
        lambda a: (a["telemetry"].get("bar") or -1) >= landing,
        30,
        "the bar line the change lands on",
    )
    out = subprocess.run(
        [sys.executable, "-m", "kelly_actors.cli", "--run-dir", str(run_dir), "status", "--json"],
        capture_output=True, text=True, env=env_with_support(), timeout=30, check=True,
    )  # fmt: skip
    composer = next(a for a in json.loads(out.stdout)["actors"] if a["name"] == "composer")
    t = composer["telemetry"]
    assert t["emotion"]["source"] == "text"
    assert t["target"] == result["target"]
    assert t["key"].endswith(t["mode"]) and t["tempo"] > 0 and t["bar"] >= landing
    assert set(t) >= {"emotion", "target", "nearest", "key", "mode", "tempo", "bar", "locks",
                      "midi_port", "recording"}  # fmt: skip


def test_set_emotion_lands_on_a_bar_line_and_locks_hold_an_axis(
    performance: Performance,
) -> None:
    landing = call(performance, "set_emotion", valence=0.6, arousal=0.8, dominance=0.7)["from_bar"]
    performance.wait_actor(
        "composer",
        lambda a: (a["telemetry"].get("bar") or -1) >= landing,
        30,
        "the override's bar line",
    )
    t = composer_telemetry(performance)
    assert t["emotion"] == {
        "valence": 0.6, "arousal": 0.8, "dominance": 0.7, "confidence": 1.0, "source": "performer"
    }  # fmt: skip
    assert (t["mode"], t["tempo"]) == ("ionian", 156.0)
    assert call(performance, "lock", axis="valence")["locks"] == {"valence": 0.6}
    landing = call(performance, "set_emotion", valence=-0.9, arousal=0.2, dominance=0.7)["from_bar"]
    performance.wait_actor(
        "composer",
        lambda a: (a["telemetry"].get("bar") or -1) >= landing,
        30,
        "the second override's bar line",
    )
    t = composer_telemetry(performance)
    assert (t["emotion"]["valence"], t["emotion"]["arousal"]) == (0.6, 0.2)
    assert t["locks"] == {"valence": 0.6}
    assert call(performance, "unlock", axis="valence")["locks"] == {}


def test_neural_estimates_pass_the_gate_or_are_refused(performance: Performance) -> None:
    low = call(performance, "estimate", valence=0.5, arousal=0.5, dominance=0.5, confidence=0.1)
    assert low == {"accepted": False, "reason": "below the confidence gate"}
    high = call(performance, "estimate", valence=0.5, arousal=0.5, dominance=0.5, confidence=0.9)
    assert high["accepted"] is True
    stale = call(
        performance, "estimate", valence=0.5, arousal=0.5, dominance=0.5, confidence=0.9, time=1.0
    )
    assert stale["accepted"] is False and "stale" in stale["reason"]
    wait_until(
        lambda: composer_telemetry(performance)["neural"] == {"accepted": 1, "gated": 1},
        5,
        "the estimate counts in telemetry",
    )


@pytest.mark.parametrize(
    ("method", "args", "message"),
    [
        ("set_emotion", {"valence": 3, "arousal": 0.5, "dominance": 0.5}, "valence must be within"),
        ("feel", {"text": "the table is brown"}, "no emotion recognised"),
        ("feel", {}, "feel needs a non-empty text"),
        ("lock", {"axis": "tempo"}, "axis must be one of"),
        ("estimate", {"valence": 0, "arousal": 0.5, "dominance": 0.5}, "confidence must be"),
    ],
)
def test_bad_commands_are_refused_with_a_clear_message(
    performance: Performance, method: str, args: dict[str, Any], message: str
) -> None:
    with pytest.raises(Refused, match=message) as exc:
        call(performance, method, **args)
    assert exc.value.code == "refused"


def test_panic_puts_all_notes_off_on_the_ring(performance: Performance, run_dir: Path) -> None:
    result = call(performance, "panic")
    assert result["ring"] is True

    def panic_logged() -> bool:
        events = read_note_log(run_dir / "notes.jsonl")
        return bool((events[:, note_events.KIND] == note_events.EventKind.ALL_NOTES_OFF).any())

    wait_until(panic_logged, 10, "ALL_NOTES_OFF on the notes ring")
    bars = composer_telemetry(performance)["bars"]
    wait_until(lambda: composer_telemetry(performance)["bars"] > bars, 10, "the music going on")
