"""Compound-word encoding of bars of notes, and its exact inverse.

A piece is a sequence of :class:`Bar` (a tempo and notes relative to the bar
line, in beats). :func:`quantize` puts it on the token grid; on quantized
music :func:`encode` and :func:`decode` are exact inverses:
``decode(encode(q)) == q`` and ``encode(decode(t)) == t``.

Token array: ``int64 [n_tokens, N_FIELDS]`` (columns as in
:data:`~kelly_actors.transformer.vocab.FIELDS`). Layout::

    BOS, then per bar: BAR(tempo, key), NOTE… (sorted by track order, position, pitch), then EOS

A bar's ``key`` is a key index (:func:`~kelly_actors.transformer.vocab.key_index`:
tonic and major/minor), and a pitched note's pitch is written in semitones from that
tonic (:func:`~kelly_actors.transformer.vocab.pitch_value`), so a degree of the scale is
one value in every key; a bar whose key is not known (None) cannot be encoded —
:class:`~kelly_actors.transformer.generate.Generator` lets the model fill it in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from kelly_actors.music.notes import Note
from kelly_actors.transformer import vocab as V


class TokenError(ValueError):
    """A token sequence that breaks the grammar; the message says where."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One 4/4 bar: tempo in bpm, notes with ``start_beat`` relative to its bar line, and
    its key index 0…23 (:func:`~kelly_actors.transformer.vocab.key_index`; None: not known)."""

    tempo_bpm: float
    notes: tuple[Note, ...]
    key: int | None = None

    def with_key(self, key: int | None) -> Bar:
        return Bar(self.tempo_bpm, self.notes, key)


def note_sort_key(note: Note) -> tuple[int, float, int]:
    """Canonical order inside a bar: track order, then onset, then pitch."""
    return (V.TRACK_INDEX[note.track], note.start_beat, note.pitch)


def quantize_note(note: Note) -> Note:
    """Snap a note (times relative to its bar) to the grid; it ends by the bar line."""
    if note.track not in V.TRACK_INDEX:
        raise TokenError(f"unknown track {note.track!r}")
    position = min(V.STEPS_PER_BAR - 1, max(0, round(note.start_beat * V.STEPS_PER_BEAT)))
    room = V.STEPS_PER_BAR - position
    steps = V.DURATION_STEPS[V.duration_bin(note.duration_beats * V.STEPS_PER_BEAT, room)]
    return Note(
        note.track,
        min(127, max(0, int(note.pitch))),
        V.level_velocity(V.velocity_level(note.velocity)),
        position / V.STEPS_PER_BEAT,
        steps / V.STEPS_PER_BEAT,
    )


def quantize_bar(bar: Bar) -> Bar:
    """Grid, 32 velocity levels, 8 durations, 48 tempi; one note per (track, onset, pitch)."""
    unique: dict[tuple[str, float, int], Note] = {}
    for note in bar.notes:
        q = quantize_note(note)
        key = (q.track, q.start_beat, q.pitch)
        # Of two notes that land on the same slot keep the longer (then louder) one.
        old = unique.get(key)
        if old is None or (q.duration_beats, q.velocity) > (old.duration_beats, old.velocity):
            unique[key] = q
    notes = tuple(sorted(unique.values(), key=note_sort_key))
    return Bar(V.bin_tempo(V.tempo_bin(bar.tempo_bpm)), notes, bar.key)


def quantize(bars: Iterable[Bar]) -> tuple[Bar, ...]:
    return tuple(quantize_bar(b) for b in bars)


def note_token(note: Note, key: int) -> tuple[int, ...]:
    """One quantized note in a bar of key index ``key`` → its compound word (a tuple of
    N_FIELDS ints); a pitched note's pitch counts from the key's tonic (docs/tokens.md)."""
    steps = round(note.duration_beats * V.STEPS_PER_BEAT)
    track = V.TRACK_INDEX[note.track]
    return (
        V.NOTE,
        track + 1,
        round(note.start_beat * V.STEPS_PER_BEAT) + 1,
        V.pitch_value(note.pitch, track, key),
        V.velocity_level(note.velocity) + 1,
        V.DURATION_STEPS.index(steps) + 1,
        0,
        0,
    )


def bar_token(tempo_bpm: float, key: int) -> tuple[int, ...]:
    """A bar line at ``tempo_bpm`` in key index ``key`` (0…23)."""
    if not 0 <= key < V.KEYS:
        raise TokenError(f"key index must be 0..{V.KEYS - 1}, got {key}")
    return (V.BAR, 0, 0, 0, 0, 0, V.tempo_bin(tempo_bpm) + 1, key + 1)


SPECIAL = {kind: (kind,) + (0,) * (V.N_FIELDS - 1) for kind in (V.PAD_TYPE, V.BOS, V.EOS)}


def encode(bars: Sequence[Bar], bos: bool = True, eos: bool = True) -> np.ndarray:
    """Quantized bars → ``int64 [n, N_FIELDS]``. Quantize first (:func:`quantize`); every
    bar needs its key (:class:`TokenError` names the first without one)."""
    rows: list[tuple[int, ...]] = [SPECIAL[V.BOS]] if bos else []
    for i, bar in enumerate(bars):
        if bar.key is None:
            raise TokenError(f"bar {i} has no key")
        rows.append(bar_token(bar.tempo_bpm, bar.key))
        rows.extend(note_token(n, bar.key) for n in sorted(bar.notes, key=note_sort_key))
    if eos:
        rows.append(SPECIAL[V.EOS])
    return np.asarray(rows, dtype=np.int64).reshape(-1, V.N_FIELDS)


def decode_note(row: Sequence[int], key: int) -> Note:
    """A NOTE compound word in a bar of key index ``key`` → the quantized note it stands
    for (times in beats from the bar); :class:`TokenError` if its pitch value names no
    MIDI pitch in that key."""
    _, track, position, value, level, duration, _, _ = (int(x) for x in row)
    pitch = V.value_pitch(value, track - 1, key)
    if not 0 <= pitch <= 127:
        raise TokenError(f"pitch value {value} is MIDI {pitch} in key {key}, outside 0..127")
    return Note(
        V.TRACK_ORDER[track - 1],
        pitch,
        V.level_velocity(level - 1),
        (position - 1) / V.STEPS_PER_BEAT,
        V.DURATION_STEPS[duration - 1] / V.STEPS_PER_BEAT,
    )


def check_row(row: Sequence[int], index: int) -> None:
    """Raise :class:`TokenError` unless every field of ``row`` is legal for its type."""
    kind = int(row[V.TYPE])
    if not 0 < kind < len(V.TYPE_NAMES):
        raise TokenError(f"token {index}: bad type {kind}")
    used = V.FIELDS_OF_TYPE[kind]
    for field in range(1, V.N_FIELDS):
        value = int(row[field])
        if field in used and not 1 <= value < V.FIELD_SIZES[field]:
            raise TokenError(f"token {index}: {V.FIELDS[field]}={value} out of range")
        if field not in used and value != 0:
            raise TokenError(
                f"token {index}: {V.FIELDS[field]} must be 0 in a {V.TYPE_NAMES[kind]}"
            )
    if kind == V.NOTE:
        position = int(row[V.POSITION]) - 1
        if position + V.DURATION_STEPS[int(row[V.DURATION]) - 1] > V.STEPS_PER_BAR:
            raise TokenError(f"token {index}: note runs past the bar line")


def decode(tokens: np.ndarray) -> tuple[Bar, ...]:
    """``int [n, N_FIELDS]`` → bars; :class:`TokenError` on a sequence that breaks the grammar.

    BOS and EOS are optional (a window cut from a longer piece decodes too);
    notes before the first BAR are an error, as is anything after EOS.
    """
    tokens = np.asarray(tokens)
    if tokens.ndim != 2 or tokens.shape[1] != V.N_FIELDS:
        raise TokenError(f"tokens must have shape [n, {V.N_FIELDS}], got {list(tokens.shape)}")
    bars: list[Bar] = []
    tempo: float | None = None
    bar_key = 0
    notes: list[Note] = []
    last_order: tuple[int, float, int] | None = None
    ended = False
    for i, row in enumerate(tokens.tolist()):
        if ended:
            raise TokenError(f"token {i}: after EOS")
        check_row(row, i)
        kind = row[V.TYPE]
        if kind == V.BOS:
            if i != 0:
                raise TokenError(f"token {i}: BOS must come first")
        elif kind == V.EOS:
            ended = True
        elif kind == V.BAR:
            if tempo is not None:
                bars.append(Bar(tempo, tuple(notes), bar_key))
            tempo, notes, last_order = V.bin_tempo(row[V.TEMPO] - 1), [], None
            bar_key = row[V.KEY] - 1
        else:
            if tempo is None:
                raise TokenError(f"token {i}: a note before the first bar line")
            try:
                note = decode_note(row, bar_key)
            except TokenError as exc:
                raise TokenError(f"token {i}: {exc}") from None
            order = note_sort_key(note)
            if last_order is not None and order <= last_order:
                raise TokenError(f"token {i}: notes out of order inside the bar")
            last_order = order
            notes.append(note)
    if tempo is not None:
        bars.append(Bar(tempo, tuple(notes), bar_key))
    return tuple(bars)
