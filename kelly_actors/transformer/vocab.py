"""The compound-word vocabulary: fields, their sizes and the quantization grids.

A token is one row of ``N_FIELDS`` small integers (one per field in
:data:`FIELDS`). Value 0 of every field except ``type`` means "not used by
this kind of token", so a BAR token leaves the note fields at 0 and a NOTE
token leaves ``tempo`` at 0. See docs/tokens.md.
"""

from __future__ import annotations

from kelly_actors.music.notes import BEATS_PER_BAR

#: Field names, in the column order of a token array.
FIELDS: tuple[str, ...] = (
    "type",
    "track",
    "position",
    "pitch",
    "velocity",
    "duration",
    "tempo",
    "key",
)
N_FIELDS = len(FIELDS)
TYPE, TRACK, POSITION, PITCH, VELOCITY, DURATION, TEMPO, KEY = range(N_FIELDS)

#: Token types (values of the ``type`` field).
PAD_TYPE, BOS, EOS, BAR, NOTE = range(5)
TYPE_NAMES = ("pad", "bos", "eos", "bar", "note")

#: Tracks in the order they appear inside a bar: accompaniment first, so a
#: model can be prompted with the rule engines' harmony and asked for the lines.
TRACK_ORDER: tuple[str, ...] = ("bass", "chords", "pad", "arpeggio", "drums", "counter", "melody")
TRACK_INDEX: dict[str, int] = {name: i for i, name in enumerate(TRACK_ORDER)}

#: Positions per bar: a 16th-note grid in 4/4.
STEPS_PER_BEAT = 4
STEPS_PER_BAR = STEPS_PER_BEAT * BEATS_PER_BAR
#: The 8 duration bins, in 16th notes: 16th, 8th, dotted 8th, quarter,
#: dotted quarter, half, dotted half, whole.
DURATION_STEPS: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12, 16)
#: 32 velocity levels of 4 MIDI steps; level l sounds at 4·l + 2.
VELOCITY_LEVELS = 32
#: 48 tempo bins of 4 bpm from 40 bpm: bin i is 40 + 4·i bpm (40…228).
TEMPO_BINS = 48
TEMPO_MIN_BPM = 40.0
TEMPO_STEP_BPM = 4.0
#: 24 keys on a bar line: key index 2·tonic + minor (tonic a pitch class, C = 0). The
#: model writes the key of each bar itself, so it can choose the mode from the valence
#: before the first note (docs/tokens.md).
KEYS = 24
#: Mode names read as minor (the rule composer's minor church modes, and "minor").
MINOR_NAMES = frozenset({"minor", "aeolian", "dorian", "phrygian"})

#: A pitched note's ``pitch`` value counts semitones from its bar's tonic (docs/tokens.md):
#: value = pitch − tonic + ``PITCH_OFFSET``, so MIDI 0 under tonic B is 1 and MIDI 127
#: under tonic C is 139. Drums keep their GM key: value = key + 1.
PITCH_OFFSET = 12
PITCH_VALUES = 127 + PITCH_OFFSET
DRUMS = TRACK_ORDER.index("drums")

#: Number of values of each field, including the 0 = "not used" value.
FIELD_SIZES: tuple[int, ...] = (
    len(TYPE_NAMES),
    len(TRACK_ORDER) + 1,
    STEPS_PER_BAR + 1,
    PITCH_VALUES + 1,
    VELOCITY_LEVELS + 1,
    len(DURATION_STEPS) + 1,
    TEMPO_BINS + 1,
    KEYS + 1,
)
#: Which fields each token type uses (beyond ``type``).
FIELDS_OF_TYPE: dict[int, tuple[int, ...]] = {
    PAD_TYPE: (),
    BOS: (),
    EOS: (),
    BAR: (TEMPO, KEY),
    NOTE: (TRACK, POSITION, PITCH, VELOCITY, DURATION),
}


def velocity_level(velocity: int) -> int:
    """MIDI velocity 1…127 → level 0…31."""
    return min(VELOCITY_LEVELS - 1, max(0, int(velocity) // 4))


def level_velocity(level: int) -> int:
    """Level 0…31 → the MIDI velocity it stands for (2…126)."""
    return 4 * int(level) + 2


def tempo_bin(bpm: float) -> int:
    """Beats per minute → tempo bin 0…47 (nearest, clipped to 40…228 bpm)."""
    index = round((float(bpm) - TEMPO_MIN_BPM) / TEMPO_STEP_BPM)
    return min(TEMPO_BINS - 1, max(0, index))


def bin_tempo(index: int) -> float:
    """Tempo bin → beats per minute."""
    return TEMPO_MIN_BPM + TEMPO_STEP_BPM * int(index)


def duration_bin(steps: float, room: int) -> int:
    """A length in 16ths → the nearest bin that still fits in ``room`` 16ths (≥ 1)."""
    fitting = [i for i, d in enumerate(DURATION_STEPS) if d <= room]
    return min(fitting, key=lambda i: (abs(DURATION_STEPS[i] - steps), -i))


def key_index(tonic: int, mode: str) -> int:
    """A tonic pitch class (0…11) and a mode name → key index 0…23 (major or minor)."""
    if not 0 <= int(tonic) < 12:
        raise ValueError(f"tonic must be a pitch class 0..11, got {tonic}")
    return 2 * int(tonic) + (mode in MINOR_NAMES)


def key_of(index: int) -> tuple[int, str]:
    """Key index 0…23 → (tonic pitch class, ``"major"`` or ``"minor"``)."""
    if not 0 <= int(index) < KEYS:
        raise ValueError(f"key index must be 0..{KEYS - 1}, got {index}")
    return int(index) // 2, "minor" if int(index) % 2 else "major"


def pitch_value(pitch: int, track: int, key: int) -> int:
    """A MIDI pitch 0…127 on track index ``track`` in key index ``key`` → its ``pitch``
    field value: semitones from the key's tonic + :data:`PITCH_OFFSET` (1…139), or the
    GM drum key + 1 on drums (1…128)."""
    if track == DRUMS:
        return int(pitch) + 1
    return int(pitch) - int(key) // 2 + PITCH_OFFSET


def value_pitch(value: int, track: int, key: int) -> int:
    """Inverse of :func:`pitch_value`; the result may fall outside 0…127 for a value the
    key cannot hold (the decoder refuses it)."""
    if track == DRUMS:
        return int(value) - 1
    return int(value) + int(key) // 2 - PITCH_OFFSET


def pitch_shift(track: int, key: int) -> int:
    """``pitch_value(p, track, key) - p``: how far MIDI pitch ``p`` moves to become a
    field value (the same for every pitch of one track in one key)."""
    return pitch_value(0, track, key)
