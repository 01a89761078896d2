"""Chroma from the STFT power spectrum (librosa ``chroma_stft`` definitions, tuning 0)."""

from __future__ import annotations

import numpy as np

__all__ = ["chroma_filterbank", "chroma_from_power"]


def chroma_filterbank(
    sample_rate: float,
    n_fft: int,
    n_chroma: int = 12,
    tuning: float = 0.0,
    ctroct: float = 5.0,
    octwidth: float = 2.0,
) -> np.ndarray:
    """Chroma filter bank, float64 ``(n_chroma, n_fft // 2 + 1)``, row 0 = C.

    Gaussian bumps around each pitch class per FFT bin (L2-normalised per bin), weighted by
    a Gaussian over octaves centred on octave ``ctroct`` (librosa ``filters.chroma``).
    """
    frequencies = np.linspace(0.0, sample_rate, n_fft, endpoint=False)[1:]
    a440 = 440.0 * 2.0 ** (tuning / n_chroma)
    frqbins = n_chroma * np.log2(frequencies / (a440 / 16.0))
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))
    binwidthbins = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1.0]))
    d = np.subtract.outer(frqbins, np.arange(0, n_chroma, dtype=np.float64)).T
    n_chroma2 = np.round(float(n_chroma) / 2)
    d = np.remainder(d + n_chroma2 + 10 * n_chroma, n_chroma) - n_chroma2
    wts = np.exp(-0.5 * (2 * d / binwidthbins[None, :]) ** 2)
    norms = np.sqrt(np.sum(wts**2, axis=0, keepdims=True))
    wts = wts / np.where(norms < np.finfo(np.float64).tiny, 1.0, norms)
    wts *= np.exp(-0.5 * (((frqbins / n_chroma - ctroct) / octwidth) ** 2))[None, :]
    wts = np.roll(wts, -3 * (n_chroma // 12), axis=0)
    return np.ascontiguousarray(wts[:, : n_fft // 2 + 1])


def chroma_from_power(power: np.ndarray, filterbank: np.ndarray) -> np.ndarray:
    """Chroma of one frame's power spectrum, max-normalised to 1 (zeros for silence)."""
    raw = filterbank @ power
    peak = raw.max()
    return raw / peak if peak > np.finfo(np.float32).tiny else np.zeros_like(raw)
