"""Where the composer's bars go when the clock follows a Link session (pure logic)."""

from __future__ import annotations

import pytest

from kelly_actors.bus.transport import LINK_LINKED, LinkWords, TransportState
from kelly_actors.link.grid import bar_start

RATE = 48_000
BEAT_120 = 24_000  # samples per beat at 120 bpm


def clock(counter: int, beat: float, tempo: float = 120.0) -> TransportState:
    return TransportState(counter, RATE, 256, tempo, beat, 4, True)


def test_the_bar_starts_on_the_sessions_next_bar_line_at_its_tempo() -> None:
    # Beat 101.5 at sample 10_000: the next bar line (beat 104) is 2.5 beats later.
    start, tempo = bar_start(clock(10_000, 101.5), LinkWords(LINK_LINKED), 10_000, None, 4)
    assert start == 10_000 + round(2.5 * BEAT_120) and tempo == 120.0


def test_the_planned_bar_line_is_kept_when_it_is_the_sessions() -> None:
    planned = 10_000 + round(2.5 * BEAT_120) + 3  # a rounding off the line
    start, _ = bar_start(clock(10_000, 101.5), LinkWords(LINK_LINKED), 10_000, planned, 4)
    assert start == 10_000 + round(2.5 * BEAT_120)
    # A plan a bar later than the first line stays a bar later.
    later = planned + 4 * BEAT_120
    start, _ = bar_start(clock(10_000, 101.5), LinkWords(LINK_LINKED), 10_000, later, 4)
    assert start == 10_000 + round(6.5 * BEAT_120)


def test_a_line_too_close_moves_to_the_next_one() -> None:
    planned = 10_000 + round(2.5 * BEAT_120)
    start, _ = bar_start(clock(10_000, 101.5), LinkWords(LINK_LINKED), planned + 1, planned, 4)
    assert start == planned + 4 * BEAT_120


def test_a_queued_change_of_tempo_places_the_bars_after_it() -> None:
    # Kelly's own change: from the bar line at beat 104 the clock plays 150 bpm.
    change = 10_000 + round(2.5 * BEAT_120)
    words = LinkWords(LINK_LINKED, change, 150.0)
    start, tempo = bar_start(clock(10_000, 101.5), words, change + 1, None, 4)
    assert start == pytest.approx(change + 4 * 60.0 / 150.0 * RATE, abs=1)
    assert tempo == 150.0
    start, tempo = bar_start(clock(10_000, 101.5), words, 10_000, None, 4)
    assert (start, tempo) == (change, 150.0)  # the bar that starts on the change plays at it
