"""A bar's notes as note events: the one encoding the ring, the MIDI port and the recording share.

:func:`bar_events` turns a bar's notes into rows of the ``notes`` ring's ``float64[8]``
layout, each row filled by :mod:`kelly_actors.bus.note_events` (so the kinds are
:class:`~kelly_actors.bus.note_events.EventKind`, nothing else). Times are in whatever
unit the caller counts in: transport samples for the ring and the MIDI port, ticks for
the recording. :func:`midi_message` turns one row into its MIDI bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kelly_actors.bus import note_events
from kelly_actors.bus.note_events import CHANNEL, KEY, KIND, TIME, VELOCITY, EventKind
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.music.notes import DRUM_CHANNEL, TRACKS, TRACKS_BY_NAME, Note

#: Rank of each kind among events at one time: the bar's setup (emotion, programs) first,
#: then note-offs, then note-ons, so a pitch repeated at a boundary is released before
#: it strikes again.
SAME_TIME_RANK = {
    EventKind.EMOTION: 0,
    EventKind.PROGRAM: 0,
    EventKind.NOTE_OFF: 1,
    EventKind.NOTE_ON: 2,
}
#: MIDI status nibbles of the kinds that have a channel message.
_STATUS = {EventKind.NOTE_ON: 0x90, EventKind.NOTE_OFF: 0x80, EventKind.PROGRAM: 0xC0}


def bar_events(
    notes: Sequence[Note],
    start: int,
    units_per_beat: float,
    bar_units: int,
    *,
    emotion: PAD | None = None,
    programs: bool = False,
) -> np.ndarray:
    """The bar's events as ``float64 (n, 8)`` rows, sorted by time, then :data:`SAME_TIME_RANK`.

    Args:
        notes: the bar's notes (beats from the bar line); a note of a track not in
            :data:`~kelly_actors.music.notes.TRACKS` is left out.
        start: the bar line, in the caller's time unit.
        units_per_beat: time units per beat (samples per beat, or ticks per beat).
        bar_units: the bar's length in time units; every note-off lies within the bar
            and at least one unit after its note-on.
        emotion: when given, an EMOTION event at the bar line (valence, arousal, dominance).
        programs: when true, a PROGRAM event at the bar line for every pitched track.
    """
    setup = [t for t in TRACKS if t.channel != DRUM_CHANNEL] if programs else []
    rows = np.empty((len(setup) + 2 * len(notes) + 1, note_events.EVENT_SHAPE[0]), np.float64)
    n = 0
    if emotion is not None:
        note_events.emotion(rows[n], start, *emotion.as_tuple())
        n += 1
    for track in setup:
        note_events.program(rows[n], start, track.channel, track.program)
        n += 1
    end = start + bar_units
    for note in notes:
        track = TRACKS_BY_NAME.get(note.track)
        if track is None:
            continue
        on = start + round(note.start_beat * units_per_beat)
        off = min(end, max(on + 1, start + round(note.end_beat * units_per_beat)))
        note_events.note_on(rows[n], on, track.channel, note.pitch, note.velocity)
        note_events.note_off(rows[n + 1], off, track.channel, note.pitch)
        n += 2
    rows = rows[:n]
    rank = np.array([SAME_TIME_RANK[EventKind(int(k))] for k in rows[:, KIND]], np.int64)
    # lexsort is stable: events equal in time and rank keep the notes' order.
    return rows[np.lexsort((rank, rows[:, TIME]))]


def midi_message(row: np.ndarray) -> bytes | None:
    """The MIDI channel message of a NOTE_ON, NOTE_OFF or PROGRAM row; None for other kinds."""
    kind = EventKind(int(row[KIND]))
    status = _STATUS.get(kind)
    if status is None:
        return None
    channel, key = int(row[CHANNEL]), int(row[KEY])
    if kind == EventKind.PROGRAM:
        return bytes((status | channel, key))
    return bytes((status | channel, key, int(row[VELOCITY])))
