"""What `kelly run` says, from snapshots and event records (no terminal, no run)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kelly_actors.console.run_lines import (
    RunFacts,
    event_line,
    opening_line,
    start_lines,
    status_line,
    summary_from_snapshot,
    summary_lines,
)

AUDIO = {"backend": "null", "sample_rate": 48000, "block_size": 256, "period_ms": 5.3333,
         "xruns": 2, "underruns": 3, "latency_frames": 512, "callback_p99_ms": 0.4}  # fmt: skip
COMPOSER = {
    "emotion": {"valence": 0.3, "arousal": 0.4, "dominance": 0.5, "confidence": 0.9,
                "source": "text"},
    "nearest": "calm", "key": "D minor", "tempo": 96.0, "bar": 17, "midi_port": "kelly:composer",
}  # fmt: skip


def actor(name: str, **over: Any) -> dict[str, Any]:
    base = {"name": name, "pid": 10, "state": "ready", "restarts": 0, "last_exit": "",
            "uptime_s": 3.0, "cpu_percent": 5.0, "rss_bytes": 2**20, "heartbeat_age_s": 0.1,
            "deadline_misses": 0, "degraded_reason": "", "telemetry": {}}  # fmt: skip
    return {**base, **over}


def snapshot() -> dict[str, Any]:
    return {
        "run": {"uptime_s": 62.5, "supervisor_restarts": 0},
        "actors": [
            actor("audio", telemetry=AUDIO),
            actor("features", telemetry={"us_per_hop": 500.0}),
            actor("synth", restarts=1, telemetry={"lookahead_ms": 21.333, "active_voices": 6}),
            actor("composer", telemetry=COMPOSER),
        ],
        "rings": [
            {"name": "audio_out", "underruns": 3, "overruns": 0},
            {"name": "notes", "underruns": 0, "overruns": 0},
        ],
        "transport": {"bar": 17, "tempo": 96.0},
    }


def facts(**over: Any) -> RunFacts:
    base = dict(run_dir="/tmp/kelly-1", config="", actors=("audio", "features", "synth"),
                record_dir="", audio_choice="the built-in performance's choice",
                started=time.time(), watchdog_pid=1, tag="0badc0de")  # fmt: skip
    return RunFacts(**{**base, **over})


def texts(lines) -> str:
    return "\n".join(line.text for line in lines)


def test_the_start_says_device_and_why_rate_block_latency_midi_recording_and_commands() -> None:
    text = texts(start_lines(facts(run_dir_option="--run-dir /tmp/x"), snapshot()))
    assert "audio      null (silence on a clock: nothing is heard) — the built-in" in text
    assert "48000 Hz, block 256 frames (5.33 ms)" in text
    assert "latency    " in text and "synth (look-ahead) 21.3" in text
    assert "MIDI       kelly:composer" in text
    assert "recording  off (add --record DIR" in text
    assert "run dir    /tmp/kelly-1" in text
    assert "kelly top --run-dir /tmp/x" in text
    assert 'kelly ctl --run-dir /tmp/x feel "' in text
    recorded = texts(start_lines(facts(record_dir="/tmp/take"), snapshot()))
    assert "recording  /tmp/take (audio, MIDI and run.json)" in recorded
    assert "the built-in performance, 3 actors starting" in opening_line(facts()).text


def test_the_status_line_has_bar_key_tempo_emotion_source_voices_glitches_restarts() -> None:
    line = status_line(snapshot(), 75.0)
    for part in ("1:15", "bar 17", "D minor", "96 bpm", "calm (text) V+0.30 A0.40 D0.50",
                 "voices 6", "xruns 2", "under-runs 3", "restarts 1"):  # fmt: skip
        assert part in line, part
    assert "!" not in line
    sick = snapshot()
    sick["actors"][1] = actor("features", state="degraded", degraded_reason="slow")
    assert status_line(sick, 1.0).endswith("! features")


def record(event: str, **detail: Any) -> dict[str, Any]:
    return {"time": time.time(), "event": event, "detail": detail}


def test_notable_events_get_a_line_and_routine_ones_none() -> None:
    lines = {
        "restart": event_line(
            record("actor_exited", actor="synth", reason="killed by SIGKILL", commanded=False)
        ),
        "degrade": event_line(
            record("actor_health", actor="inference", degraded=True, reason="model missing")
        ),
        "model": event_line(record("model_loaded", actor="inference", path="/m.onnx", version=3)),
        "escalation": event_line(record("escalation", reason="synth restarted 11 times")),
        "feel": event_line(
            record(
                "command",
                cmd="call",
                args={"actor": "composer", "method": "feel", "args": {"text": "I feel calm"}},
            )
        ),
        "adopted": event_line(
            record("supervisor_adopted", pid=7, previous_exit="killed by SIGKILL")
        ),
    }
    assert lines["restart"].text == "✗ synth exited: killed by SIGKILL — restarting"
    assert lines["degrade"].text == "! inference degraded: model missing"
    assert lines["model"].text == "◆ inference: model swapped in: /m.onnx (version 3)"
    assert "escalation: synth restarted 11 times" in lines["escalation"].text
    assert lines["feel"].text == "» feel 'I feel calm'"
    assert "pid 7 adopted the run" in lines["adopted"].text
    switched = event_line(record("synth_switched", actor="audio", to="b", away_from="a"))
    assert switched.text == "↻ output switched from a to b (a had no block in time)"
    osc = event_line(record("osc_listening", actor="osc", bind="127.0.0.1", port=9000))
    assert osc.text == "OSC: osc listening on 127.0.0.1:9000 (UDP)"
    for routine in (
        record("actor_exited", actor="synth", reason="exit code 0", commanded=True),
        record("actor_spawned", actor="synth", pid=4),
        record("command", cmd="status", args={}),
        record("xrun", actor="audio", count=1),
        record("command", cmd="call", args={"actor": "osc", "method": "subscribers"}),
    ):
        assert event_line(routine) is None, routine


def test_the_summary_from_a_snapshot_has_run_json_facts_and_lists_the_files(tmp_path) -> None:
    take = tmp_path / "take"
    take.mkdir()
    for name in ("output.wav", "segment-0001.mid", "run.json"):
        (take / name).write_bytes(b"")
    summary = summary_from_snapshot(snapshot(), 0, "duration reached")
    assert {"duration_s", "exit_code", "reason", "xruns", "underruns", "overruns", "restarts",
            "supervisor_restarts", "audio", "actors"} == set(summary)  # fmt: skip
    text = texts(summary_lines(summary, facts(record_dir=str(take)), from_run_json=False))
    assert "stopped after 1:02: duration reached (exit code 0)" in text
    assert "bars       17" in text
    assert "restarts   synth 1" in text
    assert "under-runs audio_out 3" in text
    assert "xruns      2" in text
    assert f"files      {take}: output.wav, run.json, segment-0001.mid (run.json missing)" in text
    assert f"events     {Path('/tmp/kelly-1/events.jsonl')} (kelly log)" in text


def test_a_summary_of_a_run_the_watchdog_gave_up_on_says_it_is_incomplete() -> None:
    abandoned = {"duration_s": 4.0, "exit_code": 1, "reason": "the watchdog gave up",
                 "complete": False, "restarts": {"synth": 0}, "supervisor_restarts": 6}  # fmt: skip
    text = texts(summary_lines(abandoned, facts(), from_run_json=True))
    assert "stopped after 0:04: the watchdog gave up (exit code 1)" in text
    assert "supervisor 6" in text
    assert "xruns      unknown" in text and "under-runs unknown" in text
    assert "incomplete" in text
