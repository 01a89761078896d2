"""Engines: ``rules`` (the rule composer alone), ``hybrid`` (the rules write the structure,
the transformer writes chosen tracks) and ``transformer`` (the model writes every track
over the rules' bar lines and tempo).

The rule composer always runs, so key, harmony plan and tempo stay defined
and a missing answer from the model can fall back to the rule bar.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Sequence

import numpy as np

from kelly_actors.composer import orchestrator
from kelly_actors.composer.bar_composer import ComposerState
from kelly_actors.composer.mapper import MusicalParams
from kelly_actors.composer.notes import Note
from kelly_actors.composer.orchestrator import Composition
from kelly_actors.composer.theory import Key
from kelly_actors.composer.transformer import vocab as V
from kelly_actors.composer.transformer.generate import GenerationConfig, Generator, fitting_key
from kelly_actors.composer.transformer.session import StepSession
from kelly_actors.composer.transformer.tokens import Bar, quantize_bar

ENGINES = ("rules", "transformer", "hybrid")
#: What ``hybrid`` hands to the model unless configured otherwise.
DEFAULT_TRACKS: tuple[str, ...] = ("melody", "counter")
#: Bars of played music the model sees before the bar it writes.
HISTORY_BARS = 4


def engine_tracks(engine: str, tracks: Iterable[str] = DEFAULT_TRACKS) -> tuple[str, ...]:
    """The tracks the model writes for ``engine`` (checked); () for ``rules``."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} ({', '.join(ENGINES)})")
    if engine == "rules":
        return ()
    if engine == "transformer":
        return V.TRACK_ORDER
    chosen = tuple(tracks)
    unknown = [t for t in chosen if t not in V.TRACK_INDEX]
    if unknown or not chosen:
        raise ValueError(f"transformer tracks must be some of {', '.join(V.TRACK_ORDER)}")
    return chosen


class Variation:
    """The transformer's version of chosen tracks, bar after bar, with a short memory.

    ``Variation(model, tracks, seed)``; :meth:`bar` takes the rule composer's
    notes for a bar and returns that bar with ``tracks`` rewritten.
    Deterministic in (seed, bar index, the played history).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None,
        tracks: Sequence[str],
        seed: int,
        config: GenerationConfig | None = None,
    ) -> None:
        self.generator = Generator(StepSession(model), config)
        self.tracks = tuple(tracks)
        self.seed = seed
        self.history: deque[Bar] = deque(maxlen=HISTORY_BARS)

    @property
    def model_name(self) -> str:
        return self.generator.session.path.name

    def new_notes(
        self,
        bar_index: int,
        rule_notes: Sequence[Note],
        params: MusicalParams,
        history: Sequence[Bar] | None = None,
        key: Key | None = None,
    ) -> list[Note]:
        """The model's notes for :attr:`tracks` in this bar (beats from the bar line).

        Scale-aware decoding (the default) keeps them to ``key``: the rule
        composer's key where the caller knows it, else the key in
        ``params.mode`` that the rule bar and the history fit best.
        """
        rng = np.random.default_rng([self.seed & 0xFFFFFFFF, bar_index])
        v, a, _ = params.emotion.as_tuple()
        given = Bar(params.tempo_bpm, tuple(rule_notes))
        past = list(self.history if history is None else history)
        if key is None and self.generator.config.scale_aware:
            key = fitting_key([*past, given], params.mode)
        return self.generator.bar(past, given, self.tracks, v, a, rng, key=key)

    def merge(self, rule_notes: Sequence[Note], new: Sequence[Note]) -> list[Note]:
        """The rule notes of the other tracks plus ``new``, in start order."""
        kept = [n for n in rule_notes if n.track not in self.tracks]
        return sorted([*kept, *new], key=lambda n: (n.start_beat, n.track, n.pitch))

    def played(self, tempo_bpm: float, notes: Sequence[Note]) -> None:
        """Remember a bar as it was played (whichever engine wrote it)."""
        self.history.append(quantize_bar(Bar(tempo_bpm, tuple(notes))))

    def bar(
        self,
        bar_index: int,
        rule_notes: Sequence[Note],
        params: MusicalParams,
        key: Key | None = None,
    ) -> list[Note]:
        new = self.new_notes(bar_index, rule_notes, params, key=key)
        notes = self.merge(rule_notes, new)
        self.played(params.tempo_bpm, notes)
        return notes


def compose(
    params: Sequence[MusicalParams],
    seed: int = 0,
    variation: Variation | None = None,
    state: ComposerState | None = None,
) -> Composition:
    """Like :func:`kelly_actors.composer.orchestrator.compose`, with the model's variation
    of ``variation.tracks`` in every bar (no variation = the rules alone)."""
    return orchestrator.compose(
        params, seed, state, vary=None if variation is None else variation.bar
    )
