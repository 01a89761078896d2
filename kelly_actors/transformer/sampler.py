"""Top-k / temperature sampling of one compound word under the grammar's field masks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.grammar import Grammar


@dataclass(frozen=True)
class SamplingConfig:
    """``temperature`` > 0 divides the logits; ``top_k`` ≥ 1 keeps that many best values;
    ``key_temperature`` > 0, when given, divides the bar line's key logits instead."""

    temperature: float = 1.0
    top_k: int = 8
    key_temperature: float | None = None

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k}")
        if self.key_temperature is not None and not self.key_temperature > 0:
            raise ValueError(f"key_temperature must be > 0, got {self.key_temperature}")

    def for_key(self) -> SamplingConfig:
        """The settings the bar line's key field is sampled with."""
        if self.key_temperature is None:
            return self
        return replace(self, temperature=self.key_temperature, key_temperature=None)


def sample_value(
    logits: np.ndarray, mask: np.ndarray, config: SamplingConfig, rng: np.random.Generator
) -> int:
    """One value from ``logits`` (float ``[size]``) among the ``True`` entries of ``mask``."""
    allowed = np.flatnonzero(mask)
    if allowed.size == 0:
        raise ValueError("no value is allowed here (the grammar has no way on)")
    scores = np.asarray(logits, np.float64)[allowed] / config.temperature
    if allowed.size > config.top_k:
        keep = np.argpartition(-scores, config.top_k - 1)[: config.top_k]
        allowed, scores = allowed[keep], scores[keep]
    scores = np.exp(scores - scores.max())
    return int(rng.choice(allowed, p=scores / scores.sum()))


def sample_token(
    logits: Sequence[np.ndarray],
    grammar: Grammar,
    config: SamplingConfig,
    rng: np.random.Generator,
) -> np.ndarray:
    """One legal token ``int64 [N_FIELDS]`` from per-field logits (each ``[FIELD_SIZES[f]]``)."""
    row = np.zeros(V.N_FIELDS, np.int64)
    kind = sample_value(logits[V.TYPE], grammar.type_mask(), config, rng)
    row[V.TYPE] = kind
    if kind == V.BAR:
        row[V.TEMPO] = sample_value(logits[V.TEMPO], grammar.tempo_mask(), config, rng)
        row[V.KEY] = sample_value(logits[V.KEY], grammar.key_mask(), config.for_key(), rng)
    elif kind == V.NOTE:
        track = sample_value(logits[V.TRACK], grammar.track_mask(), config, rng)
        position = sample_value(logits[V.POSITION], grammar.position_mask(track), config, rng)
        bias = grammar.pitch_bias(track)
        pitch_logits = logits[V.PITCH] if bias is None else logits[V.PITCH] + bias
        pitch = sample_value(pitch_logits, grammar.pitch_mask(track, position), config, rng)
        velocity = sample_value(logits[V.VELOCITY], grammar.velocity_mask(), config, rng)
        duration = sample_value(logits[V.DURATION], grammar.duration_mask(position), config, rng)
        row[V.TRACK : V.DURATION + 1] = (track, position, pitch, velocity, duration)
    return row
