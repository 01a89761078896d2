"""Confidence gate and exponential smoothing of raw per-frame estimates (as in the original).

A frame whose confidence is below ``gate`` does not move the smoothed value (it is counted);
others move it by ``s ← s + α·(x − s)`` on every axis and on the confidence. α = 0.1 per
frame is a time constant of ~10 frames (≈ 0.1 s at 48 kHz / 512): quick enough to follow
a phrase, slow enough that one odd frame does not flip the music. The composer's fusion
smooths again per estimate it accepts (docs/composer.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Smoother:
    alpha: float = 0.1
    gate: float = 0.3
    value: tuple[float, float, float, float] | None = None
    gated: int = 0

    def update(
        self, raw: tuple[float, float, float, float]
    ) -> tuple[float, float, float, float] | None:
        """The smoothed (v, a, d, confidence) after ``raw``; None before any frame passed."""
        if raw[3] < self.gate:
            self.gated += 1
            return self.value
        if self.value is None:
            self.value = tuple(float(x) for x in raw)
        else:
            a = self.alpha
            self.value = tuple(s + a * (float(x) - s) for s, x in zip(self.value, raw, strict=True))
        return self.value

    def reset(self) -> None:
        self.value = None
