"""The symbolic listener on constructed note streams: major against minor, dense and loud
against sparse and soft; confidence with few notes and after the performer stops; stuck
notes and note-offs without a note-on; the ring row."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kelly_actors.symbolic.listener import Estimate, ListenerSettings, estimate
from kelly_actors.symbolic.notes import NoteTracker
from kelly_actors.symbolic.reading import ROW_DTYPE, ROW_SHAPE, BadReading, Reading

SETTINGS = ListenerSettings()
MAJOR_TUNE = [0, 4, 7, 12, 7, 4, 0, 2, 4, 5, 7, 9, 11, 12]
MINOR_TUNE = [0, 3, 7, 12, 7, 3, 0, 2, 3, 5, 7, 8, 10, 12]


def played(
    tune: list[int], ioi: float, velocity: int, legato: float, seconds: float = 8.0
) -> tuple[NoteTracker, float]:
    """``tune`` (semitones above middle C) repeated for ``seconds``: an onset every ``ioi``
    s, each note sounding ``legato`` of it."""
    notes = NoteTracker(stuck_s=8.0)
    now = 0.0
    for i in range(int(seconds / ioi)):
        pitch = 60 + tune[i % len(tune)]
        notes.note_on(0, pitch, velocity, now)
        notes.note_off(0, pitch, now + ioi * legato)
        now += ioi
    return notes, now


def heard(tune: list[int], ioi: float, velocity: int, legato: float) -> Estimate:
    notes, now = played(tune, ioi, velocity, legato)
    est = estimate(notes.recent(now, SETTINGS.window_s), now, SETTINGS)
    assert est is not None
    return est


def test_a_major_tune_sounds_more_positive_than_the_same_tune_in_minor() -> None:
    major = heard(MAJOR_TUNE, 0.4, 80, 0.8)
    minor = heard(MINOR_TUNE, 0.4, 80, 0.8)
    assert major.cues.key == "C major" and minor.cues.key == "C minor"
    assert major.valence > 0.1 > -0.1 > minor.valence
    assert major.arousal == pytest.approx(minor.arousal, abs=0.02)


def test_dense_loud_detached_playing_is_aroused_and_dominant_sparse_soft_playing_is_calm() -> None:
    loud = heard(MAJOR_TUNE, 0.08, 115, 0.4)
    soft = heard(MAJOR_TUNE, 1.0, 40, 0.95)
    assert loud.arousal > 0.8 and soft.arousal < 0.2
    assert loud.dominance > soft.dominance + 0.3
    assert loud.cues.onsets_per_s > 10 and soft.cues.onsets_per_s <= 1.0


def test_too_few_notes_give_no_confidence_and_a_full_window_gives_full_confidence() -> None:
    notes = NoteTracker(stuck_s=8.0)
    for i in range(SETTINGS.min_notes - 1):
        notes.note_on(0, 60 + i, 80, i * 0.25)
    now = SETTINGS.min_notes * 0.25
    few = estimate(notes.recent(now, SETTINGS.window_s), now, SETTINGS)
    assert few is not None and few.confidence == 0.0
    full = heard(MAJOR_TUNE, 0.2, 80, 0.8)
    assert full.cues.notes >= SETTINGS.full_notes and full.confidence == 1.0
    assert estimate([], 1.0, SETTINGS) is None


def test_the_confidence_decays_once_the_performer_stops_and_drops_out() -> None:
    est = heard(MAJOR_TUNE, 0.2, 80, 0.8)
    reading = Reading.of(est, last_onset=100.0, settings=SETTINGS)
    assert reading.confidence(100.0 + SETTINGS.hold_s) == 1.0
    later = reading.confidence(100.0 + SETTINGS.hold_s + SETTINGS.decay_s)
    assert later == pytest.approx(math.exp(-1.0))
    assert reading.confidence(100.0 + SETTINGS.hold_s + 10 * SETTINGS.decay_s) == 0.0


def test_a_stuck_note_times_out_and_a_note_off_without_note_on_is_counted() -> None:
    notes = NoteTracker(stuck_s=2.0)
    notes.note_on(0, 60, 90, 0.0)
    notes.note_off(0, 61, 0.5)
    assert notes.orphan_note_offs == 1 and len(notes.held) == 1
    assert notes.expire(1.0) == 0
    assert notes.expire(2.5) == 1
    assert notes.stuck_notes == 1 and notes.held == {}
    assert notes.notes[0].end == 2.0
    notes.note_on(0, 62, 90, 3.0)
    notes.note_on(0, 62, 95, 3.1)  # again without a note-off: a retrigger
    assert notes.retriggers == 1 and len(notes.held) == 1


def test_a_reading_goes_through_the_ring_row_and_a_bad_row_is_refused() -> None:
    est = heard(MINOR_TUNE, 0.3, 70, 0.7)
    row = np.zeros(ROW_SHAPE, ROW_DTYPE)
    Reading.of(est, 12.5, SETTINGS).write(row)
    back = Reading.from_row(row)
    assert back.valence == est.valence and back.notes == est.cues.notes and back.stamp == 12.5
    row[2] = math.nan
    with pytest.raises(BadReading, match="arousal"):
        Reading.from_row(row)
