"""Note events on the ``notes`` ring (composer → synth) and tempo requests
on the ``tempo`` ring (composer → clock).

One event per ring slot: ``float64[8]``. float64 keeps sample times exact up
to 2^53 samples (about 6,000 years at 48 kHz).

``notes`` slot layout::

    [TIME]      absolute sample time the event takes effect (transport samples)
    [KIND]      an :class:`EventKind` (the ring carries the first six)
    [CHANNEL]   MIDI channel 0–15
    [KEY]       MIDI note 0–127 (NOTE_ON/NOTE_OFF), GM program (PROGRAM)
    [VELOCITY]  1–127 (NOTE_ON)
    [A] [B] [C] PITCH_BEND: A = bend in semitones (−2…2);
                EMOTION: A = valence (−1…1), B = arousal (0…1), C = dominance (0…1)

``tempo`` slot layout::

    [0] sample time from which the tempo holds
    [1] tempo in bpm
    [2] beat number at that sample (the composer's bar × beats per bar)
    [3] beats per bar
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

EVENT_SHAPE = (8,)
EVENT_DTYPE = "float64"
TIME, KIND, CHANNEL, KEY, VELOCITY, A, B, C = range(8)

#: MIDI channels; channel 10 (index 9) is the General MIDI drum kit.
N_CHANNELS = 16
DRUM_CHANNEL = 9
#: Pitch-bend range in semitones either way (the General MIDI default, ±2).
BEND_RANGE_SEMITONES = 2.0
#: Centre and half-range of MIDI's 14-bit pitch-bend value.
BEND_CENTER = 8192
#: Controller numbers of MIDI's channel-mode messages.
CC_ALL_SOUND_OFF = 120
CC_ALL_NOTES_OFF = 123


class EventKind(IntEnum):
    """What a note event does; the one set of codes for the ring, the synth and the recorder.

    ``NOTE_ON`` … ``PROGRAM`` travel on the ``notes`` ring. ``ALL_SOUND_OFF``, ``PRESET``
    and ``TIMBRE`` exist only inside the synth's own event queue.
    """

    NOTE_ON = 1
    NOTE_OFF = 2
    #: Release every sounding voice (MIDI CC 123); channel −1 means every channel.
    ALL_NOTES_OFF = 3
    #: A = bend in semitones (−:data:`BEND_RANGE_SEMITONES` … +).
    PITCH_BEND = 4
    #: A, B, C = valence (−1…1), arousal (0…1), dominance (0…1).
    EMOTION = 5
    #: KEY = General MIDI program 0–127.
    PROGRAM = 6
    #: Cut every voice at once, with no release (MIDI CC 120).
    ALL_SOUND_OFF = 7
    #: Switch a channel to a named timbre preset (synth-internal).
    PRESET = 8
    #: Swap the synth's timbre (synth-internal).
    TIMBRE = 9


TEMPO_SHAPE = (4,)


def note_on(out: np.ndarray, time: int, channel: int, key: int, velocity: int) -> np.ndarray:
    """Fill ``out`` (float64[8]) with a note-on; returns ``out``."""
    out[:] = (time, EventKind.NOTE_ON, channel, key, velocity, 0.0, 0.0, 0.0)
    return out


def note_off(out: np.ndarray, time: int, channel: int, key: int) -> np.ndarray:
    out[:] = (time, EventKind.NOTE_OFF, channel, key, 0.0, 0.0, 0.0, 0.0)
    return out


def all_notes_off(out: np.ndarray, time: int, channel: int = -1) -> np.ndarray:
    """Channel −1 means every channel (panic)."""
    out[:] = (time, EventKind.ALL_NOTES_OFF, channel, 0.0, 0.0, 0.0, 0.0, 0.0)
    return out


def pitch_bend(out: np.ndarray, time: int, channel: int, semitones: float) -> np.ndarray:
    out[:] = (time, EventKind.PITCH_BEND, channel, 0.0, 0.0, semitones, 0.0, 0.0)
    return out


def emotion(
    out: np.ndarray, time: int, valence: float, arousal: float, dominance: float
) -> np.ndarray:
    out[:] = (time, EventKind.EMOTION, -1, 0.0, 0.0, valence, arousal, dominance)
    return out


def program(out: np.ndarray, time: int, channel: int, gm_program: int) -> np.ndarray:
    out[:] = (time, EventKind.PROGRAM, channel, gm_program, 0.0, 0.0, 0.0, 0.0)
    return out


def tempo_request(
    out: np.ndarray, time: int, tempo: float, beat: float, beats_per_bar: int = 4
) -> np.ndarray:
    """Fill ``out`` (float64[4]): from sample ``time`` on, ``tempo`` bpm, at beat ``beat``."""
    out[:] = (time, tempo, beat, beats_per_bar)
    return out
