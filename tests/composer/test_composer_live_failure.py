"""A composer that raises releases its notes (ALL_NOTES_OFF on the ``notes`` ring)
before it exits, so nothing hangs until the replacement's first bar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from composer_support import RAISING_COMPOSER, composer_performance, read_note_log
from performance import Performance, wait_until
from toml_config import performance_toml

from kelly_actors.bus.note_events import CHANNEL, KIND, TIME, EventKind
from kelly_actors.music.notes import DRUM_CHANNEL, TRACKS

pytestmark = pytest.mark.slow
#: PROGRAM events an incarnation writes with its first bar (one per pitched track).
PROGRAMS_PER_START = sum(t.channel != DRUM_CHANNEL for t in TRACKS)


def test_a_raising_composer_sends_all_notes_off_before_the_replacement_starts(
    run_dir: Path,
) -> None:
    log = run_dir / "notes.jsonl"
    options = {"seed": 6, "midi": {"api": "none"}, "recording": {"directory": "off"}}
    actors, rings = composer_performance(log, options, composer=RAISING_COMPOSER)

    def programs() -> int:
        return int(np.sum(read_note_log(log)[:, KIND] == EventKind.PROGRAM))

    with Performance(run_dir, performance_toml(actors, rings)) as perf:
        perf.wait_actor(
            "composer",
            lambda a: a["incarnation"] == 2 and a["telemetry"].get("bars", 0) >= 1,
            30,
            "the replacement to compose a bar",
        )
        wait_until(lambda: programs() >= 2 * PROGRAMS_PER_START, 10, "the replacement's bar")
        crashes = [e for e in perf.events() if e["event"] == "crash"]
        assert any("the test's composer raises" in e["detail"]["error"] for e in crashes)
        assert perf.stop() == 0

    events = read_note_log(log)
    kinds = events[:, KIND]
    offs = np.flatnonzero(kinds == EventKind.ALL_NOTES_OFF)
    program_rows = np.flatnonzero(kinds == EventKind.PROGRAM)
    first_start, replacement_start = program_rows[0], program_rows[PROGRAMS_PER_START]
    assert len(offs) == 1, "exactly one all-notes-off: the raising incarnation's last words"
    off = offs[0]
    assert first_start < off < replacement_start
    assert events[off, CHANNEL] == -1  # every channel
    # It was sent when the composer raised: no earlier than the notes it had started.
    ons_before = events[:off][kinds[:off] == EventKind.NOTE_ON]
    assert len(ons_before) > 0 and events[off, TIME] >= ons_before[0, TIME]
