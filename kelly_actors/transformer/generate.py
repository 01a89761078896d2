"""Sampling music from the step model: whole pieces, or one bar's lines given the rest.

Every generated token passes through :class:`Grammar` masks, so whatever the
model prefers, the result decodes. Pitches keep to each track's range
(:data:`~kelly_actors.music.notes.RANGES`, drums 35–81).

Scale-aware decoding (``GenerationConfig.scale_aware``, on by default): pitched
notes keep to the scale of a key whose mode is the one the rule mapper gives
the conditioning valence (:func:`~kelly_actors.music.theory.mode_for`;
``params.mode`` in the engines). The tonic is the rule composer's key where
there is one (hybrid / transformer engines), else the key the given bar and
history fit best, else one drawn from the seed among the rule composer's
tonics (:data:`~kelly_actors.music.theory.TONICS`; free generation).

Keys: every bar line carries a key (docs/tokens.md). Scale-aware decoding fixes it
to the decoding's key; free decoding lets the model choose it, so the mode can
follow the valence before the first note is written. A history bar whose key is
not known gets the decoding's key, or else the model's reading of its notes.

Free decoding (``kelly compose --decoding free``, :func:`decoding_config`): the
grammar only — no scale mask, no triad bonus, no key — with classifier-free
guidance: each step runs the model twice in one batch, with the emotion and
with none (a NaN row, the model's null embedding), and samples from
``unconditional + guidance · (conditional − unconditional)`` per field, which
strengthens what the conditioning changes (the bar line's key field by its own
weight, :data:`FREE_KEY_GUIDANCE`, and sampled cooler, :data:`FREE_KEY_TEMPERATURE`,
so a piece keeps the key it chose unless the model means to leave it). Needs a model
trained with condition dropout (``null_condition`` in its metadata).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from kelly_actors.music.notes import RANGES, Note
from kelly_actors.music.theory import MODES, TONICS, Key, mode_for
from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.grammar import Grammar
from kelly_actors.transformer.sampler import SamplingConfig, sample_token, sample_value
from kelly_actors.transformer.session import Cache, ModelError, StepSession
from kelly_actors.transformer.tokens import (
    SPECIAL,
    Bar,
    bar_token,
    decode,
    encode,
    note_sort_key,
    quantize_bar,
)

PITCH_RANGES: dict[str, tuple[int, int]] = {**RANGES, "drums": (35, 81)}
#: A bar with more notes than this is closed by force (bounds the time a bar takes).
MAX_NOTES_PER_BAR = 96
#: Scale-aware decoding's bonus (nats) on the key's tonic, third and fifth: a
#: scale alone does not say which of its notes is home (C ionian and A aeolian
#: share one), so the tonic and the mode's third are favoured to establish the
#: key. Chosen on the shipped model's controllability (docs/transformer.md).
TRIAD_EMPHASIS: tuple[float, float, float] = (2.0, 1.5, 0.5)
#: The decodings ``kelly compose --decoding`` offers; ``scale`` is the live composer's.
DECODINGS: tuple[str, ...] = ("scale", "free")
#: Classifier-free guidance weight of free decoding, chosen on generated pieces at the
#: quadrant corners with seeds the card does not use (docs/transformer.md).
FREE_GUIDANCE = 3.0
#: Free decoding's guidance weight on the bar line's key field, chosen on the model
#: shipped before the current one (models/transformer.md) at seeds 500-503 (160 pieces;
#: the card's seed 0 unseen): mode match 0.79 at 4.5 against 0.74 at 3, 0.80 at 6
#: (pitch-class entropy 3.05, above the corpus range) and 0.73 at 8; more weight on the
#: pitch field lowered it (0.61 at 6).
FREE_KEY_GUIDANCE = 4.5
#: Free decoding's sampling temperature on the bar line's key field, chosen on that same
#: model at seeds 500-503 (160 pieces; the card's seed not run at any candidate): every
#: temperature below 1 raised the mode match and lowered the pitch-class entropy (a key
#: drawn afresh on each bar line wandered; a piece's distinct keys drove its entropy, r
#: 0.55). 1.0 read 0.79 / 2.95 bits, 0.7 0.83 / 2.93, 0.6 0.81 / 2.89, 0.5 0.81 / 2.85,
#: 0.25 0.84 / 2.83; 0.6 is the one nearest the middle of the corpus range (2.82-2.97)
#: with each seed's median inside it.
FREE_KEY_TEMPERATURE = 0.6
#: The emotion row that asks the model for its unconditional distribution.
NO_CONDITION = np.full((1, 2), np.nan, np.float32)


@dataclass(frozen=True)
class GenerationConfig:
    """``context`` tokens of history at most; sampling settings; note cap per bar;
    ``scale_aware`` keeps pitched notes to the scale of the conditioning's key and
    adds ``triad_emphasis`` nats to its tonic, third and fifth; ``guidance`` ≠ 1 mixes
    conditional and unconditional logits (classifier-free guidance, 1 = conditional only),
    on the key field by ``key_guidance`` (None: ``guidance``)."""

    context: int = 192
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    max_notes_per_bar: int = MAX_NOTES_PER_BAR
    scale_aware: bool = True
    triad_emphasis: tuple[float, float, float] = TRIAD_EMPHASIS
    guidance: float = 1.0
    key_guidance: float | None = None

    def field_guidance(self) -> tuple[float, ...]:
        """The guidance weight of each token field (``vocab.FIELDS`` order)."""
        weights = [self.guidance] * V.N_FIELDS
        if self.key_guidance is not None:
            weights[V.KEY] = self.key_guidance
        return tuple(weights)


def decoding_config(name: str) -> GenerationConfig:
    """``scale`` (today's default: the key's scale, triad bonus, no guidance) or ``free``
    (grammar only, classifier-free guidance :data:`FREE_GUIDANCE`, on the key
    :data:`FREE_KEY_GUIDANCE` and sampled at :data:`FREE_KEY_TEMPERATURE`)."""
    if name == "scale":
        return GenerationConfig()
    if name == "free":
        return GenerationConfig(
            sampling=SamplingConfig(key_temperature=FREE_KEY_TEMPERATURE),
            scale_aware=False,
            guidance=FREE_GUIDANCE,
            key_guidance=FREE_KEY_GUIDANCE,
        )
    raise ValueError(f"unknown decoding {name!r} ({', '.join(DECODINGS)})")


def _emotion(valence: float, arousal: float) -> np.ndarray:
    return np.asarray([[valence, arousal]], np.float32)


def fitting_key(bars: Iterable[Bar], mode: str) -> Key | None:
    """The key in ``mode`` whose scale holds most of the bars' pitched notes (weighted by
    duration); ties go to the tonic, then its fifth, sounding longest. None without notes."""
    hist = np.zeros(12)
    for bar in bars:
        for n in bar.notes:
            if n.track != "drums":
                hist[n.pitch % 12] += n.duration_beats
    if hist.sum() == 0:
        return None
    steps = np.asarray(MODES[mode])
    tonic = max(
        range(12),
        key=lambda t: (round(float(hist[(t + steps) % 12].sum()), 6), hist[t], hist[(t + 7) % 12]),
    )
    return Key(tonic, mode)


def scale_grammar(key: Key | None, emphasis: Sequence[float], **kwargs) -> Grammar:
    """A :class:`Grammar` keeping pitched notes to ``key``'s scale, its tonic, third and
    fifth favoured by ``emphasis`` nats each (``key`` None: no pitch-class limit)."""
    if key is None:
        return Grammar(**kwargs)
    triad = {key.pitch_classes[d]: float(e) for d, e in zip((0, 2, 4), emphasis, strict=True)}
    return Grammar(
        pitch_classes=frozenset(key.pitch_classes),
        emphasis=triad,
        key=V.key_index(key.tonic, key.mode),
        **kwargs,
    )


class Generator:
    """Samples from a :class:`StepSession` with the KV cache, under the grammar."""

    def __init__(self, session: StepSession, config: GenerationConfig | None = None) -> None:
        self.session = session
        self.config = config or GenerationConfig()
        #: The key index (0…23) of the bar line :meth:`bar` wrote last (None before any).
        self.last_key: int | None = None
        self.weights = self.config.field_guidance()
        self.guided = any(w != 1.0 for w in self.weights)
        if self.guided and not session.info.null_condition:
            raise ModelError(
                f"{session.path.name} was trained without condition dropout: "
                "it cannot be guided (use --decoding scale or a newer model)"
            )

    def _empty(self) -> Cache:
        return self.session.empty_cache(2 if self.guided else 1)

    def _run(self, tokens: np.ndarray, emotion: np.ndarray, cache: Cache):
        """Tokens ``[S, N_FIELDS]`` after ``cache`` → per-field logits ``[1, S, size]`` and
        the grown cache (batch 2 when guided: row 0 conditional, row 1 unconditional)."""
        tokens = tokens.reshape(1, -1, V.N_FIELDS)
        if not self.guided:
            return self.session.run(tokens, emotion, cache)
        both = np.concatenate([tokens, tokens])
        logits, cache = self.session.run(both, np.concatenate([emotion, NO_CONDITION]), cache)
        return _guided(logits, self.weights, 1), cache

    def _step(self, row: np.ndarray, emotion: np.ndarray, cache: Cache):
        return self._run(row, emotion, cache)

    def piece(
        self,
        valence: float,
        arousal: float,
        bars: int,
        rng: np.random.Generator,
        tempos: Sequence[float] | None = None,
        key: Key | None = None,
    ) -> np.ndarray:
        """A piece of ``bars`` bars from BOS: ``int64 [n, N_FIELDS]`` (decodes by construction).

        With ``tempos`` (bpm, one per bar) the bar lines carry those tempi;
        otherwise the model samples them. An EOS before the last bar, or a bar
        over the note cap, becomes a bar line. When scale-aware, pitches and bar
        lines keep to ``key`` (default: a tonic drawn from ``rng``, the mode of
        ``valence``); otherwise the model chooses each bar's key.
        """
        emotion = _emotion(valence, arousal)
        sampling = self.config.sampling
        if self.config.scale_aware and key is None:
            key = Key(int(rng.choice(TONICS)), mode_for(valence))
        grammar = scale_grammar(
            key if self.config.scale_aware else None,
            self.config.triad_emphasis,
            pitch_ranges=PITCH_RANGES,
        )
        rows = [np.asarray(SPECIAL[V.BOS], np.int64)]
        grammar.feed(rows[0])
        logits, cache = self._step(rows[0], emotion, self._empty())
        done_bars, notes_in_bar = 0, 0
        while True:
            last = [x[0, -1] for x in logits]
            row = None
            if notes_in_bar < self.config.max_notes_per_bar:
                row = sample_token(last, grammar, sampling, rng)
            if row is None or row[V.TYPE] != V.NOTE:
                if done_bars == bars:
                    break
                sampled = row is not None and row[V.TYPE] == V.BAR
                if tempos is not None or not sampled:
                    if tempos is not None:
                        bpm = tempos[done_bars]
                    else:
                        tempo = sample_value(last[V.TEMPO], grammar.tempo_mask(), sampling, rng)
                        bpm = V.bin_tempo(tempo - 1)
                    if sampled:
                        bar_key = int(row[V.KEY]) - 1
                    else:
                        mask = grammar.key_mask()
                        bar_key = sample_value(last[V.KEY], mask, sampling.for_key(), rng) - 1
                    row = np.asarray(bar_token(bpm, bar_key), np.int64)
                done_bars, notes_in_bar = done_bars + 1, 0
            else:
                notes_in_bar += 1
            grammar.feed(row)
            rows.append(row)
            if cache[0].shape[3] + 1 >= self.session.info.max_len:
                logits, cache = self._reprime(rows, emotion)
            else:
                logits, cache = self._step(row, emotion, cache)
        rows.append(np.asarray(SPECIAL[V.EOS], np.int64))
        return np.stack(rows)

    def _reprime(self, rows: list[np.ndarray], emotion: np.ndarray):
        window = _window(np.stack(rows), self.config.context - 1)
        return self._run(_with_bos(window), emotion, self._empty())

    def bar(
        self,
        history: Iterable[Bar],
        given: Bar,
        tracks: Iterable[str],
        valence: float,
        arousal: float,
        rng: np.random.Generator,
        key: Key | None = None,
    ) -> list[Note]:
        """New notes for ``tracks`` in the bar ``given`` (its tempo and the other tracks' notes).

        The prompt is the recent ``history`` (quantized bars), the bar line and
        those notes of ``given`` whose tracks come before the first requested
        track in :data:`~vocab.TRACK_ORDER`; the answer is sampled under masks
        that allow only ``tracks``. Times are beats from the bar line. When
        scale-aware, pitches keep to ``key`` (default: the key in the mode of
        ``valence`` that ``given`` and ``history`` fit best; a tonic drawn from
        ``rng`` when they hold no pitched note), and so does the bar line's key;
        otherwise the model chooses it: its reading of the notes ``given`` already
        holds for the bar, else a key sampled from the model (under guidance when
        guided); :attr:`last_key` keeps it. History bars without a key get the
        decoding's key, or else the model's reading (:meth:`_read_history`).
        """
        history = list(history)
        wanted = frozenset(tracks)
        unknown = wanted - set(V.TRACK_ORDER)
        if unknown:
            raise ValueError(f"unknown tracks: {sorted(unknown)}")
        first = min(V.TRACK_INDEX[t] for t in wanted)
        current = quantize_bar(given)
        before = tuple(n for n in current.notes if V.TRACK_INDEX[n.track] < first)
        limit = min(self.config.context, self.session.info.max_len - self.config.max_notes_per_bar)
        # One token each for BOS and the bar line, one per note already in the bar; a
        # bar fuller than the context keeps its last notes in the prompt.
        before = before[-(limit - 2) :]
        kept = _recent(history, limit - 2 - len(before))
        emotion = _emotion(valence, arousal)
        if self.config.scale_aware and key is None:
            key = fitting_key([*history, current], mode_for(valence)) or Key(
                int(rng.choice(TONICS)), mode_for(valence)
            )
        grammar = scale_grammar(
            key if self.config.scale_aware else None,
            self.config.triad_emphasis,
            tracks=wanted,
            pitch_ranges=PITCH_RANGES,
        )
        pending, cache, last = self._read_history(kept, emotion, grammar.key)
        if grammar.key is None and before:
            # The bar already holds other tracks' notes: its key is the model's reading
            # of them, so the new lines agree with what they join.
            given_bar = Bar(current.tempo_bpm, before)
            value, logits, cache = self._read_key(pending, cache, last, given_bar, emotion)
            prompt = encode([given_bar.with_key(value - 1)], bos=False, eos=False)
        else:
            if grammar.key is not None:
                value = grammar.key + 1
            else:
                last, cache = self._advance(pending, cache, last, emotion)
                pending = []
                value = sample_value(
                    last[V.KEY][0, -1], grammar.key_mask(), self.config.sampling.for_key(), rng
                )
            prompt = encode([Bar(current.tempo_bpm, before, value - 1)], bos=False, eos=False)
            logits, cache = self._run(np.stack([*pending, *prompt]), emotion, cache)
        self.last_key = value - 1
        for row in (SPECIAL[V.BOS], *prompt):
            grammar.feed(row)
        made: list[np.ndarray] = []
        while len(made) < self.config.max_notes_per_bar:
            row = sample_token([x[0, -1] for x in logits], grammar, self.config.sampling, rng)
            if row[V.TYPE] != V.NOTE:
                break
            made.append(row)
            grammar.feed(row)
            logits, cache = self._step(row, emotion, cache)
        if not made:
            return []
        bars = decode(np.concatenate([prompt[:1], np.stack(made)]))
        return sorted(bars[0].notes, key=note_sort_key)

    def _advance(self, pending: list[np.ndarray], cache: Cache, last, emotion: np.ndarray):
        """Run the ``pending`` rows after ``cache``: (logits of the last row, cache);
        nothing pending: ``last`` (the logits of the last row run) and ``cache``."""
        if not pending:
            return last, cache
        return self._run(np.stack(pending), emotion, cache)

    def _read_history(self, history: Sequence[Bar], emotion: np.ndarray, key: int | None):
        """BOS and ``history``'s tokens, each unknown bar key replaced by ``key`` (the
        decoding's, when it fixes one) or else by the model's reading (:meth:`_read_key`):
        the rows not yet run, the cache of those that were and the logits of the last row
        run (None when none was)."""
        pending = [np.asarray(SPECIAL[V.BOS], np.int64)]
        cache, last = self._empty(), None
        for bar in history:
            if bar.key is None and key is not None:
                bar = bar.with_key(key)
            if bar.key is None:
                _, last, cache = self._read_key(pending, cache, last, bar, emotion)
                pending = []
            else:
                pending.extend(encode([bar], bos=False, eos=False))
        return pending, cache, last

    def _read_key(self, pending, cache: Cache, last, bar: Bar, emotion: np.ndarray):
        """The key field value (1…24) the model finds most likely for ``bar`` after the
        sequence so far (``pending`` rows not yet run after ``cache``, ``last`` the logits
        of the last row run): the best of the 24 keys by log P(key) + log P(the bar's
        notes | key) among the keys sampling could choose (:func:`reading_candidates`),
        scored in one batched run. Returns it, the logits of the
        bar's last token ``[1, 1, size]`` per field, and the cache grown by the bar."""
        prefix, cache = self._advance(pending, cache, last, emotion)
        prior = _log_softmax(prefix[V.KEY][0, -1, 1:])
        keys = reading_candidates(prior, self.config.sampling.top_k)
        # Pitch values count from the tonic, so each key writes the bar's notes differently.
        candidates = np.stack([encode([bar.with_key(int(k))], bos=False, eos=False) for k in keys])
        out, grown = self._run_many(candidates, emotion, cache)
        score = prior[keys]
        picks = np.arange(len(keys))
        for j in range(1, candidates.shape[1]):
            for f in (V.TYPE, *V.FIELDS_OF_TYPE[int(candidates[0, j, V.TYPE])]):
                score += _log_softmax(out[f][:, j - 1])[picks, candidates[:, j, f]]
        best = int(np.argmax(score))
        kept = [best, len(keys) + best] if self.guided else [best]
        logits = [x[best : best + 1, -1:] for x in out]
        return int(keys[best]) + 1, logits, (grown[0][:, kept], grown[1][:, kept])

    def _run_many(self, tokens: np.ndarray, emotion: np.ndarray, cache: Cache):
        """Tokens ``[B, S, N_FIELDS]`` after one sequence's ``cache`` → per-field logits
        ``[B, S, size]`` (guided when guided) and the grown caches, batch B (2B when
        guided: B conditional rows, then B unconditional)."""
        b = tokens.shape[0]
        tiled = tuple(np.repeat(c, b, axis=1) for c in cache)
        if not self.guided:
            return self.session.run(tokens, np.repeat(emotion, b, axis=0), tiled)
        both = np.concatenate([tokens, tokens])
        rows = np.concatenate([np.repeat(emotion, b, axis=0), np.repeat(NO_CONDITION, b, axis=0)])
        logits, grown = self.session.run(both, rows, tiled)
        return _guided(logits, self.weights, b), grown


def _guided(logits: Sequence[np.ndarray], weights: Sequence[float], b: int) -> list[np.ndarray]:
    """Per field, logits ``[2B, S, size]`` (B conditional rows, then B unconditional) →
    ``unconditional + weight · (conditional − unconditional)``, ``[B, S, size]``."""
    return [x[b:] + g * (x[:b] - x[b:]) for x, g in zip(logits, weights, strict=True)]


def reading_candidates(prior: np.ndarray, top_k: int) -> np.ndarray:
    """The key indices a reading scores: the ``top_k`` most likely under ``prior``
    (float (24,), log-probabilities), best first — the keys sampling could choose."""
    return np.argsort(-prior, kind="stable")[: min(top_k, len(prior))]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities over the last axis, float64."""
    x = np.asarray(logits, np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def _recent(history: list[Bar], room: int) -> list[Bar]:
    """The most recent whole bars of ``history`` whose tokens (a bar line and one per
    note) fit in ``room``."""
    kept: list[Bar] = []
    for bar in reversed(history):
        bar = quantize_bar(bar)
        room -= 1 + len(bar.notes)
        if room < 0:
            break
        kept.append(bar)
    return kept[::-1]


def _with_bos(tokens: np.ndarray) -> np.ndarray:
    """``tokens`` after a BOS (windows always start with one, as in training)."""
    return np.concatenate([np.asarray([SPECIAL[V.BOS]], np.int64), tokens])


def _window(tokens: np.ndarray, size: int) -> np.ndarray:
    """The last ≤ ``size`` tokens of ``tokens``, starting at a bar line (empty if none fits)."""
    if size <= 0 or len(tokens) == 0:
        return tokens[:0]
    tail = tokens[-size:]
    bars = np.flatnonzero(tail[:, V.TYPE] == V.BAR)
    return tail[bars[0] :] if bars.size else tokens[:0]
