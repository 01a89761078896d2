"""What every engine is told about the bar it is writing."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from kelly_actors.composer.mapper import MusicalParams
from kelly_actors.music.notes import BEATS_PER_BAR
from kelly_actors.music.theory import Chord, Key

PHRASE_BARS = 4
SECTION_BARS = 8


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from the parts; stable across runs (unlike ``hash`` of a str)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


@dataclass(frozen=True, slots=True)
class VoicedChord:
    """A chord with the pitches chosen for it and when it sounds (beats from bar start)."""

    chord: Chord
    pitches: tuple[int, ...]
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class BarContext:
    """One bar: its index, emotion parameters, key, harmony and position in the form."""

    seed: int
    bar_index: int
    params: MusicalParams
    key: Key
    chords: tuple[tuple[float, Chord], ...]
    next_chord: Chord
    key_changed: bool = False
    final: bool = False

    @property
    def beats(self) -> int:
        return BEATS_PER_BAR

    @property
    def phrase_position(self) -> int:
        """0…3 within the four-bar phrase."""
        return self.bar_index % PHRASE_BARS

    @property
    def section_position(self) -> int:
        """0…7 within the eight-bar section (two phrases)."""
        return self.bar_index % SECTION_BARS

    @property
    def is_consequent(self) -> bool:
        """True in the second (answering) phrase of a section."""
        return self.section_position >= PHRASE_BARS

    @property
    def arousal(self) -> float:
        return self.params.emotion.arousal

    @property
    def valence(self) -> float:
        return self.params.emotion.valence

    @property
    def dominance(self) -> float:
        return self.params.emotion.dominance

    def rng(self, salt: str) -> random.Random:
        """A generator that depends only on (seed, bar, salt): engines never share draws."""
        return random.Random(stable_seed(self.seed, self.bar_index, salt))

    def chord_at(self, beat: float) -> Chord:
        current = self.chords[0][1]
        for start, chord in self.chords:
            if start <= beat + 1e-9:
                current = chord
        return current
