"""Controllability at the four quadrant corners: what the conditioning moves, with
bootstrap intervals, beside a null model (zero logits) and a shuffled-conditioning control.

Two paths:

* ``piece`` — whole pieces sampled from BOS (:meth:`Generator.piece`), the model
  choosing the tempo too;
* ``product`` — what ``kelly compose --engine transformer --decoding D`` does: the rule
  composer gives the bar lines and tempo, the model writes every track bar by bar
  (:func:`kelly_actors.composer.transformer_engine.compose`).

A row per piece: its corner, Krumhansl–Kessler mode, tempo, notes per bar, mean velocity
and pitch-class entropy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from kelly_actors.composer import transformer_engine as engines
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.mapper import map_emotion
from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.generate import Generator, decoding_config
from kelly_actors.transformer.session import Cache, StepSession
from kelly_actors.transformer.tokens import Bar, decode, quantize_bar
from training.transformer import metrics as M

CORNERS = ((-0.8, 0.1), (-0.8, 0.9), (0.8, 0.1), (0.8, 0.9))
#: Dominance of the product path's corners (the model never sees it).
DOMINANCE = 0.5
BOOTSTRAP = 1000


class ZeroLogits:
    """A stand-in step model whose logits are all zero: what decoding alone produces."""

    def __init__(self, like: StepSession) -> None:
        self.info = like.info
        self.path = like.path

    def empty_cache(self, batch: int = 1) -> Cache:
        i = self.info
        empty = np.zeros((i.layers, batch, i.heads, 0, i.head_dim), np.float32)
        return empty, empty.copy()

    def run(self, tokens: np.ndarray, emotion: np.ndarray, cache: Cache):
        b, s = tokens.shape[:2]
        grown = np.zeros((*cache[0].shape[:3], cache[0].shape[3] + s, cache[0].shape[4]))
        logits = [np.zeros((b, s, n), np.float32) for n in V.FIELD_SIZES]
        return logits, (grown.astype(np.float32), grown.astype(np.float32))


def _row(valence: float, arousal: float, piece: Sequence[Bar]) -> dict:
    return {
        "valence": valence,
        "arousal": arousal,
        "mode": M.key_mode(piece),
        "tempo": M.mean_tempo(piece),
        "density": M.density(piece),
        "velocity": M.mean_velocity(piece),
        "entropy": M.pitch_class_entropy(piece),
        "bars": tuple(piece),
    }


def piece_rows(generator: Generator, pieces: int, bars: int, seed: int, flip: bool = False):
    """``pieces`` per corner from BOS; ``flip`` feeds the opposite valence (a control)."""
    rng = np.random.default_rng(seed)
    rows = []
    for valence, arousal in CORNERS:
        fed = -valence if flip else valence
        for _ in range(pieces):
            rows.append(_row(valence, arousal, decode(generator.piece(fed, arousal, bars, rng))))
    return rows


def product_rows(
    make: Callable[[int], engines.Variation],
    pieces: int,
    bars: int,
    seed: int,
    corners: Sequence[tuple[float, float]] = CORNERS,
):
    """``pieces`` per corner through the transformer engine; ``make(seed)`` a Variation."""
    rows = []
    for c, (valence, arousal) in enumerate(corners):
        params = [map_emotion(PAD(valence, arousal, DOMINANCE))] * bars
        for i in range(pieces):
            piece_seed = seed * 100_003 + c * 1_000 + i
            composition = engines.compose(params, piece_seed, make(piece_seed))
            rows.append(_row(valence, arousal, bars_of(composition.notes, params)))
    return rows


def bars_of(notes, params) -> list[Bar]:
    """A composition's notes (absolute beats) → quantized bars."""
    per_bar: list[list] = [[] for _ in params]
    for n in notes:
        index = int(n.start_beat // 4)
        if index < len(per_bar):
            per_bar[index].append(n.shifted(-4.0 * index))
    return [quantize_bar(Bar(p.tempo_bpm, tuple(b))) for p, b in zip(params, per_bar, strict=True)]


def variations(session, decoding: str, flip: bool = False):
    """``make(seed)`` for :func:`product_rows`: the engine's Variation over ``session``
    (a :class:`StepSession` or :class:`ZeroLogits`); ``flip`` feeds the opposite valence."""
    generator = Generator(session, decoding_config(decoding))
    if flip:
        generator = _Flipped(generator)

    def make(seed: int) -> engines.Variation:
        return engines.Variation(None, V.TRACK_ORDER, seed, generator=generator)

    return make


class _Flipped:
    """A generator fed the opposite valence (the shuffled-conditioning control)."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner
        self.config = inner.config
        self.session = inner.session

    def bar(self, history, given, tracks, valence, arousal, rng, key=None):
        return self.inner.bar(history, given, tracks, -valence, arousal, rng, key=key)

    @property
    def last_key(self) -> int | None:
        return self.inner.last_key


def minor_key_probability(session, valence: float, arousal: float) -> float:
    """The probability, under free decoding (guided), that the key the model writes on a
    piece's first bar line is minor: what the network adds before any note."""
    generator = Generator(session, decoding_config("free"))
    bos = np.asarray([[V.BOS] + [0] * (V.N_FIELDS - 1)], np.int64)
    logits, _ = generator._run(
        bos, np.asarray([[valence, arousal]], np.float32), generator._empty()
    )
    keys = logits[V.KEY][0, -1, 1:].astype(np.float64)
    p = np.exp(keys - keys.max())
    return float(p[1::2].sum() / p.sum())


def key_choice(session) -> dict[str, float]:
    """:func:`minor_key_probability` at each corner, rounded."""
    return {
        f"v{v:+.1f}_a{a:.1f}": round(minor_key_probability(session, v, a), 3) for v, a in CORNERS
    }


def _agree(rows) -> np.ndarray:
    return np.asarray([(r["mode"] == "major") == (r["valence"] > 0) for r in rows], float)


def _interval(
    stat: Callable[[np.ndarray], float], n: int, seed: int, resamples: int
) -> list[float]:
    rng = np.random.default_rng(seed)
    draws = [stat(rng.integers(0, n, n)) for _ in range(resamples)]
    return [round(float(np.percentile(draws, 2.5)), 3), round(float(np.percentile(draws, 97.5)), 3)]


def summary(rows: list[dict], seed: int = 0, resamples: int = BOOTSTRAP) -> dict:
    """Mode agreement and Spearman ρ's, each with a 95 % percentile-bootstrap interval over
    pieces, and the figures per corner."""
    agree = _agree(rows)
    arousal = np.asarray([r["arousal"] for r in rows])
    out: dict = {"pieces": len(rows)}
    out["mode_matches_valence_sign"] = round(float(agree.mean()), 3)
    out["mode_matches_valence_sign_ci95"] = _interval(
        lambda i: agree[i].mean(), len(rows), seed, resamples
    )
    for name in ("density", "velocity", "tempo"):
        values = np.asarray([r[name] for r in rows])
        out[f"spearman_{name}_arousal"] = round(M.spearman(arousal, values), 3)
        out[f"spearman_{name}_arousal_ci95"] = _interval(
            lambda i, v=values: M.spearman(arousal[i], v[i]), len(rows), seed, resamples
        )
    out["pitch_class_entropy_median"] = round(float(np.median([r["entropy"] for r in rows])), 3)
    corners = {}
    for v, a in CORNERS:
        mine = [r for r in rows if (r["valence"], r["arousal"]) == (v, a)]
        corners[f"v{v:+.1f}_a{a:.1f}"] = {
            "major_fraction": round(float(np.mean([r["mode"] == "major" for r in mine])), 3),
            "tempo_bpm": round(float(np.mean([r["tempo"] for r in mine])), 1),
            "notes_per_bar": round(float(np.mean([r["density"] for r in mine])), 1),
            "velocity": round(float(np.mean([r["velocity"] for r in mine])), 1),
        }
    out["corners"] = corners
    return out


def entropy_iqr(pieces: Sequence[Sequence[Bar]]) -> list[float]:
    """The interquartile range of pitch-class entropy (bits) over ``pieces``."""
    values = [M.pitch_class_entropy(p) for p in pieces]
    return [round(float(np.percentile(values, 25)), 3), round(float(np.percentile(values, 75)), 3)]
