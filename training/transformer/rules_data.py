"""Pieces from the rule composer, each at one PAD point: exact emotion labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.mapper import map_emotion
from kelly_actors.composer.orchestrator import compose
from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.tokens import Bar, quantize


@dataclass(frozen=True)
class RulePiece:
    """``bars`` bars composed at (valence, arousal, dominance) with ``seed``."""

    name: str
    bars: tuple[Bar, ...]
    valence: float
    arousal: float


def rule_piece(index: int, n_bars: int, rng: np.random.Generator) -> RulePiece:
    """Compose one piece at a random PAD point: valence and arousal uniform, dominance
    near arousal."""
    v, a = float(rng.uniform(-1, 1)), float(rng.uniform(0, 1))
    # The model is conditioned on valence and arousal only, and the rules' velocity
    # follows dominance: drawn independently, dominance made velocity noise the
    # conditioning cannot explain. Drawn near arousal, loud goes with aroused, as in the
    # corpus labels (corpus.weak_label) and in listeners' ratings of loudness.
    d = float(np.clip(a + rng.normal(0.0, 0.15), 0.0, 1.0))
    params = map_emotion(PAD(v, a, d))
    seed = int(rng.integers(0, 2**31))
    piece = compose([params] * n_bars, seed=seed)
    bars: list[list] = [[] for _ in range(n_bars)]
    for note in piece.notes:
        bar = int(note.start_beat // 4)
        bars[bar].append(note.shifted(-4.0 * bar))
    keys = [piece.key_at(4.0 * bar) for bar in range(n_bars)]
    return RulePiece(
        f"rules-{index:05d}",
        quantize(
            Bar(params.tempo_bpm, tuple(b), V.key_index(k.tonic, k.mode))
            for b, k in zip(bars, keys, strict=True)
        ),
        v,
        a,
    )
