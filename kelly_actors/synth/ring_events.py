"""``notes`` ring events (float64[8], :mod:`kelly_actors.bus.note_events`) → records of the
synth's event queue (:mod:`kelly_actors.synth.events`).

Both use the same :class:`~kelly_actors.bus.note_events.EventKind` codes and units (pitch
bend in semitones); the translation only unpacks the slot, leaves out what the synth does not
play, and maps two kinds to the synth's own: a GM ``PROGRAM`` becomes the ``PRESET`` nearest
to it, and ``ALL_NOTES_OFF`` becomes ``ALL_SOUND_OFF``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kelly_actors.bus import note_events as ne
from kelly_actors.bus.note_events import DRUM_CHANNEL, N_CHANNELS, EventKind
from kelly_actors.synth.events import EVENT_DTYPE, EmotionTable
from kelly_actors.synth.gm import preset_index

if TYPE_CHECKING:
    from kelly_actors.synth.voices import Synth

__all__ = ["RECORD_FIELDS", "as_records", "to_record"]

#: :meth:`Synth.schedule`'s argument order, as ``EVENT_DTYPE`` field names.
RECORD_FIELDS = ("sample_time", "kind", "note", "velocity", "channel", "value")

#: ``(sample_time, kind, note, velocity, channel, value)``: :meth:`Synth.schedule`'s arguments.
Record = tuple[int, int, int, int, int, float]


def to_record(ev: list[float], synth: Synth, play_drums: bool) -> Record | None:
    """The synth event for ring event ``ev`` (float64[8] as a list), or None (not played).

    An ``EMOTION`` event's PAD values go into ``synth``'s emotion table here (the record
    carries their key). Drum-channel notes are left out unless ``play_drums``: the DDSP voice
    has no drum kit.
    """
    t, kind, channel = int(ev[ne.TIME]), int(ev[ne.KIND]), int(ev[ne.CHANNEL])
    if kind in (EventKind.NOTE_ON, EventKind.NOTE_OFF):
        if channel == DRUM_CHANNEL and not play_drums:
            return None
        return t, kind, int(ev[ne.KEY]), int(ev[ne.VELOCITY]), channel, 0.0
    if kind == EventKind.ALL_NOTES_OFF:
        # The composer's all-notes-off is its panic (stop, failure, restart): every voice
        # fades out in a steal's 4 ms rather than ringing on through its release.
        return t, EventKind.ALL_SOUND_OFF, 0, 0, 0, 0.0
    if kind == EventKind.PITCH_BEND:
        return t, kind, 0, 0, channel, ev[ne.A]
    if kind == EventKind.EMOTION:
        note, velocity = EmotionTable.key_fields(synth.store_emotion(ev[ne.A], ev[ne.B], ev[ne.C]))
        return t, kind, note, velocity, 0, 0.0
    if kind == EventKind.PROGRAM and 0 <= channel < N_CHANNELS:
        return t, EventKind.PRESET, preset_index(int(ev[ne.KEY])), 0, channel, 0.0
    return None


def as_records(records: list[Record]) -> np.ndarray:
    """Records as an ``EVENT_DTYPE`` array, in the order given."""
    out = np.zeros(len(records), EVENT_DTYPE)
    if records:
        for name, column in zip(RECORD_FIELDS, zip(*records, strict=True), strict=True):
            out[name] = column
    return out
