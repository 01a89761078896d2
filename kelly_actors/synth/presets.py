"""Timbre presets: the parameters the additive (non-neural) DDSP voice is driven by.

Layout of a :class:`TimbrePreset` (what a neural decoder will predict instead, per frame):

================================  ==========================  ================================
field                             dtype / shape               meaning, units
================================  ==========================  ================================
``harmonic_distribution``         float64 ``(N_HARMONICS,)``  relative amplitude of harmonics
                                                              1..64, non-negative, sums to 1
``noise_shape``                   tuple of ``(Hz, dB)``       breakpoints of the noise filter's
                                                              magnitude response (linear
                                                              interpolation in Hz, dB re 1)
``noise_gain``                    float                       linear gain of the filtered noise
                                                              relative to the harmonic part
``attack_s`` / ``decay_s``        float, seconds              ADSR times (linear segments)
``sustain``                       float 0…1                   ADSR sustain level
``release_s``                     float, seconds              ADSR release time
``vibrato_rate_hz``               float, Hz                   vibrato LFO rate
``vibrato_depth_cents``           float, cents                vibrato depth (peak deviation)
``vibrato_delay_s``               float, seconds              vibrato fades in linearly over
                                                              this time after note-on
================================  ==========================  ================================

Noise magnitudes are defined in Hz, so a preset sounds the same at 44.1, 48 and 96 kHz:
:meth:`TimbrePreset.noise_magnitudes` samples the shape on ``n_bands`` bands spaced
uniformly from 0 Hz to Nyquist (the layout of :func:`kelly_actors.synth.ddsp.filtered_noise`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

N_HARMONICS = 64
N_NOISE_BANDS = 65

__all__ = [
    "N_HARMONICS",
    "N_NOISE_BANDS",
    "PRESETS",
    "PRESET_NAMES",
    "TimbrePreset",
    "get_preset",
]


def _normalized(dist: np.ndarray) -> np.ndarray:
    dist = np.asarray(dist, dtype=np.float64)
    out = np.zeros(N_HARMONICS)
    out[: min(N_HARMONICS, dist.size)] = dist[:N_HARMONICS]
    return out / out.sum()


@dataclass(frozen=True)
class TimbrePreset:
    """One instrument's timbre; see the module docstring for the layout."""

    name: str
    harmonic_distribution: np.ndarray = field(repr=False)
    noise_shape: tuple[tuple[float, float], ...]
    noise_gain: float
    attack_s: float
    decay_s: float
    sustain: float
    release_s: float
    vibrato_rate_hz: float = 0.0
    vibrato_depth_cents: float = 0.0
    vibrato_delay_s: float = 0.0

    def noise_magnitudes(self, sample_rate: float, n_bands: int = N_NOISE_BANDS) -> np.ndarray:
        """Linear band gains, float64 ``(n_bands,)``, bands uniform from 0 Hz to Nyquist."""
        freqs = np.linspace(0.0, sample_rate / 2.0, n_bands)
        hz = np.array([p[0] for p in self.noise_shape], dtype=np.float64)
        db = np.array([p[1] for p in self.noise_shape], dtype=np.float64)
        return np.power(10.0, np.interp(freqs, hz, db) / 20.0)


_K = np.arange(1, N_HARMONICS + 1, dtype=np.float64)
_ODD = (_K % 2) == 1

PRESETS: dict[str, TimbrePreset] = {
    "sine": TimbrePreset(
        name="sine",
        harmonic_distribution=_normalized(np.array([1.0])),
        noise_shape=((0.0, -120.0), (1.0e6, -120.0)),
        noise_gain=0.0,
        attack_s=0.005,
        decay_s=0.05,
        sustain=1.0,
        release_s=0.05,
    ),
    "flute": TimbrePreset(
        name="flute",
        harmonic_distribution=_normalized(_K**-2.5 * np.where(_K == 2, 1.6, 1.0)),
        noise_shape=((0.0, -30.0), (1500.0, -12.0), (5000.0, 0.0), (12000.0, -18.0), (1e6, -60.0)),
        noise_gain=0.06,
        attack_s=0.06,
        decay_s=0.1,
        sustain=0.85,
        release_s=0.12,
        vibrato_rate_hz=5.0,
        vibrato_depth_cents=12.0,
        vibrato_delay_s=0.3,
    ),
    "clarinet": TimbrePreset(
        name="clarinet",
        harmonic_distribution=_normalized(np.where(_ODD, 1.0, 0.06) / _K**1.1),
        noise_shape=((0.0, -24.0), (2000.0, -6.0), (6000.0, -12.0), (1e6, -60.0)),
        noise_gain=0.02,
        attack_s=0.03,
        decay_s=0.08,
        sustain=0.9,
        release_s=0.08,
    ),
    "strings": TimbrePreset(
        name="strings",
        harmonic_distribution=_normalized(
            (1.0 / _K) * (1.0 + 0.8 * np.exp(-0.5 * ((_K - 6.0) / 3.0) ** 2))
        ),
        noise_shape=((0.0, -40.0), (1000.0, -12.0), (4000.0, -6.0), (10000.0, -20.0), (1e6, -60.0)),
        noise_gain=0.015,
        attack_s=0.12,
        decay_s=0.2,
        sustain=0.9,
        release_s=0.35,
        vibrato_rate_hz=5.5,
        vibrato_depth_cents=15.0,
        vibrato_delay_s=0.25,
    ),
    "brass": TimbrePreset(
        name="brass",
        harmonic_distribution=_normalized(
            (1.0 / _K**0.8) * (1.0 + 1.5 * np.exp(-0.5 * ((_K - 4.0) / 2.0) ** 2))
        ),
        noise_shape=((0.0, -30.0), (1500.0, -10.0), (3000.0, -6.0), (8000.0, -24.0), (1e6, -60.0)),
        noise_gain=0.01,
        attack_s=0.04,
        decay_s=0.15,
        sustain=0.8,
        release_s=0.1,
        vibrato_rate_hz=5.0,
        vibrato_depth_cents=6.0,
        vibrato_delay_s=0.4,
    ),
    "pluck": TimbrePreset(
        name="pluck",
        harmonic_distribution=_normalized(np.abs(np.sin(np.pi * _K * 0.18)) / _K**1.6),
        noise_shape=((0.0, -20.0), (3000.0, -6.0), (8000.0, -12.0), (1e6, -50.0)),
        noise_gain=0.03,
        attack_s=0.002,
        decay_s=1.2,
        sustain=0.0,
        release_s=0.15,
    ),
    "organ": TimbrePreset(
        name="organ",
        harmonic_distribution=_normalized(
            np.array([1.0, 0.8, 0.5, 0.6, 0.0, 0.4, 0.0, 0.35, 0.0, 0.0, 0.0, 0.2])
        ),
        noise_shape=((0.0, -60.0), (1e6, -60.0)),
        noise_gain=0.0,
        attack_s=0.01,
        decay_s=0.02,
        sustain=1.0,
        release_s=0.03,
    ),
}

#: Preset names in a fixed order: a ``PRESET`` event carries an index into it.
PRESET_NAMES: tuple[str, ...] = tuple(sorted(PRESETS))


def get_preset(name: str) -> TimbrePreset:
    """The preset called ``name``; raises ``KeyError`` naming the available presets."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown timbre preset {name!r}; have {sorted(PRESETS)}") from None
