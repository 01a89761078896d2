"""Streaming feature extractor: audio blocks in, one 128-value vector per hop out.

Frame ``k`` covers samples ``[t0 + k·hop, t0 + k·hop + frame_size)`` of the stream (no
centre padding), where ``t0`` is the stream's first sample time; it is emitted once its last
sample has arrived, tagged with its first sample's time. The layout of the vector is in
:mod:`kelly_actors.bus.frames` and ``docs/features.md``.

Every frame is computed by the same per-hop code whatever the block sizes, so feeding a signal
in blocks of any size gives exactly the frames of one offline pass (:func:`extract`).
"""

from __future__ import annotations

import numpy as np

from kelly_actors.audio.features.chroma import chroma_filterbank, chroma_from_power
from kelly_actors.audio.features.mfcc import CausalDelta, dct_matrix, mel_filterbank, power_to_db
from kelly_actors.audio.features.onset_tempo import OnsetDetector, TempoTracker
from kelly_actors.audio.features.spectral import (
    SpectralContrast,
    fft_frequencies,
    hann_window,
    spectral_bandwidth,
    spectral_centroid,
    spectral_flatness,
    spectral_flux,
    spectral_rolloff,
    zero_crossing_rate,
)
from kelly_actors.audio.features.yin import Yin
from kelly_actors.bus import frames as L

__all__ = ["N_MELS", "FeatureExtractor", "extract"]

N_MELS = 128
_DB_FLOOR = -120.0


