"""Mel filter bank, MFCCs and their causal deltas (librosa-compatible definitions)."""

from __future__ import annotations

import numpy as np

from kelly_actors.audio.features.spectral import fft_frequencies

__all__ = [
    "CausalDelta",
    "dct_matrix",
    "hz_to_mel",
    "mel_filterbank",
    "mel_to_hz",
    "power_to_db",
]

_F_SP = 200.0 / 3.0
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney mel scale (librosa ``hz_to_mel(htk=False)``): linear below 1 kHz, log above."""
    f = np.asarray(hz, dtype=np.float64)
    mel = f / _F_SP
    log_part = _MIN_LOG_MEL + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(f >= _MIN_LOG_HZ, log_part, mel)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    m = np.asarray(mel, dtype=np.float64)
    return np.where(
        m >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOGSTEP * (m - _MIN_LOG_MEL)), _F_SP * m
    )


def mel_filterbank(
    sample_rate: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """Slaney-normalised triangular mel filters (librosa ``filters.mel`` defaults).

    Returns:
        float64 ``(n_mels, n_fft // 2 + 1)``.
    """
    fmax = sample_rate / 2.0 if fmax is None else fmax
    fftfreqs = fft_frequencies(sample_rate, n_fft)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights


def dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Orthonormal DCT-II matrix ``(n_out, n_in)`` (``scipy.fft.dct(type=2, norm='ortho')``)."""
    n = np.arange(n_in)
    k = np.arange(n_out)[:, None]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2.0 * n_in)) * np.sqrt(2.0 / n_in)
    basis[0] *= np.sqrt(0.5)
    return basis


def power_to_db(power: np.ndarray | float, amin: float = 1e-10) -> np.ndarray:
    """``10 · log10(max(power, amin))`` (librosa ``power_to_db`` with ref 1, no top_db)."""
    return 10.0 * np.log10(np.maximum(power, amin))


class CausalDelta:
    """Least-squares slope over the last ``2·N + 1`` frames (HTK delta, N = 2), causal.

    The value published at hop t is the regression slope centred at hop ``t − N`` (so equals
    ``librosa.feature.delta(width=5)`` of hop ``t − N``); before the window fills, the first
    frame is repeated (librosa's ``mode='nearest'`` at the start).
    """

    def __init__(self, n_coeffs: int, half_width: int = 2) -> None:
        self.half_width = half_width
        width = 2 * half_width + 1
        self.weights = np.arange(-half_width, half_width + 1, dtype=np.float64)
        self.weights /= float(np.sum(self.weights**2))
        self.history = np.zeros((width, n_coeffs))
        self.count = 0

    def __call__(self, coeffs: np.ndarray) -> np.ndarray:
        if self.count == 0:
            self.history[:] = coeffs
        else:
            self.history[:-1] = self.history[1:]
            self.history[-1] = coeffs
        self.count += 1
        return self.weights @ self.history
