"""What the `kelly top` panels show, from snapshots; where `--connect` may point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kelly_actors.console import view
from kelly_actors.console.connection import ConnectError, NotRunning, resolve


def actor(name: str, **over: Any) -> dict[str, Any]:
    base = {"name": name, "pid": 10, "state": "ready", "restarts": 0, "last_exit": "",
            "uptime_s": 3.0, "cpu_percent": 5.0, "rss_bytes": 2**20, "heartbeat_age_s": 0.1,
            "deadline_misses": 0, "degraded_reason": "", "telemetry": {}}  # fmt: skip
    return {**base, **over}


AUDIO = {"backend": "null", "sample_rate": 48000, "block_size": 256, "period_ms": 5.3333,
         "callbacks": 100, "xruns": 2, "xrun_samples": [256, 512], "underruns": 3,
         "late_blocks": 1, "latency_frames": 512, "callback_p50_ms": 0.05,
         "callback_p99_ms": 2.6667, "callback_max_ms": 9.0}  # fmt: skip


def snapshot() -> dict[str, Any]:
    return {
        "actors": [
            actor("audio", telemetry=AUDIO),
            actor("features", telemetry={"us_per_hop": 500.0}),
            actor(
                "synth",
                state="degraded",
                degraded_reason="model missing",
                telemetry={"lookahead_ms": 21.333},
            ),
            actor("composer", state="restarting", pid=None, restarts=2, last_exit="exit code 1"),
        ],
        "rings": [
            {
                "name": "audio_out",
                "capacity": 32,
                "used": 1,
                "peak_used": 4,
                "overruns": 0,
                "underruns": 3,
                "torn": 0,
            }
        ],
        "transport": None,
    }


def test_failing_and_degraded_actors_stand_out_with_their_reason() -> None:
    rows = {r.name: r for r in view.actor_rows(snapshot())}
    assert (rows["audio"].standing, rows["audio"].note) == ("ok", "")
    assert (rows["synth"].standing, rows["synth"].note) == ("degraded", "model missing")
    assert (rows["composer"].standing, rows["composer"].note) == ("failing", "exit code 1")
    assert rows["composer"].pid == "-"
    stale = view.actor_rows({"actors": [actor("a", heartbeat_age_s=1.5)]})[0]
    assert (stale.standing, stale.note) == ("degraded", "no heartbeat for 1.5 s")


def test_a_fill_bar_shows_any_use_and_never_overflows() -> None:
    assert view.fill_bar(0, 32, 8) == "░" * 8
    assert view.fill_bar(1, 32, 8) == "█" + "░" * 7
    assert view.fill_bar(40, 32, 8) == "█" * 8


def test_the_latency_budget_is_the_sum_of_each_actors_delay() -> None:
    budget = view.latency_budget(snapshot())
    assert [label for label, _ in budget.parts] == [
        "audio in (1 block)", "features (hop compute)", "synth (look-ahead)",
        "audio out (queue + device)",
    ]  # fmt: skip
    assert budget.total_ms == pytest.approx(5.3333 + 0.5 + 21.333 + 512 / 48)


def test_the_audio_panel_blames_underruns_on_the_rings_writer_and_xruns_on_the_callback() -> None:
    text = "\n".join(view.audio_lines(snapshot(), {"audio_out": "synth"}))
    assert "underruns 3 — blame synth (audio_out ran dry)" in text
    assert "xruns 2 — blame audio callback (max 9.00 ms > period)" in text
    assert "callback load p99 2.67 ms / 5.33 ms = 50 %" in text


def test_the_audio_panel_says_which_synth_plays_and_whether_the_standby_can_take_over() -> None:
    t = {
        "standby_ring": "audio_out_b",
        "active_ring": "audio_out_b",
        "standby_trusted": False,
        "switches": 1,
        "diverged_blocks": {"audio_out": 0, "audio_out_b": 0},
        "standby_left_out": "",
    }
    line = view.standby_line(t)
    assert line == (
        "output from audio_out_b; standby audio_out not in step (the fallback covers a miss); "
        "switches 1"
    )
    kept_out = {**t, "standby_left_out": "keeps diverging", "diverged_blocks": {"audio_out": 7}}
    assert "left out (it keeps diverging)" in view.standby_line(kept_out)
    assert view.standby_line(kept_out).endswith("diverged blocks 7")


def test_the_audio_panel_says_the_fallback_plays_while_a_lone_synth_restarts() -> None:
    snap = snapshot()
    synth = next(a for a in snap["actors"] if a["name"] == "synth")
    synth.update(state="restarting", restarts=3)
    text = "\n".join(view.audio_lines(snap, {"audio_out": "synth"}))
    assert (
        "output from the fallback (hold and fade): synth is restarting, restarted 3 times" in text
    )
    synth.update(state="ready")
    assert "fallback" not in "\n".join(view.audio_lines(snap, {"audio_out": "synth"}))


def test_the_machine_is_blamed_for_xruns_when_the_compiled_callback_never_overran() -> None:
    snap = snapshot()
    audio = next(a for a in snap["actors"] if "period_ms" in a["telemetry"])
    audio["telemetry"].update(own_overruns=0, missed_late=2, missed_preempted=1, skipped_cycles=0)
    assert view.xrun_blame(snap).startswith("the machine (cycles started late 2, preempted 1")
    audio["telemetry"]["own_overruns"] = 1
    assert "1 cycles overran by its own work" in view.xrun_blame(snap)


def test_the_rings_writer_comes_from_the_runs_config() -> None:
    assert view.ring_writers("default")["audio_out"] == "synth"
    assert view.ring_writers("/nonexistent.toml") == {}


def test_emotion_history_maps_valence_into_the_sparklines_range() -> None:
    history = view.EmotionHistory(span_s=10)
    for i, v in enumerate((-1.0, 0.0, 1.0)):
        emotion = {"valence": v, "arousal": 0.5, "dominance": 0.0, "confidence": 1, "source": "x"}
        history.add({"actors": [actor("composer", telemetry={"emotion": emotion})]}, now=i * 6.0)
    assert history.series("valence", 10) == [0.5, 1.0]  # the first point is older than 10 s
    assert view.sparkline([0.0, 0.5, 1.0, 2.0]) == "▁▅██"


def test_connect_refuses_tcp_without_keys_and_anything_but_a_control_socket(tmp_path: Path) -> None:
    with pytest.raises(ConnectError, match="needs --keys DIR"):
        resolve(tmp_path, "tcp://127.0.0.1:5555")
    with pytest.raises(ConnectError, match=r"wants the run's control\.sock"):
        resolve(tmp_path, f"ipc://{tmp_path}/status.sock")
    with pytest.raises(NotRunning, match="no such socket"):
        resolve(tmp_path, f"ipc://{tmp_path}/control.sock")
    with pytest.raises(NotRunning, match="no performance is running"):
        resolve(tmp_path, None)


def test_the_music_panel_says_who_writes_which_tracks_and_how_the_model_keeps_up() -> None:
    composer = {"emotion": {"valence": 0.1, "arousal": 0.5, "dominance": 0.5},
                "key": "C ionian", "tempo": 120.0, "bar": 9, "composed_bar": 10,
                "transformer": {"engine": "hybrid", "served_by": "inference actor",
                                "engines": ["melody", "counter"], "bars": 7, "late": 1,
                                "fallbacks": 2, "errors": 0, "last_ms": 16.4}}  # fmt: skip
    inference = {"model": "emotion-abc", "variations": {"model": "transformer-123"}}
    snap = {"actors": [actor("composer", telemetry=composer),
                       actor("inference", telemetry=inference)], "transport": None}  # fmt: skip
    lines = view.music_lines(snap)
    assert (
        "transformer hybrid (melody, counter) via inference actor: 7 bars, 1 late, "
        "2 to rules, last 16 ms"
    ) in lines
    assert lines[-1] == "models inference: emotion-abc; inference: transformer-123"
    rules = {**composer, "transformer": {"engine": "rules"}}
    assert not any(
        line.startswith("transformer")
        for line in view.music_lines({"actors": [actor("composer", telemetry=rules)]})
    )
