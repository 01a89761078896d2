"""`kelly log`: events.jsonl printed readably; --follow until the run stops."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from performance import Performance, env_with_support, kelly, wait_until

from kelly_actors.console.eventlog import format_event, format_line


def kelly_log(run_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return kelly("log", *argv, run_dir=run_dir)


def test_an_event_prints_as_time_name_actor_and_details() -> None:
    detail = {"actor": "meter", "reason": "killed by SIGKILL", "commanded": False}
    record = {"time": 0.0, "event": "actor_exited", "detail": detail}
    line = format_event(record)
    assert line.endswith("actor_exited       meter      reason=killed by SIGKILL commanded=false")
    assert line[2] == ":" and line[8] == "."  # HH:MM:SS.mmm


def test_a_long_traceback_is_cut_and_a_broken_line_is_shown_not_dropped() -> None:
    record = {"time": 1.0, "event": "crash", "detail": {"traceback": "x\n" * 500}}
    assert "x⏎x⏎" in format_event(record) and "… (1000 chars)" in format_event(record)
    assert format_line('{"time": 1.0, "ev') == '?? {"time": 1.0, "ev'
    assert format_line("[1, 2]") == "?? [1, 2]"


def test_log_without_an_event_log_exits_2_with_a_clear_message(run_dir: Path) -> None:
    done = kelly_log(run_dir)
    assert done.returncode == 2
    assert f"no event log in {run_dir}" in done.stderr


def test_log_prints_a_finished_runs_events_and_keeps_going_past_a_cut_line(run_dir: Path) -> None:
    events = [{"time": 1.0 + i, "event": "actor_ready", "detail": {"actor": f"a{i}"}}
              for i in range(3)]  # fmt: skip
    text = "\n".join(json.dumps(e) for e in events)
    (run_dir / "events.jsonl").write_text(text[:-5] + "\n" + json.dumps(events[0]) + "\n")
    done = kelly_log(run_dir)
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert [line.split()[2] for line in lines[:2]] == ["a0", "a1"]
    assert lines[2].startswith("?? ") and lines[3].split()[2] == "a0"


@pytest.mark.slow
def test_log_follow_prints_a_live_runs_events_until_it_stops(run_dir: Path) -> None:
    with Performance(run_dir, None) as perf:
        perf.wait_ready()
        follow = subprocess.Popen(
            [sys.executable, "-m", "kelly_actors.cli", "--run-dir", str(run_dir), "log", "-f"],
            stdout=subprocess.PIPE, text=True, env=env_with_support(),
        )  # fmt: skip
        try:
            perf.request("restart", actor="synth")
            wait_until(
                lambda: any(e["event"] == "actor_restarting" for e in perf.events()),
                15,
                "the restart in the log",
            )
            assert perf.stop() == 0
            out, _ = follow.communicate(timeout=30)
        finally:
            if follow.poll() is None:
                follow.kill()
                follow.wait()
    assert follow.returncode == 0
    names = [line.split()[1] for line in out.splitlines()]
    assert names[0] == "run_started" and names[-1] == "run_stopped"
    assert "restart_requested" in names and "actor_restarting" in names
