"""Emotion modulation of the DDSP voice (from the original plugin's DDSP plan).

Three pure functions, one per PAD axis:

* arousal (0…1)  → noise level: :func:`noise_level` scales the filtered-noise gain,
  ``0.25×`` at arousal 0, ``1×`` at 0.5, ``1.75×`` at 1 (linear), so calm music is cleaner
  and agitated music breathier.
* valence (−1…1) → harmonic tilt: :func:`harmonic_tilt` multiplies harmonic k by
  ``10 ** (6 · valence · log2(k) / 20)``, a spectral slope of ``6 dB/octave · valence``
  (darker when negative), then restores the original sum so loudness is kept.
* dominance (0…1) → gain: :func:`dominance_gain` is ``−6 dB`` at 0, ``0 dB`` at 0.5,
  ``+6 dB`` at 1 (linear in dB).

Inputs outside the ranges are clipped to them.
"""

from __future__ import annotations

import numpy as np

TILT_DB_PER_OCTAVE = 6.0
GAIN_RANGE_DB = 6.0
NOISE_LEVEL_MIN = 0.25
NOISE_LEVEL_MAX = 1.75

__all__ = [
    "GAIN_RANGE_DB",
    "NOISE_LEVEL_MAX",
    "NOISE_LEVEL_MIN",
    "TILT_DB_PER_OCTAVE",
    "dominance_gain",
    "harmonic_tilt",
    "noise_level",
    "tilt_db_per_octave",
]


def noise_level(arousal: float) -> float:
    """Multiplier of the noise gain for ``arousal`` in [0, 1] (0.25 … 1.75, 1.0 at 0.5)."""
    a = float(np.clip(arousal, 0.0, 1.0))
    return NOISE_LEVEL_MIN + (NOISE_LEVEL_MAX - NOISE_LEVEL_MIN) * a


def tilt_db_per_octave(valence: float) -> float:
    """Spectral tilt in dB per octave for ``valence`` in [−1, 1] (−6 … +6)."""
    return TILT_DB_PER_OCTAVE * float(np.clip(valence, -1.0, 1.0))


def harmonic_tilt(harmonic_distribution: np.ndarray, valence: float) -> np.ndarray:
    """Tilt a harmonic distribution by valence, keeping its sum.

    Args:
        harmonic_distribution: float, shape ``(..., K)``, non-negative amplitudes of
            harmonics 1..K.
        valence: −1 (dark: −6 dB/octave) … 0 (unchanged) … +1 (bright: +6 dB/octave).

    Returns:
        float64, shape ``(..., K)``: ``d_k · 10^(tilt · log2(k) / 20)``, rescaled so that
        ``sum`` over K equals the input's sum.
    """
    dist = np.asarray(harmonic_distribution, dtype=np.float64)
    k = np.arange(1, dist.shape[-1] + 1, dtype=np.float64)
    gains = np.power(10.0, tilt_db_per_octave(valence) * np.log2(k) / 20.0)
    tilted = dist * gains
    before = dist.sum(axis=-1, keepdims=True)
    after = tilted.sum(axis=-1, keepdims=True)
    return np.divide(tilted * before, after, out=np.zeros_like(tilted), where=after > 0.0)


def dominance_gain(dominance: float) -> float:
    """Linear output gain for ``dominance`` in [0, 1]: −6 dB … +6 dB (1.0 at 0.5)."""
    d = float(np.clip(dominance, 0.0, 1.0))
    return float(10.0 ** ((2.0 * d - 1.0) * GAIN_RANGE_DB / 20.0))
