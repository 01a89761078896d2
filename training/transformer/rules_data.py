"""Pieces from the rule composer, each at one PAD point: exact emotion labels."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.mapper import map_emotion
from kelly_actors.composer.orchestrator import compose
from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.tokens import Bar, quantize
from training.transformer.metrics import key_of

#: The rule mapper's modes written in the major or minor mode of their side
#: (``rule_piece(tonal=True)``): no lydian raised fourth or phrygian flat second for the
#: model to learn under a bar line that names a major or minor key.
TONAL_MODE = {
    "lydian": "ionian",
    "ionian": "ionian",
    "mixolydian": "ionian",
    "dorian": "aeolian",
    "aeolian": "aeolian",
    "phrygian": "aeolian",
}


@dataclass(frozen=True)
class RulePiece:
    """``bars`` bars composed at (valence, arousal, dominance) with ``seed``."""

    name: str
    bars: tuple[Bar, ...]
    valence: float
    arousal: float


def rule_piece(index: int, n_bars: int, rng: np.random.Generator, tonal: bool = False) -> RulePiece:
    """Compose one piece at a random PAD point: valence and arousal uniform, dominance
    near arousal; ``tonal`` writes it in :data:`TONAL_MODE` of the mapper's mode."""
    v, a = float(rng.uniform(-1, 1)), float(rng.uniform(0, 1))
    # The model is conditioned on valence and arousal only, and the rules' velocity
    # follows dominance: drawn independently, dominance made velocity noise the
    # conditioning cannot explain. Drawn near arousal, loud goes with aroused, as in the
    # corpus labels (corpus.weak_label) and in listeners' ratings of loudness.
    d = float(np.clip(a + rng.normal(0.0, 0.15), 0.0, 1.0))
    params = map_emotion(PAD(v, a, d))
    if tonal:
        params = replace(params, mode=TONAL_MODE[params.mode])
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


def holds_its_key(bars: tuple[Bar, ...]) -> bool:
    """Whether the notes' Krumhansl–Kessler key (tonic and mode, all bars together) is the
    key most of the bar lines name."""
    named = Counter(b.key for b in bars if b.key is not None).most_common(1)
    found = key_of(bars)
    if not named or found is None:
        return False
    return V.key_index(*found) == named[0][0]
