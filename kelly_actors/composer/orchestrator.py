"""The orchestrator: a timeline of musical parameters → a multi-track composition.

It is a loop over :meth:`BarComposer.compose_bar` (the same code the live
actor runs), placing each bar's notes at absolute beats and recording tempo
and key changes on bar lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kelly_actors.composer.bar_composer import BarComposer, ComposerState
from kelly_actors.composer.emotion.intent import Strategy, plan
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.mapper import MusicalParams, timeline
from kelly_actors.music.notes import BEATS_PER_BAR, TRACKS, Note, Track
from kelly_actors.music.theory import Key

#: Tempo differences smaller than this (bpm) do not produce a tempo change.
TEMPO_EPSILON = 0.05


@dataclass(frozen=True, slots=True)
class TempoChange:
    """From ``beat`` (absolute, on a bar line) the tempo is ``bpm`` beats per minute."""

    beat: float
    bpm: float


@dataclass(frozen=True, slots=True)
class KeyChange:
    """From ``beat`` (absolute, on a bar line) the music is in ``key``."""

    beat: float
    key: Key


@dataclass(frozen=True, slots=True)
class Composition:
    """A finished piece. Note times are absolute beats from the start; 4/4 throughout."""

    tracks: tuple[Track, ...]
    notes: tuple[Note, ...]
    tempo_changes: tuple[TempoChange, ...]
    key_changes: tuple[KeyChange, ...]
    bars: int
    beats_per_bar: int = BEATS_PER_BAR

    def notes_for(self, track: str) -> tuple[Note, ...]:
        return tuple(n for n in self.notes if n.track == track)

    def tempo_at(self, beat: float) -> float:
        current = self.tempo_changes[0].bpm
        for change in self.tempo_changes:
            if change.beat <= beat:
                current = change.bpm
        return current

    def key_at(self, beat: float) -> Key:
        current = self.key_changes[0].key
        for change in self.key_changes:
            if change.beat <= beat:
                current = change.key
        return current

    def duration_seconds(self) -> float:
        total = self.bars * self.beats_per_bar
        bounds = [c.beat for c in self.tempo_changes[1:]] + [float(total)]
        return sum(
            (end - c.beat) * 60.0 / c.bpm for c, end in zip(self.tempo_changes, bounds, strict=True)
        )


#: Rewrites a bar's notes: ``vary(bar_index, notes, params, key) -> notes`` (the
#: transformer's variation uses it to replace some tracks).
BarVariation = Callable[[int, list[Note], MusicalParams, Key], list[Note]]


def compose(
    params: Sequence[MusicalParams],
    seed: int = 0,
    state: ComposerState | None = None,
    vary: BarVariation | None = None,
) -> Composition:
    """Compose one bar per entry of ``params``; the last bar is a cadence.

    ``vary``, when given, rewrites each bar's notes after the rule engines.
    """
    if not params:
        raise ValueError("a composition needs at least one bar")
    composer = BarComposer(seed)
    notes: list[Note] = []
    tempos: list[TempoChange] = []
    keys: list[KeyChange] = []
    for bar, bar_params in enumerate(params):
        bar_notes, state = composer.compose_bar(
            bar, bar_params, state, final=bar == len(params) - 1
        )
        if vary is not None:
            bar_notes = vary(bar, bar_notes, bar_params, state.key)
        offset = float(bar * BEATS_PER_BAR)
        notes.extend(n.shifted(offset) for n in bar_notes)
        if not tempos or abs(tempos[-1].bpm - bar_params.tempo_bpm) >= TEMPO_EPSILON:
            tempos.append(TempoChange(offset, bar_params.tempo_bpm))
        if not keys or keys[-1].key != state.key:
            keys.append(KeyChange(offset, state.key))
    used = {n.track for n in notes}
    tracks = tuple(t for t in TRACKS if t.name in used)
    return Composition(tracks, tuple(notes), tuple(tempos), tuple(keys), len(params))


def compose_emotion(
    current: PAD,
    desired: PAD | None = None,
    strategy: Strategy | str = Strategy.EXPRESS,
    bars: int = 8,
    seed: int = 0,
) -> Composition:
    """From an emotion (and a goal) to a piece: intent → timeline → bars."""
    trajectory = plan(current, desired, strategy, bars)
    return compose(timeline(trajectory.points), seed)
