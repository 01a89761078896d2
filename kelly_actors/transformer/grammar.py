"""Grammar-constrained decoding: boolean masks of the values each field may take next.

Fields of a compound word are chosen in order (type, then track, position,
pitch, velocity, duration for a note; tempo and key for a bar line). Before each
choice :class:`Grammar` says which values keep the sequence decodable by
:func:`~kelly_actors.transformer.tokens.decode`: notes in canonical
order inside a bar, nothing that runs past the bar line, EOS last. A value
allowed by a mask always leaves at least one legal way to finish the token,
so sampling under these masks never produces an undecodable sequence.

Scale-aware decoding: with ``pitch_classes`` set, pitched tracks (all but
drums) may only take pitches of those classes (e.g. the scale of the mode the
emotion implies). It narrows :meth:`Grammar._pitches`, which the position and
track masks are built from, so the guarantee above still holds.

Masks are built over MIDI pitches and moved into the ``pitch`` field's values by the
current bar's tonic (pitched notes count semitones from it, docs/tokens.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from kelly_actors.transformer import vocab as V


@dataclass
class Grammar:
    """The decoding state after the tokens seen so far.

    ``tracks`` limits the tracks a new note may use (None = all);
    ``pitch_ranges`` optionally limits pitches per track (inclusive MIDI);
    ``pitch_classes`` optionally limits the pitch classes (0…11, C = 0) of
    every track but drums (None = all twelve); ``emphasis`` maps pitch classes
    to a bonus (nats) added to the logits of those pitches on every track but
    drums (it shifts preferences, never what is allowed); ``key`` (a key index 0…23)
    fixes the key of every bar line (None: any key).
    """

    tracks: frozenset[str] | None = None
    pitch_ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    pitch_classes: frozenset[int] | None = None
    emphasis: dict[int, float] = field(default_factory=dict)
    key: int | None = None
    started: bool = False
    ended: bool = False
    in_bar: bool = False
    last: tuple[int, int, int] | None = (
        None  # (track index, position, MIDI pitch) of the bar's last note
    )
    #: The key index of the current bar's line (pitch values count from its tonic).
    bar_key: int = 0

    def __post_init__(self) -> None:
        self._in_scale: np.ndarray | None = None
        if self.pitch_classes is not None:
            classes = np.zeros(12, bool)
            classes[[int(c) % 12 for c in self.pitch_classes]] = True
            if not classes.any():
                raise ValueError("pitch_classes must name at least one pitch class")
            self._in_scale = np.tile(classes, 11)[:128]
        self._bias: np.ndarray | None = None
        if self.emphasis:
            per_class = np.zeros(12)
            for pc, bonus in self.emphasis.items():
                per_class[int(pc) % 12] = float(bonus)
            self._bias = np.tile(per_class, 11)[:128]

    def pitch_bias(self, track_value: int) -> np.ndarray | None:
        """Additive logits ``[FIELD_SIZES[PITCH]]`` for a note on ``track_value`` in the
        current bar, or None."""
        if self._bias is None or track_value - 1 == V.DRUMS:
            return None
        return self._in_values(self._bias, track_value - 1, 0.0)

    def _in_values(self, per_pitch: np.ndarray, track: int, fill):
        """``per_pitch`` (indexed by MIDI pitch 0…127) → indexed by the ``pitch`` field's
        values for ``track`` in the current bar's key; ``fill`` where no pitch maps."""
        out = np.full(V.FIELD_SIZES[V.PITCH], fill, per_pitch.dtype)
        shift = V.pitch_shift(track, self.bar_key)
        out[shift : shift + 128] = per_pitch
        return out

    def feed(self, row: Iterable[int]) -> None:
        """Advance over one token (assumed legal: it came from these masks or a valid prompt)."""
        row = [int(x) for x in row]
        kind = row[V.TYPE]
        self.started = True
        if kind == V.EOS:
            self.ended = True
        elif kind == V.BAR:
            self.in_bar, self.last, self.bar_key = True, None, row[V.KEY] - 1
        elif kind == V.NOTE:
            track = row[V.TRACK] - 1
            pitch = V.value_pitch(row[V.PITCH], track, self.bar_key)
            self.last = (track, row[V.POSITION] - 1, pitch)

    # -- masks, one per field, in choice order ---------------------------------

    def type_mask(self) -> np.ndarray:
        mask = np.zeros(V.FIELD_SIZES[V.TYPE], bool)
        if self.ended:
            return mask
        if not self.started:
            mask[V.BOS] = True
            return mask
        mask[V.BAR] = True
        if self.in_bar:
            mask[V.EOS] = True
            mask[V.NOTE] = bool(self.track_mask().any())
        return mask

    def _pitch_range(self, track: int) -> tuple[int, int]:
        return self.pitch_ranges.get(V.TRACK_ORDER[track], (0, 127))

    def _pitches(self, track: int, position: int) -> np.ndarray:
        """Allowed pitches 0…127 for a note on ``track`` at ``position``."""
        low, high = self._pitch_range(track)
        allowed = np.zeros(128, bool)
        if self.last is not None and self.last[:2] == (track, position):
            low = max(low, self.last[2] + 1)
        if low <= high:
            allowed[low : high + 1] = True
        if self._in_scale is not None and track != V.DRUMS:
            allowed &= self._in_scale
        return allowed

    def _positions(self, track: int) -> np.ndarray:
        allowed = np.zeros(V.STEPS_PER_BAR, bool)
        first = 0
        if self.last is not None and self.last[0] == track:
            first = self.last[1]
        for position in range(first, V.STEPS_PER_BAR):
            allowed[position] = self._pitches(track, position).any()
        return allowed

    def track_mask(self) -> np.ndarray:
        """Values of the ``track`` field (0 = unused, never allowed for a note)."""
        mask = np.zeros(V.FIELD_SIZES[V.TRACK], bool)
        first = self.last[0] if self.last is not None else 0
        for track in range(first, len(V.TRACK_ORDER)):
            if self.tracks is not None and V.TRACK_ORDER[track] not in self.tracks:
                continue
            mask[track + 1] = self._positions(track).any()
        return mask

    def position_mask(self, track_value: int) -> np.ndarray:
        mask = np.zeros(V.FIELD_SIZES[V.POSITION], bool)
        mask[1:] = self._positions(track_value - 1)
        return mask

    def pitch_mask(self, track_value: int, position_value: int) -> np.ndarray:
        """Values of the ``pitch`` field: the allowed MIDI pitches, counted from the current
        bar's tonic on pitched tracks (:func:`~kelly_actors.transformer.vocab.pitch_value`)."""
        track = track_value - 1
        return self._in_values(self._pitches(track, position_value - 1), track, False)

    @staticmethod
    def velocity_mask() -> np.ndarray:
        mask = np.ones(V.FIELD_SIZES[V.VELOCITY], bool)
        mask[0] = False
        return mask

    @staticmethod
    def duration_mask(position_value: int) -> np.ndarray:
        room = V.STEPS_PER_BAR - (position_value - 1)
        mask = np.zeros(V.FIELD_SIZES[V.DURATION], bool)
        for i, steps in enumerate(V.DURATION_STEPS):
            mask[i + 1] = steps <= room
        return mask

    @staticmethod
    def tempo_mask() -> np.ndarray:
        mask = np.ones(V.FIELD_SIZES[V.TEMPO], bool)
        mask[0] = False
        return mask

    def key_mask(self) -> np.ndarray:
        """Values of a bar line's ``key`` field: the fixed key, else any of the 24."""
        mask = np.zeros(V.FIELD_SIZES[V.KEY], bool)
        if self.key is None:
            mask[1:] = True
        else:
            mask[self.key + 1] = True
        return mask
