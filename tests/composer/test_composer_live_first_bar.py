"""A performance's first bar starts right after the performance does, not on the
clock's next bar line (issue 11: every performance opened with a silent bar), and
the clock's bar grid is the composer's from that first bar on, across a restart.

Real processes: a tone clock (silent), the composer (rule engines) and a logger
in the synth's seat on the ``notes`` ring.
"""

from __future__ import annotations

import itertools
import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from composer_support import SAMPLE_RATE, bar_markers, composer_performance, read_note_log
from performance import Performance, wait_until
from toml_config import performance_toml

from kelly_actors.bus import note_events
from kelly_actors.composer.live.bar_grid import FIRST_BAR_LEAD_S
from kelly_actors.composer.mapper import tempo_bpm

pytestmark = pytest.mark.slow

#: Status polls this often (s) while waiting for ready: the ready sample is read
#: at most one poll plus one status round trip after the last actor is ready.
POLL_S = 0.005
#: Slack (s) for a shared, loaded machine: the composer's first step, the status
#: round trip and the logger may each be scheduled late. A silent first bar would
#: still fail by far (a bar at 120 bpm is 2 s).
SLACK_S = 0.3


def options(run_dir: Path) -> dict[str, Any]:
    return {"seed": 3, "midi": {"api": "none"}, "recording": {"directory": str(run_dir / "rec")}}


def ready_sample(perf: Performance) -> int:
    """The transport's sample counter when the supervisor first reports every actor
    ready (or degraded: started, with something missing)."""

    def all_started() -> dict[str, Any] | None:
        snap = perf.status()
        states = {a["state"] for a in snap["actors"]}
        return snap if states <= {"ready", "degraded"} else None

    snap = wait_until(all_started, 30, "every actor ready", interval=POLL_S)
    transport = snap["transport"]
    assert transport is not None and transport["running"], "the clock runs once audio is ready"
    return int(transport["sample_counter"])


def bar_lines(log: Path) -> np.ndarray:
    """The EMOTION events (one per bar line, at its sample) the composer wrote."""
    events = read_note_log(log)
    return events[events[:, note_events.KIND] == note_events.EventKind.EMOTION]


def bar_samples(line: np.ndarray) -> int:
    """Samples in the bar that opens with ``line`` (its tempo follows its arousal)."""
    return round(4 * 60.0 / tempo_bpm(line[note_events.B]) * SAMPLE_RATE)


def assert_one_grid(lines: np.ndarray) -> None:
    """Every bar line is exactly one bar after the previous one: no gap, no overlap."""
    for prev, cur in itertools.pairwise(lines):
        assert cur[note_events.TIME] - prev[note_events.TIME] == bar_samples(prev)


def recorded_bars(run_dir: Path) -> list[list[int]]:
    return [bar_markers(p) for p in sorted((run_dir / "rec").glob("take-*/segment-*.mid"))]


def test_the_first_bar_starts_right_after_ready_and_the_clock_counts_from_it(
    run_dir: Path,
) -> None:
    log = run_dir / "notes.jsonl"
    actors, rings = composer_performance(log, options(run_dir))
    with Performance(run_dir, performance_toml(actors, rings)) as perf:
        ready = ready_sample(perf)
        wait_until(lambda: len(bar_lines(log)) >= 3, 30, "three bars composed")
        first = bar_lines(log)[0]
        # Not the clock's next bar line (2 s at its 120 bpm): the lead over ready.
        lead_s = (first[note_events.TIME] - ready) / SAMPLE_RATE
        assert lead_s <= FIRST_BAR_LEAD_S + SLACK_S, f"first bar {lead_s:.3f} s after ready"
        assert lead_s < bar_samples(first) / SAMPLE_RATE, "the first bar was a whole silent bar"

        # Mid-bar, the clock's bar and beat are the composer's: its first bar line is bar 0.
        snap = wait_until(
            lambda: clock_mid_bar(perf, bar_lines(log)), 30, "the clock to be mid-bar in bar 1+"
        )
        transport, lines = snap
        counter = transport["sample_counter"]
        k = int(np.searchsorted(lines[:, note_events.TIME], counter, side="right")) - 1
        beat_in_bar = (counter - lines[k, note_events.TIME]) / (bar_samples(lines[k]) / 4)
        assert transport["bar"] == k
        assert transport["beat_in_bar"] == pytest.approx(beat_in_bar, abs=0.01)
        assert transport["tempo"] == pytest.approx(tempo_bpm(lines[k, note_events.B]))
        assert perf.stop() == 0

    assert_one_grid(bar_lines(log))
    (bars,) = recorded_bars(run_dir)
    assert bars == list(range(len(bars))) and len(bars) >= 3  # bar 0 first, none skipped


def clock_mid_bar(perf: Performance, lines: np.ndarray) -> tuple[dict[str, Any], np.ndarray] | None:
    """(transport, bar lines) once the clock is in bar ≥ 1, at least a tenth of a bar
    from either of its bar lines (the status is not read at the same instant as the log)."""
    transport = perf.status()["transport"]
    counter = transport["sample_counter"]
    times = lines[:, note_events.TIME]
    k = int(np.searchsorted(times, counter, side="right")) - 1
    if k < 1 or k + 1 >= len(lines):
        return None  # before bar 1, or the next bar line is not logged yet
    margin = bar_samples(lines[k]) / 10
    if counter - times[k] < margin or times[k + 1] - counter < margin:
        return None
    return transport, lines


def test_a_composer_killed_in_its_first_bars_is_replaced_on_the_same_grid(
    run_dir: Path,
) -> None:
    log = run_dir / "notes.jsonl"
    actors, rings = composer_performance(log, options(run_dir))
    with Performance(run_dir, performance_toml(actors, rings)) as perf:
        ready = ready_sample(perf)
        # Bar 0 is playing and bar 1 composed: the kill lands in the early first bars.
        before = perf.wait_actor(
            "composer",
            lambda a: a["control_state"].get("next_bar", 0) >= 2,
            30,
            "the composer to publish its first two bars",
        )
        os.kill(before["pid"], signal.SIGKILL)
        after = perf.wait_actor(
            "composer",
            lambda a: a["incarnation"] == 2 and a["telemetry"].get("bars", 0) >= 2,
            30,
            "the replacement to compose two bars",
        )
        # It continued the grid: no re-anchoring, and no early bar of its own.
        assert after["telemetry"]["regrids"] == 0
        wait_until(lambda: len(recorded_bars(run_dir)) >= 2, 10, "the replacement's segment")
        assert perf.stop() == 0

    lines = bar_lines(log)
    assert (lines[0, note_events.TIME] - ready) / SAMPLE_RATE <= FIRST_BAR_LEAD_S + SLACK_S
    assert_one_grid(lines)
    first, second = recorded_bars(run_dir)
    assert first[0] == 0
    assert first + second == list(range(len(first) + len(second)))
