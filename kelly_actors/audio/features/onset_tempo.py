"""Onset strength, causal onset detection and a running tempo / beat-phase estimate."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["OnsetDetector", "TempoTracker"]

#: dB floor of the mel power (re 1) used for onset strength: 80 dB below the mel level of a
#: full-scale sine in a 2048-point Hann frame (≈ +48 dB), so silence and near-silence do not
#: produce spurious changes.
ONSET_FLOOR_DB = -32.0


class OnsetDetector:
    """Onset strength (librosa ``onset_strength``: mean over mel bands of the positive
    change of log-mel power since the previous hop, lag 1) and a causal peak picker.

    An onset is flagged at the first hop whose strength exceeds the mean of the previous
    ``history`` hops by ``delta`` and at least ``min_gap`` hops after the previous onset.
    """

    def __init__(self, n_mels: int, history: int = 16, delta: float = 1.0, min_gap: int = 4):
        self.prev = np.full(n_mels, ONSET_FLOOR_DB)
        self.started = False
        self.history = np.zeros(history)
        self.count = 0
        self.delta = delta
        self.min_gap = min_gap
        self.since_onset = min_gap

    def __call__(self, mel_db: np.ndarray) -> tuple[float, bool]:
        cur = np.maximum(mel_db, ONSET_FLOOR_DB)
        if self.started:
            diff = cur - self.prev
            strength = float(np.maximum(diff, 0.0).sum()) / diff.shape[0]
        else:
            strength = 0.0
            self.started = True
        self.prev[:] = cur
        filled = min(self.count, self.history.shape[0])
        baseline = float(self.history[:filled].sum()) / filled if filled else 0.0
        self.since_onset += 1
        onset = strength > baseline + self.delta and self.since_onset > self.min_gap
        if onset:
            self.since_onset = 0
        self.history[self.count % self.history.shape[0]] = strength
        self.count += 1
        return strength, onset


class TempoTracker:
    """Running tempo (BPM) and beat phase from the onset-strength envelope.

    Every ``update_hops`` hops, the autocorrelation of the last ``window_s`` seconds of
    onset strength (mean removed) is weighted by a log-normal prior on tempo (centre
    ``start_bpm``, one octave standard deviation, as librosa ``beat.tempo``; the envelope is
    first smoothed by a 20 ms Gaussian so that beat periods that fall between two lags are
    not penalised against their integer multiples) and its best
    lag in ``[min_bpm, max_bpm]`` is refined by parabolic interpolation. Confidence is the
    autocorrelation at that lag over the one at lag 0 (0…1). The beat phase (0…1, 0 on a
    beat) comes from the comb of past onset strength that best fits the period, and advances
    by one period per beat between updates. Until ``min_s`` seconds are seen, tempo and
    confidence are 0.
    """

    def __init__(
        self,
        hops_per_second: float,
        window_s: float = 8.0,
        min_s: float = 3.0,
        update_hops: int = 8,
        start_bpm: float = 120.0,
        min_bpm: float = 40.0,
        max_bpm: float = 240.0,
    ) -> None:
        self.hps = hops_per_second
        self.size = round(window_s * hops_per_second)
        self.min_count = round(min_s * hops_per_second)
        self.update_hops = update_hops
        self.buffer = np.zeros(self.size)
        self.count = 0
        self.n_fft = 1 << (2 * self.size - 1).bit_length()
        lag_min = max(1, math.floor(60.0 * hops_per_second / max_bpm))
        lag_max = min(self.size // 2, math.ceil(60.0 * hops_per_second / min_bpm))
        self.lags = np.arange(lag_min, lag_max + 1)
        bpms = 60.0 * hops_per_second / self.lags
        self.prior = np.exp(-0.5 * (np.log2(bpms) - np.log2(start_bpm)) ** 2)
        sigma = max(1.0, 0.02 * hops_per_second)
        half = int(np.ceil(3 * sigma))
        kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
        self.kernel = kernel / kernel.sum()
        self.tempo = 0.0
        self.confidence = 0.0
        self.phase = 0.0
        self.period = 0.0

    def __call__(self, strength: float) -> tuple[float, float, float]:
        self.buffer[self.count % self.size] = strength
        self.count += 1
        if self.period > 0.0:
            self.phase = (self.phase + 1.0 / self.period) % 1.0
        if self.count >= self.min_count and self.count % self.update_hops == 0:
            self._update()
        return self.tempo, self.confidence, self.phase

    def _update(self) -> None:
        n = min(self.count, self.size)
        start = self.count % self.size
        env = np.roll(self.buffer, -start) if self.count >= self.size else self.buffer[:n]
        env = np.convolve(env - env.mean(), self.kernel, mode="same")
        spec = np.fft.rfft(env, self.n_fft)
        ac = np.fft.irfft(spec * np.conj(spec), self.n_fft)[: self.lags[-1] + 2]
        if ac[0] <= 0.0:
            self.tempo = self.confidence = self.phase = self.period = 0.0
            return
        score = ac[self.lags] * self.prior
        best = int(np.argmax(score))
        lag = float(self.lags[best])
        i = int(self.lags[best])
        a, b, c = ac[i - 1], ac[i], ac[i + 1]
        denom = a - 2.0 * b + c
        if denom < 0.0:
            lag += float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))
        self.period = lag
        self.tempo = 60.0 * self.hps / lag
        self.confidence = float(np.clip(b / ac[0], 0.0, 1.0))
        # Beat phase: which offset (hops since the last beat) best fits a comb of period lag.
        n_beats = max(1, int((n - 1) // lag))
        offsets = np.arange(int(np.ceil(lag)))
        taps = np.rint(offsets[:, None] + lag * np.arange(n_beats)[None, :]).astype(np.int64)
        taps = np.minimum(taps, n - 1)
        recent = env[::-1]  # recent[j] = strength j hops ago
        since_beat = int(np.argmax(recent[taps].sum(axis=1)))
        self.phase = (since_beat / lag) % 1.0
