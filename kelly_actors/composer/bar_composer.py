"""The incremental composer: one bar at a time, deterministic, resumable.

``BarComposer(seed).compose_bar(bar_index, params, state)`` returns the notes
of that bar (``start_beat`` relative to the bar's start, 0 ≤ start < 4) and the
next state. The output depends only on (seed, bar_index, params, state), and
the state is small and JSON-serializable (:meth:`ComposerState.to_dict`), so
a restarted live actor rehydrates it and carries on in the same key with the
same motif. The offline orchestrator is a loop over this same call.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from kelly_actors.composer.engines import (
    arpeggio,
    arrangement,
    bass,
    chords,
    counter_melody,
    drums,
    dynamics,
    fills,
    groove,
    harmony,
    melody,
    pad,
)
from kelly_actors.composer.engines import motif as motifs
from kelly_actors.composer.engines.context import PHRASE_BARS, SECTION_BARS, BarContext, stable_seed
from kelly_actors.composer.mapper import MusicalParams
from kelly_actors.music.notes import BEATS_PER_BAR, TRACKS, Note
from kelly_actors.music.theory import TONICS, Chord, Key, chord

#: A new motif is written every this many bars.
MOTIF_BARS = 16
#: Notes shorter than this (beats) after untangling are dropped.
MIN_NOTE = 0.03
_TRACK_ORDER = {t.name: i for i, t in enumerate(TRACKS)}


@dataclass(frozen=True, slots=True)
class ComposerState:
    """What the composer remembers between bars (all small and JSON-friendly).

    ``plan`` is the current phrase's harmony, starting at bar ``plan_bar``;
    ``voicing`` the last chord voicing (MIDI pitches); ``melody_index`` the
    melody's last scale index; ``bass_pitch`` / ``counter_pitch`` MIDI pitches.
    """

    tonic: int
    mode: str
    plan: tuple[harmony.PlannedBar, ...] = ()
    plan_bar: int = -1
    voicing: tuple[int, ...] | None = None
    melody_index: int | None = None
    bass_pitch: int | None = None
    counter_pitch: int | None = None
    motif: motifs.Motif | None = None
    motif_bar: int = -1
    bars_composed: int = field(default=0)

    @property
    def key(self) -> Key:
        return Key(self.tonic, self.mode)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tonic": self.tonic,
            "mode": self.mode,
            "plan": [[list(c) for c in bar] for bar in self.plan],
            "plan_bar": self.plan_bar,
            "voicing": list(self.voicing) if self.voicing is not None else None,
            "melody_index": self.melody_index,
            "bass_pitch": self.bass_pitch,
            "counter_pitch": self.counter_pitch,
            "motif": self.motif.to_dict() if self.motif is not None else None,
            "motif_bar": self.motif_bar,
            "bars_composed": self.bars_composed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComposerState:
        plan = tuple(tuple((int(d), str(c)) for d, c in bar) for bar in data.get("plan", ()))
        voicing = data.get("voicing")
        motif = data.get("motif")
        return cls(
            tonic=int(data["tonic"]),
            mode=str(data["mode"]),
            plan=plan,
            plan_bar=int(data.get("plan_bar", -1)),
            voicing=tuple(int(p) for p in voicing) if voicing is not None else None,
            melody_index=data.get("melody_index"),
            bass_pitch=data.get("bass_pitch"),
            counter_pitch=data.get("counter_pitch"),
            motif=motifs.Motif.from_dict(motif) if motif is not None else None,
            motif_bar=int(data.get("motif_bar", -1)),
            bars_composed=int(data.get("bars_composed", 0)),
        )


def untangle(notes: list[Note], beats: float) -> list[Note]:
    """Clip notes to the bar and end each note before the next of the same pitch and track.

    A MIDI channel cannot hold two overlapping notes of one pitch; this keeps
    every part representable and makes a write/read round trip exact.
    """
    groups: dict[tuple[str, int], list[Note]] = defaultdict(list)
    for n in notes:
        groups[(n.track, n.pitch)].append(n)
    out = []
    for group in groups.values():
        group.sort(key=lambda n: (n.start_beat, -n.velocity))
        for i, n in enumerate(group):
            end = min(n.end_beat, beats)
            if i + 1 < len(group):
                end = min(end, group[i + 1].start_beat)
            if end - n.start_beat >= MIN_NOTE:
                out.append(replace(n, duration_beats=end - n.start_beat))
    return out


def _sort_key(n: Note) -> tuple[float, int, int]:
    return (n.start_beat, _TRACK_ORDER.get(n.track, 99), n.pitch)


class BarComposer:
    """Composes bars on demand. ``seed`` fixes every random choice."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = int(seed)

    def initial_state(self, params: MusicalParams) -> ComposerState:
        """The state before bar 0: a tonic chosen by the seed, the mode of ``params``."""
        tonic = random.Random(stable_seed(self.seed, "key")).choice(TONICS)
        return ComposerState(tonic=tonic, mode=params.mode)

    def compose_bar(
        self,
        bar_index: int,
        params: MusicalParams,
        state: ComposerState | None = None,
        *,
        final: bool = False,
    ) -> tuple[list[Note], ComposerState]:
        """Notes for bar ``bar_index`` (times in beats from the bar's start) and the next state.

        ``final`` ends the piece: a held tonic chord, a cadence on the root.
        """
        if bar_index < 0:
            raise ValueError(f"bar_index must be >= 0, got {bar_index}")
        state = state if state is not None else self.initial_state(params)
        key = Key(state.tonic, params.mode)
        key_changed = params.mode != state.mode
        plan, plan_bar = self._plan(bar_index, params, key, state, key_changed)
        position = bar_index - plan_bar
        planned = harmony.FINAL_BAR if final else plan[position]
        ctx = BarContext(
            seed=self.seed,
            bar_index=bar_index,
            params=params,
            key=key,
            chords=harmony.realise(key, planned, BEATS_PER_BAR),
            next_chord=self._next_chord(key, plan, position),
            key_changed=key_changed,
            final=final,
        )
        motif, motif_bar = self._motif(ctx, state)
        notes, state = self._render(ctx, state, motif)
        state = replace(
            state,
            mode=key.mode,
            plan=tuple(plan),
            plan_bar=plan_bar,
            motif=motif,
            motif_bar=motif_bar,
            bars_composed=state.bars_composed + 1,
        )
        return notes, state

    def _plan(
        self,
        bar_index: int,
        params: MusicalParams,
        key: Key,
        state: ComposerState,
        key_changed: bool,
    ) -> tuple[tuple[harmony.PlannedBar, ...], int]:
        phrase_start = bar_index - bar_index % PHRASE_BARS
        if state.plan and state.plan_bar == phrase_start and not key_changed:
            return state.plan, phrase_start
        rng = random.Random(stable_seed(self.seed, bar_index, "harmony"))
        opening = phrase_start % SECTION_BARS == 0
        plan = harmony.plan_phrase(key, params, rng, opening)
        # A replan in mid-phrase (the mode changed) keeps the phrase's remaining bars.
        return tuple(plan), phrase_start

    @staticmethod
    def _next_chord(key: Key, plan: tuple[harmony.PlannedBar, ...], position: int) -> Chord:
        if position + 1 < len(plan):
            degree, colour = plan[position + 1][0]
            return chord(key, degree, colour)
        return chord(key, 0)

    @staticmethod
    def _motif(ctx: BarContext, state: ComposerState) -> tuple[motifs.Motif, int]:
        due = ctx.bar_index % MOTIF_BARS == 0 and state.motif_bar != ctx.bar_index
        if state.motif is not None and not due:
            return state.motif, state.motif_bar
        return motifs.generate(ctx.rng("motif"), ctx.params.density, ctx.valence), ctx.bar_index

    @staticmethod
    def _render(
        ctx: BarContext, state: ComposerState, motif: motifs.Motif
    ) -> tuple[list[Note], ComposerState]:
        layers = arrangement.layers(ctx)
        voiced = chords.voice(ctx, state.voicing)
        notes: list[Note] = chords.render(ctx, voiced) + pad.render(ctx, voiced)
        bass_notes, bass_pitch = bass.render(ctx, state.bass_pitch)
        lead, melody_index = melody.render(ctx, motif, state.melody_index)
        counter, counter_pitch = counter_melody.render(ctx, lead, state.counter_pitch)
        notes += bass_notes + lead + counter
        run = fills.pitched_fill(ctx)
        if "arpeggio" in layers:
            run_start = min((n.start_beat for n in run), default=float(ctx.beats))
            notes += [n for n in arpeggio.render(ctx, voiced) if n.start_beat < run_start]
        notes += run
        notes += drums.to_notes(ctx, fills.drum_fill(ctx, drums.pattern(ctx)))
        notes = groove.apply(ctx, notes)
        notes = dynamics.apply(ctx, untangle(notes, ctx.beats))
        notes.sort(key=_sort_key)
        new_state = replace(
            state,
            voicing=voiced[-1].pitches,
            melody_index=melody_index,
            bass_pitch=bass_pitch,
            counter_pitch=counter_pitch,
        )
        return notes, new_state
