"""The event records `kelly run`'s console reads: this run's only, whole lines, across a
rotation of the log (real files, no run)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kelly_actors.console.run_console import EventTail


def append(path: Path, text: str) -> None:
    with path.open("a") as f:
        f.write(text)


def record(event: str) -> str:
    return json.dumps({"time": 1.0, "event": event, "detail": {}}) + "\n"


def events(tail: EventTail) -> list[str]:
    return [r["event"] for r in tail.read()]


def at_end(path: Path) -> int:
    fd = os.open(path, os.O_RDONLY)
    os.lseek(fd, 0, os.SEEK_END)
    return fd


def test_an_earlier_runs_records_are_not_shown_and_half_lines_wait(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    append(log, record("run_started") + record("run_stopped"))
    tail = EventTail(log, at_end(log))
    try:
        assert events(tail) == []
        append(log, record("run_started") + record("actor_spawned")[:10])
        assert events(tail) == ["run_started"]
        append(log, record("actor_spawned")[10:] + "not json\n")
        assert events(tail) == ["actor_spawned"]
        assert tail.bad_lines == 1
    finally:
        tail.close()


def test_a_log_that_appears_later_is_read_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    tail = EventTail(log, None)
    try:
        assert events(tail) == []
        append(log, record("run_started"))
        assert events(tail) == ["run_started"]
    finally:
        tail.close()


def test_a_rotation_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    append(log, record("old"))
    tail = EventTail(log, at_end(log))
    try:
        append(log, record("a"))
        assert events(tail) == ["a"]
        append(log, record("b"))  # written before the rename, read after it
        os.replace(log, tmp_path / "events.jsonl.1")
        append(log, record("c") + record("d"))
        assert events(tail) == ["b", "c", "d"]
        append(log, record("e"))
        assert events(tail) == ["e"]
    finally:
        tail.close()
