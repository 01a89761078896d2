"""SIGKILL the composer mid-performance: the recording stays valid and the
replacement carries on from the next bar, in the same key with the same emotion,
without a gap or an overlap in the beat."""

from __future__ import annotations

import itertools
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from composer_support import (
    SAMPLE_RATE,
    bar_markers,
    composer_performance,
    key_markers,
    read_note_log,
)
from performance import Performance, wait_until
from toml_config import performance_toml

from kelly_actors.bus import note_events
from kelly_actors.composer import midi_file
from kelly_actors.composer.mapper import tempo_bpm

pytestmark = pytest.mark.slow
PAD_SET = {"valence": -0.5, "arousal": 0.8, "dominance": 0.4}  # aeolian, 156 bpm


def telemetry(perf: Performance) -> dict[str, Any]:
    return perf.actor("composer")["telemetry"]


def test_a_killed_composer_is_replaced_on_the_next_bar_with_key_and_emotion(
    run_dir: Path,
) -> None:
    log = run_dir / "notes.jsonl"
    options = {
        "seed": 11,
        "midi": {"api": "none"},
        "recording": {"directory": str(run_dir / "rec")},
    }
    actors, rings = composer_performance(log, options)
    with Performance(run_dir, performance_toml(actors, rings)) as perf:
        perf.wait_ready()
        perf.request("call", actor="composer", method="set_emotion", args=PAD_SET)
        perf.wait_actor(
            "composer",
            lambda a: (
                a["telemetry"].get("emotion", {}).get("valence") == -0.5
                and a["telemetry"]["bars"] >= 4
            ),
            30,
            "the override to be playing",
        )
        before = perf.actor("composer")
        os.kill(before["pid"], signal.SIGKILL)
        after = perf.wait_actor(
            "composer",
            lambda a: (
                a["incarnation"] == 2
                and a["state"] == "ready"
                and a["telemetry"].get("bars", 0) >= 2
            ),
            30,
            "the replacement to compose two bars",
        )
        t0, t1 = before["telemetry"], after["telemetry"]
        assert (t1["key"], t1["mode"]) == (t0["key"], t0["mode"]) == (t1["key"], "aeolian")
        assert t1["emotion"] == t0["emotion"]
        assert t1["tempo"] == t0["tempo"] == pytest.approx(156.0)
        assert t1["regrids"] == 0  # it continued the grid, it did not re-anchor
        exits = [e for e in perf.events() if e["event"] == "actor_exited"]
        assert any("SIGKILL" in e["detail"]["reason"] for e in exits)
        wait_until(lambda: len(bar_markers_in(run_dir)) >= 2, 10, "two recording segments")
        assert perf.stop() == 0

    first, second = bar_markers_in(run_dir)
    # Every finished bar survived the kill; the replacement starts on the next one.
    assert first == list(range(first[0], first[-1] + 1))
    assert second[0] == first[-1] + 1
    assert second == list(range(second[0], second[-1] + 1))
    segments = sorted((run_dir / "rec").glob("take-*/segment-*.mid"))
    assert key_markers(segments[1])[0] == t0["key"]
    assert midi_file.read(segments[0]).notes and midi_file.read(segments[1]).notes

    # The synth's view: one EMOTION event per bar line, each exactly one bar
    # (at the previous bar's tempo) after the last — no gap, no overlap.
    events = read_note_log(log)
    lines = events[events[:, note_events.KIND] == note_events.EventKind.EMOTION]
    assert len(lines) >= len(first) + len(second)
    for prev, cur in itertools.pairwise(lines):
        bar = round(4 * (60.0 / tempo_bpm(prev[note_events.B]) * SAMPLE_RATE))
        assert cur[note_events.TIME] - prev[note_events.TIME] == bar
    ons = events[events[:, note_events.KIND] == note_events.EventKind.NOTE_ON]
    offs = events[events[:, note_events.KIND] == note_events.EventKind.NOTE_OFF]
    assert len(ons) == len(offs)  # whole bars only: every note ends


def bar_markers_in(run_dir: Path) -> list[list[int]]:
    return [bar_markers(p) for p in sorted((run_dir / "rec").glob("take-*/segment-*.mid"))]
