"""The PAD point: valence −1…1, arousal 0…1, dominance 0…1.

Distances and blends are computed in a space where every axis spans the same
length (valence is halved), so a step along valence counts as much as the same
fraction of the arousal or dominance range.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

VALENCE_RANGE = (-1.0, 1.0)
AROUSAL_RANGE = (0.0, 1.0)
DOMINANCE_RANGE = (0.0, 1.0)

#: Arousal at or above which a point is in a "high" quadrant.
AROUSAL_SPLIT = 0.5
#: Valence within ±this of zero is called neutral by :func:`quadrant`.
NEUTRAL_VALENCE_BAND = 0.05


def mix(a: float, b: float, t: float) -> float:
    """Linear interpolation that returns ``a`` exactly at t = 0 and ``b`` exactly at t = 1."""
    return a * (1.0 - t) + b * t


def _clamp(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


@dataclass(frozen=True, slots=True)
class PAD:
    """A point in pleasure (valence), arousal, dominance space."""

    valence: float
    arousal: float
    dominance: float

    def __post_init__(self) -> None:
        for name, value in (
            ("valence", self.valence),
            ("arousal", self.arousal),
            ("dominance", self.dominance),
        ):
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
        if not VALENCE_RANGE[0] <= self.valence <= VALENCE_RANGE[1]:
            raise ValueError(f"valence must be in -1..1, got {self.valence}")
        if not AROUSAL_RANGE[0] <= self.arousal <= AROUSAL_RANGE[1]:
            raise ValueError(f"arousal must be in 0..1, got {self.arousal}")
        if not DOMINANCE_RANGE[0] <= self.dominance <= DOMINANCE_RANGE[1]:
            raise ValueError(f"dominance must be in 0..1, got {self.dominance}")

    @classmethod
    def clamped(cls, valence: float, arousal: float, dominance: float) -> PAD:
        """Build a point, pulling out-of-range coordinates onto the nearest edge."""
        return cls(
            _clamp(valence, *VALENCE_RANGE),
            _clamp(arousal, *AROUSAL_RANGE),
            _clamp(dominance, *DOMINANCE_RANGE),
        )

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.valence, self.arousal, self.dominance)

    def normalised(self) -> tuple[float, float, float]:
        """Coordinates with every axis on 0…1 (valence mapped by (v + 1) / 2)."""
        return ((self.valence + 1.0) / 2.0, self.arousal, self.dominance)

    def distance(self, other: PAD) -> float:
        """Euclidean distance on the normalised axes (0 … √3)."""
        a, b = self.normalised(), other.normalised()
        return math.dist(a, b)

    def lerp(self, other: PAD, t: float) -> PAD:
        """The point a fraction ``t`` (0…1) of the way from self to other."""
        t = _clamp(t, 0.0, 1.0)
        return PAD.clamped(
            mix(self.valence, other.valence, t),
            mix(self.arousal, other.arousal, t),
            mix(self.dominance, other.dominance, t),
        )

    def scaled_from_neutral(self, factor: float) -> PAD:
        """Move away from (factor > 1) or toward (factor < 1) the neutral point."""
        n = NEUTRAL
        return PAD.clamped(
            n.valence + (self.valence - n.valence) * factor,
            n.arousal + (self.arousal - n.arousal) * factor,
            n.dominance + (self.dominance - n.dominance) * factor,
        )

    def negated(self) -> PAD:
        """What "not <this>" means: the other side of neutral, and milder.

        Valence flips and keeps 60 % of its size ("not happy" is sad-ish, not
        grief); arousal and dominance mirror around their midpoint at half size
        ("not calm" is somewhat agitated, "not afraid" somewhat in control).
        """
        return PAD.clamped(
            -0.6 * self.valence,
            0.5 - 0.5 * (self.arousal - 0.5),
            0.5 - 0.5 * (self.dominance - 0.5),
        )


NEUTRAL = PAD(0.0, 0.5, 0.5)


def blend(points: Iterable[tuple[PAD, float]]) -> PAD:
    """Weighted mean of points; weights must be ≥ 0 and not all zero."""
    total = 0.0
    v = a = d = 0.0
    for point, weight in points:
        if weight < 0 or not math.isfinite(weight):
            raise ValueError(f"weights must be finite and >= 0, got {weight}")
        total += weight
        v += point.valence * weight
        a += point.arousal * weight
        d += point.dominance * weight
    if total <= 0:
        raise ValueError("blend needs at least one positive weight")
    return PAD.clamped(v / total, a / total, d / total)


def quadrant(point: PAD) -> str:
    """Russell's circumplex quadrant: 'positive-high', 'negative-low', … or 'neutral-…'."""
    if abs(point.valence) < NEUTRAL_VALENCE_BAND:
        side = "neutral"
    else:
        side = "positive" if point.valence > 0 else "negative"
    level = "high" if point.arousal >= AROUSAL_SPLIT else "low"
    return f"{side}-{level}"
