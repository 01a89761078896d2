"""Frame-level spectral descriptors (one frame at a time, numpy float64).

Definitions follow librosa (``librosa.feature.*``) on the same frame, so they can be checked
against it; the per-frame functions take the magnitude (``|X|``) or power (``|X|²``) spectrum
of a Hann-windowed frame, shape ``(n_fft // 2 + 1,)``.
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = [
    "SpectralContrast",
    "fft_frequencies",
    "hann_window",
    "spectral_bandwidth",
    "spectral_centroid",
    "spectral_flatness",
    "spectral_flux",
    "spectral_rolloff",
    "zero_crossing_rate",
]


def hann_window(n: int) -> np.ndarray:
    """Periodic Hann window (``scipy.signal.get_window('hann', n)``, librosa's default)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def fft_frequencies(sample_rate: float, n_fft: int) -> np.ndarray:
    """Centre frequency (Hz) of each rfft bin, shape ``(n_fft // 2 + 1,)``."""
    return np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)


def zero_crossing_rate(frame: np.ndarray, threshold: float = 1e-10) -> float:
    """Fraction of adjacent sample pairs whose sign differs (librosa ``zero_crossing_rate``:
    samples with ``|x| <= threshold`` count as zero, zero counts as positive)."""
    neg = (frame < 0.0) & (np.abs(frame) > threshold)
    return float(np.count_nonzero(neg[1:] != neg[:-1])) / frame.shape[0]


def spectral_centroid(mag: np.ndarray, freqs: np.ndarray) -> float:
    """Magnitude-weighted mean frequency, Hz (0 for a silent frame)."""
    total = mag.sum()
    return float(freqs @ mag / total) if total > 0.0 else 0.0


def spectral_bandwidth(mag: np.ndarray, freqs: np.ndarray, centroid: float) -> float:
    """Magnitude-weighted standard deviation of frequency around the centroid (p = 2), Hz."""
    total = mag.sum()
    if total <= 0.0:
        return 0.0
    dev = freqs - centroid
    return float(np.sqrt((dev * dev) @ mag / total))


def spectral_rolloff(mag: np.ndarray, freqs: np.ndarray, roll_percent: float = 0.85) -> float:
    """Lowest bin frequency below which ``roll_percent`` of the magnitude sum lies, Hz."""
    cumulative = np.cumsum(mag)
    idx = int(np.searchsorted(cumulative, roll_percent * cumulative[-1], side="left"))
    return float(freqs[min(idx, freqs.shape[0] - 1)])


def spectral_flatness(power: np.ndarray, amin: float = 1e-10) -> float:
    """Geometric mean / arithmetic mean of the power spectrum (floored at ``amin``), 0…1."""
    p = np.maximum(power, amin)
    n = p.shape[0]
    return float(np.exp(np.log(p).sum() / n) / (p.sum() / n))


def spectral_flux(mag: np.ndarray, prev_mag: np.ndarray) -> float:
    """L2 norm of the positive change of the magnitude spectrum since the previous frame."""
    diff = mag - prev_mag
    np.maximum(diff, 0.0, out=diff)
    return float(np.sqrt(diff @ diff))


class SpectralContrast:
    """Spectral contrast in octave bands (librosa ``spectral_contrast``; fmin 200 Hz, 6 bands,
    quantile 0.02): per band, dB of the mean of the top quantile of magnitudes minus dB of
    the mean of the bottom quantile. Output shape ``(n_bands + 1,)``, dB."""

    def __init__(
        self, sample_rate: float, n_fft: int, fmin: float = 200.0, n_bands: int = 6,
        quantile: float = 0.02,
    ) -> None:  # fmt: skip
        freqs = fft_frequencies(sample_rate, n_fft)
        octa = np.zeros(n_bands + 2)
        octa[1:] = fmin * (2.0 ** np.arange(0, n_bands + 1))
        if np.any(octa[:-1] >= 0.5 * sample_rate):
            raise ValueError("spectral contrast band exceeds Nyquist; lower fmin or n_bands")
        self.bands: list[tuple[np.ndarray, int]] = []
        for k, (f_low, f_high) in enumerate(itertools.pairwise(octa)):
            band = (freqs >= f_low) & (freqs <= f_high)
            idx = np.flatnonzero(band)
            if k > 0:
                band[idx[0] - 1] = True
            if k == n_bands:
                band[idx[-1] + 1 :] = True
            count = int(np.count_nonzero(band))
            n_q = max(int(np.rint(quantile * count)), 1)
            bins = np.flatnonzero(band)
            if k < n_bands:
                bins = bins[:-1]
            self.bands.append((bins, n_q))
        self.n_out = n_bands + 1

    def __call__(self, mag: np.ndarray) -> np.ndarray:
        out = np.empty(2 * self.n_out)  # peaks, then valleys
        for k, (bins, n_q) in enumerate(self.bands):
            sub = mag[bins]
            if sub.shape[0] > 2 * n_q:
                part = np.partition(sub, (n_q - 1, sub.shape[0] - n_q))
            else:
                part = np.sort(sub)
            out[k] = float(part[-n_q:].sum()) / n_q
            out[self.n_out + k] = float(part[:n_q].sum()) / n_q
        db = np.log10(np.maximum(out, 1e-10))
        return 10.0 * (db[: self.n_out] - db[self.n_out :])
