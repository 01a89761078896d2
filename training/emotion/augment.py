"""Stage conditions for training clips: a room and a noise floor, as a microphone hears them.

Pure functions of a float32 mono signal at 48 kHz and a seeded ``numpy`` generator; each
returns a new array of the same length. The level (gain) jitter stays in
:func:`training.emotion.dataset.build`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 48_000


@dataclass(frozen=True)
class Stage:
    """How one clip is heard: ``rt60_s`` the room's decay time to −60 dB (0 = dry),
    ``wet`` the reverberant share (0…1), ``snr_db`` the signal-to-noise ratio of a pink
    noise floor (None = no noise)."""

    rt60_s: float = 0.0
    wet: float = 0.0
    snr_db: float | None = None


def draw_stage(rng: np.random.Generator, room_share: float, noise_share: float) -> Stage:
    """A random stage: a room (RT60 0.2–1.6 s, wet 0.1–0.5) with probability ``room_share``,
    a noise floor (SNR 12–40 dB) with probability ``noise_share``."""
    room = rng.random() < room_share
    noisy = rng.random() < noise_share
    return Stage(
        rt60_s=float(rng.uniform(0.2, 1.6)) if room else 0.0,
        wet=float(rng.uniform(0.1, 0.5)) if room else 0.0,
        snr_db=float(rng.uniform(12.0, 40.0)) if noisy else None,
    )


def room_impulse(rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """float64 (n,): exponentially decaying Gaussian noise reaching −60 dB at ``rt60_s``,
    unit energy; n = 1.2·rt60 at 48 kHz."""
    n = max(1, int(1.2 * rt60_s * SAMPLE_RATE))
    t = np.arange(n) / SAMPLE_RATE
    ir = rng.standard_normal(n) * np.exp(-6.908 * t / rt60_s)
    return ir / np.sqrt(np.sum(ir**2))


def reverberate(signal: np.ndarray, rt60_s: float, wet: float, rng: np.random.Generator):
    """``signal`` float (n,) through a room (:func:`room_impulse`), mixed ``wet`` : 1 − wet
    at equal energy; the tail past n is cut."""
    if rt60_s <= 0.0 or wet <= 0.0:
        return signal.copy()
    ir = room_impulse(rt60_s, rng)
    size = 1 << int(np.ceil(np.log2(signal.size + ir.size)))
    tail = np.fft.irfft(np.fft.rfft(signal, size) * np.fft.rfft(ir, size), size)[: signal.size]
    return ((1.0 - wet) * signal + wet * tail).astype(signal.dtype)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """float64 (n,): noise with a 1/f power spectrum (−3 dB per octave), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spectrum.size, dtype=np.float64)
    spectrum /= np.sqrt(np.maximum(f, 1.0))
    noise = np.fft.irfft(spectrum, n)
    return noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)


def add_noise(signal: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``signal`` plus pink noise ``snr_db`` below the signal's RMS (a silent signal gets
    none: there is no level to be below)."""
    rms = float(np.sqrt(np.mean(np.square(signal, dtype=np.float64))))
    if rms < 1e-9:
        return signal.copy()
    noise = pink_noise(signal.size, rng) * rms * 10 ** (-snr_db / 20)
    return (signal + noise).astype(signal.dtype)


def on_stage(signal: np.ndarray, stage: Stage, rng: np.random.Generator) -> np.ndarray:
    """``signal`` as heard on ``stage``: the room first, then the noise floor."""
    out = reverberate(signal, stage.rt60_s, stage.wet, rng)
    if stage.snr_db is not None:
        out = add_noise(out, stage.snr_db, rng)
    return out
