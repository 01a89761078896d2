"""A bar's note events: one encoding (bus.note_events) for the ring, the MIDI port and the
recording, in an order where a repeated pitch is released before it strikes again."""

from __future__ import annotations

import numpy as np

from kelly_actors.bus.note_events import (
    CHANNEL,
    KEY,
    KIND,
    TIME,
    VELOCITY,
    A,
    EventKind,
    all_notes_off,
)
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.live.events import bar_events, midi_message
from kelly_actors.music.notes import DRUM_CHANNEL, TRACKS, TRACKS_BY_NAME, Note

SPB = 1000.0  # samples per beat
BAR = 4000


def test_the_bar_line_carries_the_emotion_then_the_programs_then_offs_before_ons() -> None:
    notes = [
        Note("melody", 62, 90, 1.0, 1.0),
        Note("melody", 62, 80, 0.0, 1.0),
        Note("bass", 40, 70, 0.0, 4.5),  # past the bar's end: cut at the bar line
        Note("melody", 67, 90, 3.0, 0.0),  # zero length: off one sample after its on
    ]
    rows = bar_events(notes, 10_000, SPB, BAR, emotion=PAD(0.2, 0.6, 0.4), programs=True)
    kinds = [EventKind(int(k)) for k in rows[:, KIND]]
    pitched = [t for t in TRACKS if t.channel != DRUM_CHANNEL]
    assert kinds[0] == EventKind.EMOTION and tuple(rows[0, A:]) == (0.2, 0.6, 0.4)
    assert kinds[1 : 1 + len(pitched)] == [EventKind.PROGRAM] * len(pitched)
    assert [int(r[KEY]) for r in rows[1 : 1 + len(pitched)]] == [t.program for t in pitched]
    assert list(rows[:, TIME]) == sorted(rows[:, TIME])

    def at(sample: int) -> list[tuple[EventKind, int]]:
        return [(kinds[i], int(rows[i, KEY])) for i in np.flatnonzero(rows[:, TIME] == sample)]

    # The repeated 62 is released before it strikes again.
    assert at(11_000) == [(EventKind.NOTE_OFF, 62), (EventKind.NOTE_ON, 62)]
    assert at(13_000) == [(EventKind.NOTE_ON, 67)] and at(13_001) == [(EventKind.NOTE_OFF, 67)]
    assert at(14_000) == [(EventKind.NOTE_OFF, 40)] and rows[-1, TIME] == 14_000
    bass_on = rows[(rows[:, KEY] == 40) & (rows[:, KIND] == EventKind.NOTE_ON)][0]
    assert bass_on[CHANNEL] == TRACKS_BY_NAME["bass"].channel and bass_on[VELOCITY] == 70


def test_without_setup_only_the_notes_and_unknown_tracks_are_left_out() -> None:
    rows = bar_events([Note("kazoo", 60, 90, 0, 1), Note("drums", 36, 100, 1, 0.5)], 0, 480, 1920)
    assert [EventKind(int(k)) for k in rows[:, KIND]] == [EventKind.NOTE_ON, EventKind.NOTE_OFF]
    assert list(rows[:, TIME]) == [480, 720] and set(rows[:, CHANNEL]) == {DRUM_CHANNEL}


def test_midi_messages_are_made_from_the_same_rows() -> None:
    rows = bar_events([Note("counter", 64, 77, 0, 1)], 0, SPB, BAR, programs=True)
    messages = [midi_message(r) for r in rows]
    counter = TRACKS_BY_NAME["counter"]
    assert bytes((0xC0 | counter.channel, counter.program)) in messages
    assert messages[-2:] == [bytes((0x90 | counter.channel, 64, 77)), bytes((0x80 | 1, 64, 0))]
    assert midi_message(all_notes_off(np.empty(8), 0)) is None