class FeatureExtractor:
    """Stateful streaming extractor.

    Args:
        sample_rate: Hz (44 100, 48 000 and 96 000 are tested).
        frame_size: analysis frame (FFT) length in samples, even; 2048 at 44.1/48 kHz,
            4096 at 96 kHz keep the same time resolution and YIN range.
        hop_size: samples between frames, ``1 <= hop_size <= frame_size``.
        start_time: absolute sample time of the first sample that will be fed.
        fmin, fmax: YIN search range, Hz.
    """

    def __init__(
        self,
        sample_rate: int = 48000,
        frame_size: int = 2048,
        hop_size: int = 512,
        start_time: int = 0,
        fmin: float = 40.0,
        fmax: float = 2000.0,
    ) -> None:
        if frame_size < 256 or frame_size % 2:
            raise ValueError(f"frame_size must be even and >= 256, got {frame_size}")
        if not 1 <= hop_size <= frame_size:
            raise ValueError(f"hop_size must be in [1, frame_size], got {hop_size}")
        self.sample_rate = int(sample_rate)
        self.frame_size = frame_size
        self.hop_size = hop_size
        self._window = hann_window(frame_size)
        # Magnitudes are scaled so that a full-scale sine peaks at about 1 (for flux).
        self._mag_scale = 2.0 / self._window.sum()
        self._freqs = fft_frequencies(sample_rate, frame_size)
        self._contrast = SpectralContrast(sample_rate, frame_size)
        self._melfb = mel_filterbank(sample_rate, frame_size, N_MELS)
        self._dct = dct_matrix(L.N_MFCC, N_MELS)
        self._chromafb = chroma_filterbank(sample_rate, frame_size)
        self._yin = Yin(sample_rate, frame_size, fmin=fmin, fmax=fmax)
        self.reset(start_time)

    def reset(self, start_time: int = 0) -> None:
        """Forget all history; the next sample fed has time ``start_time``."""
        self._buf = np.zeros(self.frame_size + 2048)
        self._fill = 0
        self._next_time = int(start_time)  # time of the first sample in the buffer
        self._prev_mag = np.zeros(self.frame_size // 2 + 1)
        self._delta = CausalDelta(L.N_MFCC)
        self._onset = OnsetDetector(N_MELS)
        self._tempo = TempoTracker(self.sample_rate / self.hop_size)

    @property
    def yin_range_hz(self) -> tuple[float, float]:
        """Effective YIN search range (fmin, fmax) in Hz."""
        return self._yin.fmin, self._yin.fmax

    def process(self, block: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Feed a mono block (any length); return the frames it completed, in order.

        Args:
            block: float32 (or float64) ``(n,)`` samples.

        Returns:
            list of ``(sample_time, vector)``: the frame's first-sample time (int) and a new
            float32 ``(128,)`` array.
        """
        data = np.asarray(block, dtype=np.float64).reshape(-1)
        out: list[tuple[int, np.ndarray]] = []
        pos = 0
        cap = self._buf.shape[0]
        while pos < data.shape[0]:
            take = min(cap - self._fill, data.shape[0] - pos)
            self._buf[self._fill : self._fill + take] = data[pos : pos + take]
            self._fill += take
            pos += take
            while self._fill >= self.frame_size:
                out.append((self._next_time, self._compute(self._buf[: self.frame_size])))
                hop = self.hop_size
                self._buf[: self._fill - hop] = self._buf[hop : self._fill]
                self._fill -= hop
                self._next_time += hop
        return out

    def _compute(self, frame: np.ndarray) -> np.ndarray:
        v = np.zeros(L.N_FEATURES)
        sq = frame @ frame
        rms = np.sqrt(sq / frame.shape[0])
        peak = np.max(np.abs(frame))
        v[L.RMS] = rms
        v[L.LOUDNESS_DB] = 20.0 * np.log10(rms) if rms > 1e-6 else _DB_FLOOR
        v[L.PEAK] = peak
        v[L.CREST_DB] = 20.0 * np.log10(peak / rms) if rms > 1e-12 else 0.0
        v[L.ZCR] = zero_crossing_rate(frame)

        spec = np.fft.rfft(frame * self._window)
        mag = np.abs(spec)
        power = mag * mag
        centroid = spectral_centroid(mag, self._freqs)
        v[L.CENTROID_HZ] = centroid
        v[L.BANDWIDTH_HZ] = spectral_bandwidth(mag, self._freqs, centroid)
        v[L.ROLLOFF_HZ] = spectral_rolloff(mag, self._freqs)
        v[L.FLATNESS] = spectral_flatness(power)
        scaled = mag * self._mag_scale
        v[L.FLUX] = spectral_flux(scaled, self._prev_mag)
        self._prev_mag = scaled
        v[L.CONTRAST] = self._contrast(mag)

        mel = self._melfb @ power
        mel_db = power_to_db(mel)
        mfcc = self._dct @ mel_db
        v[L.MFCC] = mfcc
        v[L.MFCC_DELTA] = self._delta(mfcc)
        v[L.CHROMA] = chroma_from_power(power, self._chromafb)
        v[L.LOGMEL] = power_to_db(mel[0::2] + mel[1::2])

        f0, confidence, voiced = self._yin(frame)
        v[L.F0_CONFIDENCE] = confidence
        if voiced:
            v[L.F0_HZ] = f0
            v[L.VOICED] = 1.0
            v[L.PITCH_MIDI] = 69.0 + 12.0 * np.log2(f0 / 440.0)

        strength, onset = self._onset(mel_db)
        v[L.ONSET_STRENGTH] = strength
        v[L.ONSET] = float(onset)
        v[L.TEMPO_BPM], v[L.TEMPO_CONFIDENCE], v[L.BEAT_PHASE] = self._tempo(strength)
        return v.astype(np.float32)


def extract(
    signal: np.ndarray,
    sample_rate: int = 48000,
    frame_size: int = 2048,
    hop_size: int = 512,
    start_time: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Offline pass over a whole mono signal.

    Returns:
        ``(times, features)``: int64 ``(n_frames,)`` first-sample times and float32
        ``(n_frames, 128)``; ``n_frames = 1 + (len - frame_size) // hop_size`` (0 if shorter).
    """
    fx = FeatureExtractor(sample_rate, frame_size, hop_size, start_time)
    frames = fx.process(signal)
    times = np.array([t for t, _ in frames], dtype=np.int64)
    feats = np.stack([f for _, f in frames]) if frames else np.zeros((0, L.N_FEATURES), np.float32)
    return times, feats.astype(np.float32)
