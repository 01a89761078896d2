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

from kelly_actors.composer import orchestrator
from kelly_actors.composer.bar_composer import ComposerState
from kelly_actors.composer.mapper import MusicalParams
from kelly_actors.composer.orchestrator import Composition
from kelly_actors.music.notes import Note
from kelly_actors.music.theory import Key
from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.generate import GenerationConfig, Generator
from kelly_actors.transformer.request import VariationRequest, serve
from kelly_actors.transformer.session import StepSession
from kelly_actors.transformer.tokens import Bar, quantize_bar

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
        generator: Generator | None = None,
    ) -> None:
        """``generator`` (one already made, e.g. shared by many pieces) instead of
        ``model`` + ``config``."""
        self.generator = generator or Generator(StepSession(model), config)
        self.tracks = tuple(tracks)
        self.seed = seed
        self.history: deque[Bar] = deque(maxlen=HISTORY_BARS)

    @property
    def model_name(self) -> str:
        return self.generator.session.path.name

    def request(
        self,
        bar_index: int,
        rule_notes: Sequence[Note],
        params: MusicalParams,
        history: Sequence[Bar] | None = None,
        key: Key | None = None,
    ) -> VariationRequest:
        """Everything the model needs for this bar, for any process to serve."""
        return variation_request(
            bar_index,
            self.seed,
            self.tracks,
            rule_notes,
            params,
            tuple(self.history if history is None else history),
            key,
        )

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
        return serve(self.generator, self.request(bar_index, rule_notes, params, history, key))

    def merge(self, rule_notes: Sequence[Note], new: Sequence[Note]) -> list[Note]:
        return merge(self.tracks, rule_notes, new)

    def played(self, tempo_bpm: float, notes: Sequence[Note], key: int | None = None) -> None:
        """Remember a bar as it was played (whichever engine wrote it), with its key index
        when known (else the model reads it from the notes)."""
        self.history.append(quantize_bar(Bar(tempo_bpm, tuple(notes), key)))

    def bar(
        self,
        bar_index: int,
        rule_notes: Sequence[Note],
        params: MusicalParams,
        key: Key | None = None,
    ) -> list[Note]:
        new = self.new_notes(bar_index, rule_notes, params, key=key)
        notes = self.merge(rule_notes, new)
        self.played(params.tempo_bpm, notes, self.generator.last_key)
        return notes


def variation_request(
    bar_index: int,
    seed: int,
    tracks: Sequence[str],
    rule_notes: Sequence[Note],
    params: MusicalParams,
    history: Sequence[Bar],
    key: Key | None = None,
) -> VariationRequest:
    """The request for the model's version of ``tracks`` in a rule-composed bar."""
    v, a, _ = params.emotion.as_tuple()
    return VariationRequest(
        bar=bar_index,
        seed=seed,
        tracks=tuple(tracks),
        valence=float(v),
        arousal=float(a),
        mode=params.mode,
        given=Bar(params.tempo_bpm, tuple(rule_notes)),
        history=tuple(history),
        key=key,
    )


def merge(tracks: Sequence[str], rule_notes: Sequence[Note], new: Sequence[Note]) -> list[Note]:
    """The rule notes of the tracks not in ``tracks`` plus ``new``, in start order."""
    kept = [n for n in rule_notes if n.track not in tracks]
    return sorted([*kept, *new], key=lambda n: (n.start_beat, n.track, n.pitch))


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
