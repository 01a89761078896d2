"""Fundamental frequency by YIN (de Cheveigné & Kawahara 2002), one frame at a time."""

from __future__ import annotations

import numpy as np

__all__ = ["Yin"]


class Yin:
    """YIN f0 estimator for frames of ``frame_size`` samples.

    The difference function uses an integration window of ``frame_size // 2`` samples and
    lags up to ``frame_size - frame_size // 2``; it is computed with one FFT
    cross-correlation and running energies. The cumulative-mean-normalised difference
    ``d'(τ)`` is searched from the shortest lag for the first dip below ``threshold``
    (absolute threshold step), followed down to its local minimum and refined by parabolic
    interpolation. If no dip goes below the threshold, the global minimum is reported as
    unvoiced.

    Args:
        sample_rate: Hz.
        frame_size: samples per frame.
        fmin, fmax: search range, Hz; ``fmin`` is raised to what the frame can hold
            (``sample_rate / (frame_size // 2)``), see :attr:`fmin`.
        threshold: absolute threshold on ``d'`` (0.15).
        silence_rms: frames quieter than this RMS are unvoiced.

    Call with a float64 frame; returns ``(f0_hz, confidence, voiced)`` where confidence is
    ``1 − d'(τ)`` clipped to [0, 1] and ``f0_hz`` is the estimate at the best lag (reported
    even when unvoiced).
    """

    def __init__(
        self,
        sample_rate: float,
        frame_size: int,
        fmin: float = 40.0,
        fmax: float = 2000.0,
        threshold: float = 0.15,
        silence_rms: float = 1e-4,
    ) -> None:
        self.sample_rate = float(sample_rate)
        self.window = frame_size // 2
        self.tau_max = min(frame_size - self.window, int(np.floor(sample_rate / fmin)))
        self.tau_min = max(2, int(np.floor(sample_rate / fmax)))
        if self.tau_min + 2 >= self.tau_max:
            raise ValueError("frame too short for the requested f0 range")
        self.fmin = self.sample_rate / self.tau_max
        self.fmax = self.sample_rate / self.tau_min
        self.threshold = threshold
        self.silence_rms = silence_rms
        n = frame_size + self.window
        self.n_fft = 1 << (n - 1).bit_length()
        self._taus = np.arange(1, self.tau_max + 1, dtype=np.float64)

    def cmnd(self, frame: np.ndarray) -> np.ndarray:
        """Cumulative-mean-normalised difference ``d'(τ)`` for τ = 0..tau_max."""
        w, tmax = self.window, self.tau_max
        spec = np.fft.rfft(frame, self.n_fft)
        spec *= np.conj(np.fft.rfft(frame[:w], self.n_fft))
        corr = np.fft.irfft(spec, self.n_fft)[: tmax + 1]
        sq = np.concatenate(([0.0], np.cumsum(frame[: w + tmax] ** 2)))
        energy = sq[w : w + tmax + 1] - sq[: tmax + 1]  # Σ x[j]² for j in [τ, τ + w)
        diff = energy[0] + energy - 2.0 * corr
        np.maximum(diff, 0.0, out=diff)
        out = np.ones(tmax + 1)
        cum = np.cumsum(diff[1:])
        np.divide(diff[1:] * self._taus, cum, out=out[1:], where=cum > 0.0)
        return out

    def __call__(self, frame: np.ndarray) -> tuple[float, float, bool]:
        d = self.cmnd(frame)
        lo, hi = self.tau_min, self.tau_max
        below = np.flatnonzero(d[lo:hi] < self.threshold)
        if below.size:
            tau = lo + int(below[0])
            while tau + 1 < hi and d[tau + 1] < d[tau]:
                tau += 1
            voiced = True
        else:
            tau = lo + int(np.argmin(d[lo:hi]))
            voiced = False
        shift = 0.0
        if lo < tau < hi:
            a, b, c = d[tau - 1], d[tau], d[tau + 1]
            denom = a - 2.0 * b + c
            if denom > 0.0:
                shift = float(np.clip(0.5 * (a - c) / denom, -1.0, 1.0))
        confidence = float(np.clip(1.0 - d[tau], 0.0, 1.0))
        seg = frame[: self.window + tau]
        rms = float(np.sqrt(seg @ seg / seg.shape[0]))
        voiced = voiced and rms > self.silence_rms
        return self.sample_rate / (tau + shift), confidence, voiced
