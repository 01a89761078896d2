"""Timbre transfer: the live input's f0 and loudness drive the DDSP decoder (sing → violin).

The features actor writes one vector per hop (``frames`` ring) with the sample time of the
first sample of its analysis window. Three pieces turn that into audio:

* :class:`FrameMapper` maps one frame's ``(f0_hz, f0_confidence, loudness_db)`` to decoder
  conditioning ``(f0_hz, loudness_db)``. A voiced frame (f0 > 0 and confidence at least
  ``min_confidence``) passes through (loudness clipped to ``[floor_db, 0]`` dBFS). An unvoiced
  or low-confidence frame holds the last voiced pitch — causal version of the training data's
  convention (``training/ddsp/data.py``: unvoiced frames take the nearest voiced f0) — and
  fades the loudness by ``fade_db`` per frame towards ``floor_db`` (never above the frame's
  own loudness), so breaths and consonants fade the voice out instead of pitching it at 0 Hz.
* :class:`ControlTrack` places each mapped frame on the output timeline. The training data
  pairs feature frame ``k`` (window ``[512·k, 512·k + 2048)``) with the decoder value reached
  at the window's centre, so a frame whose window starts at input sample ``s`` becomes a knot
  at output sample ``K = s + frame_size/2 + delay``. ``delay`` is fixed by the first frame so
  that knots sit on the decoder grid (multiples of the decoder hop) just after what the synth
  has already rendered plus ``slack``; a frame that arrives after its knot's decoder frame was
  computed moves ``delay`` up by whole decoder hops (counted in ``late``); a silent frame
  while only silence lies ahead of what is fixed brings ``delay`` back to the shortest that
  fits (counted in ``recovered``), so a stall costs latency only until the next pause.
  Between knots the controls are linear in time, which upsamples any feature hop to the
  decoder frame rate (and per sample for the oscillator's f0); after the last knot pitch
  holds and loudness fades like an unvoiced frame, and before the first it rises from
  ``floor_db`` over one feature hop.
* :class:`TransferVoice` renders one voice from the track: the loaded
  :class:`~kelly_actors.synth.neural.NeuralTimbre` through its own one-slot
  :class:`~kelly_actors.synth.neural.NeuralBank` (fresh GRU state), or — with no timbre — the
  preset's harmonic spectrum at the input's pitch and level (amplitude ``√2·10^(dB/20)``, the
  peak of a sine of that RMS).

Latency: a frame's sound starts at the first output sample its knot shapes, one knot before
it plus one (``K_prev + 1``); the voice reports ``(K_prev + 1 − s) / sample_rate`` when the
block holding that sample is rendered. It includes the half window, so it is the time from the
start of the analysed input to the first output it shapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kelly_actors.synth import ddsp
from kelly_actors.synth.neural import NeuralBank, NeuralTimbre
from kelly_actors.synth.noise import hash_uniform, voice_key
from kelly_actors.synth.presets import TimbrePreset

__all__ = ["ControlTrack", "FrameMapper", "TransferParams", "TransferVoice"]

_SLOT = np.array([0])
# The transfer voice's noise stream: channel 255 is no MIDI channel, so no note shares it.
_STREAM_CHANNEL = 255


@dataclass(frozen=True)
class TransferParams:
    """Settings of the transfer path.

    Attributes:
        sample_rate: Hz of input and output.
        frame_size: samples of the features actor's analysis window.
        feature_hop: samples between feature frames.
        decoder_hop: samples per decoder frame (the model card's ``hop``).
        min_confidence: f0 confidence (0…1) below which a frame counts as unvoiced.
        fade_db: dB the loudness falls per feature frame while unvoiced (or starved).
        floor_db: dBFS of silence for the decoder.
        idle_f0_hz: Hz held before the first voiced frame.
        slack: samples kept between what the synth has rendered and the first knot, so a frame
            a little later than the first one still lands in time.
    """

    sample_rate: int = 48_000
    frame_size: int = 2048
    feature_hop: int = 512
    decoder_hop: int = 512
    min_confidence: float = 0.5
    fade_db: float = 6.0
    floor_db: float = -90.0
    idle_f0_hz: float = 220.0
    slack: int = 256

    def __post_init__(self) -> None:
        if min(self.sample_rate, self.frame_size, self.feature_hop, self.decoder_hop) <= 0:
            raise ValueError("sample_rate, frame_size and both hops must be positive")
        if self.fade_db <= 0 or self.slack < 0 or self.idle_f0_hz <= 0:
            raise ValueError("fade_db and idle_f0_hz must be positive and slack non-negative")


class FrameMapper:
    """Feature frame → decoder conditioning, with the held pitch and faded loudness as state."""

    def __init__(self, params: TransferParams) -> None:
        self.params = params
        self.pitch = params.idle_f0_hz
        self.loudness = params.floor_db

    def map(self, f0_hz: float, confidence: float, loudness_db: float) -> tuple[float, float, bool]:
        """One frame: ``(f0_hz Hz, loudness_db dBFS, voiced)`` for the decoder."""
        p = self.params
        loud = loudness_db if math.isfinite(loudness_db) else p.floor_db
        loud = min(0.0, max(p.floor_db, loud))
        voiced = math.isfinite(f0_hz) and f0_hz > 0.0 and confidence >= p.min_confidence
        if voiced:
            self.pitch = float(f0_hz)
        else:
            loud = max(p.floor_db, min(loud, self.loudness - p.fade_db))
        self.loudness = loud
        return self.pitch, loud, voiced


class ControlTrack:
    """Mapped frames as knots on the output timeline (see the module docstring)."""

    def __init__(self, params: TransferParams) -> None:
        self.params = params
        self.delay: int | None = None  # samples from a window's centre to its knot
        self.times: list[int] = []
        self.pitch: list[float] = []
        self.loud: list[float] = []
        self._input: list[int] = []  # input sample time of each knot's frame (-1: virtual)
        self._observed = 0  # knots whose start was already reported
        self.frames = 0
        self.late = 0
        self.dropped = 0
        self.recovered = 0
        self.latency: int | None = None  # samples, last observed

    def add(self, input_time: int, f0_hz: float, loudness_db: float, committed: int) -> int | None:
        """Place a frame whose window starts at ``input_time``; the synth has decoded (and so
        fixed) the controls up to sample ``committed``. Returns the knot time (samples), or
        None for a frame older than the last knot (dropped)."""
        p = self.params
        centre = int(input_time) + p.frame_size // 2
        hop = p.decoder_hop
        first = max(committed + p.slack + 1, centre + 1)
        shortest = -(-first // hop) * hop - centre
        if self.delay is None:
            self.delay = shortest
        elif shortest < self.delay and loudness_db <= p.floor_db and self._silent_after(committed):
            # Silence ahead of what is fixed: drop it and come back to the shortest delay.
            keep = next(i for i, t in enumerate(self.times) if t > committed)
            for arr in (self.times, self.pitch, self.loud, self._input):
                del arr[keep:]
            self._observed = min(self._observed, keep)
            self.delay = shortest
            self.recovered += 1
        knot = centre + self.delay
        if knot <= committed:
            bump = -(-(committed + 1 - knot) // hop) * hop
            self.delay += bump
            knot += bump
            self.late += 1
        if self.times and knot <= self.times[-1]:
            self.dropped += 1
            return None
        if not self.times:
            self._append(knot - p.feature_hop, f0_hz, p.floor_db, -1)
        self._append(knot, f0_hz, loudness_db, int(input_time))
        self.frames += 1
        return knot

    def _silent_after(self, committed: int) -> bool:
        """Every knot after ``committed`` is at the floor (and there is at least one)."""
        floor = self.params.floor_db
        ahead = [loud for t, loud in zip(self.times, self.loud, strict=True) if t > committed]
        return bool(ahead) and all(loud <= floor for loud in ahead)

    def _append(self, t: int, f0: float, loud: float, input_time: int) -> None:
        self.times.append(int(t))
        self.pitch.append(float(f0))
        self.loud.append(float(loud))
        self._input.append(input_time)

    def pitch_at(self, times: np.ndarray) -> np.ndarray:
        """Hz at absolute sample ``times`` (float array): linear between knots, held outside."""
        if not self.times:
            return np.full(np.shape(times), self.params.idle_f0_hz)
        return np.interp(times, self.times, self.pitch)

    def loudness_at(self, times: np.ndarray) -> np.ndarray:
        """dBFS at absolute sample ``times``: linear between knots, ``floor_db`` before the
        first, fading by ``fade_db`` per feature hop after the last."""
        p = self.params
        times = np.asarray(times, np.float64)
        if not self.times:
            return np.full(times.shape, p.floor_db)
        loud = np.interp(times, self.times, self.loud, left=p.floor_db)
        after = times - self.times[-1]
        if np.any(after > 0):
            faded = self.loud[-1] - p.fade_db * after / p.feature_hop
            loud = np.where(after > 0, np.maximum(p.floor_db, faded), loud)
        return loud

    def observe(self, t: int, n: int) -> None:
        """Samples ``[t, t + n)`` were written: report the frames whose sound starts there."""
        for i in range(max(self._observed, 1), len(self.times)):
            start = self.times[i - 1] + 1
            if start >= t + n:
                break
            if self._input[i] >= 0:
                self.latency = max(start, t) - self._input[i]
            self._observed = i + 1

    def prune(self, before: int) -> None:
        """Forget knots no longer needed for samples at or after ``before``."""
        k = 0
        while k + 2 < len(self.times) and self.times[k + 1] < before and k + 1 < self._observed:
            k += 1
        if k:
            for arr in (self.times, self.pitch, self.loud, self._input):
                del arr[:k]
            self._observed -= k


class TransferVoice:
    """One voice rendered from the live input's controls (module docstring).

    Args:
        params: :class:`TransferParams`.
        timbre: a loaded neural timbre, or None for the preset fallback.
        preset: the spectrum of the fallback voice.
        seed: seed of the decoder's noise (a hash of the seed and the absolute sample time,
            :mod:`kelly_actors.synth.noise`, so it does not depend on how blocks are cut).
    """

    def __init__(
        self,
        params: TransferParams,
        timbre: NeuralTimbre | None,
        preset: TimbrePreset,
        seed: int = 0,
    ) -> None:
        self.params = params
        self.mapper = FrameMapper(params)
        self.track = ControlTrack(params)
        self.preset = preset
        self.emotion = (0.0, 0.5, 0.5)
        self._noise_key = np.array([voice_key(seed, 0, _STREAM_CHANNEL, 0)], np.uint64)
        self._phase = np.zeros(1)
        self._ramp = np.arange(0, dtype=np.float64)
        self.voiced = False
        self.set_timbre(timbre)

    @property
    def timbre(self) -> NeuralTimbre | None:
        return self.bank.timbre if self.bank is not None else None

    @property
    def broken(self) -> str | None:
        """Why the decoder failed (None while it works or with no timbre)."""
        return self.bank.broken if self.bank is not None else None

    def set_timbre(self, timbre: NeuralTimbre | None) -> None:
        """Use ``timbre`` (None: the preset fallback) from the next rendered sample; a new
        decoder starts with fresh state and rises from silence over one decoder frame."""
        if timbre is not None and timbre.runtime.sample_rate != self.params.sample_rate:
            raise ValueError(f"timbre {timbre.name} is for {timbre.runtime.sample_rate} Hz")
        self.bank = NeuralBank(timbre, 1, self.params.sample_rate) if timbre else None
        self._started = False

    def set_emotion(self, valence: float, arousal: float) -> None:
        """Valence and arousal for the decoder (dominance stays 0.5, as for MIDI voices)."""
        self.emotion = (float(valence), float(arousal), 0.5)
        if self.bank is not None:
            self.bank.emotion = self.emotion

    def committed(self, render_pos: int) -> int:
        """Last sample whose controls are fixed: the render position, or the decoder frame
        already computed ahead of it."""
        if self.bank is not None and self._started:
            return max(render_pos, int(self.bank.t_next[0]))
        return render_pos

    def push(self, input_time: int, f0_hz: float, confidence: float, loudness_db: float,
             render_pos: int) -> int | None:  # fmt: skip
        """One feature frame (window starting at ``input_time``) while the synth's next
        sample is ``render_pos``; returns its knot time (None: dropped)."""
        f0, loud, self.voiced = self.mapper.map(f0_hz, confidence, loudness_db)
        return self.track.add(input_time, f0, loud, self.committed(render_pos))

    def _loudness(self, slots: np.ndarray, t: int) -> np.ndarray:
        return self.track.loudness_at(np.array([float(t)]))

    def _f0(self, slots: np.ndarray, t: int) -> np.ndarray:
        return self.track.pitch_at(np.array([float(t)]))

    def render(self, t: int, n: int) -> np.ndarray:
        """Samples ``[t, t + n)`` of the voice, mono float64 ``(n,)``."""
        if self._ramp.size < n:
            self._ramp = np.arange(n, dtype=np.float64)
        times = self._ramp[:n] + t
        f0 = self.track.pitch_at(times)[None, :]
        hop = self.params.decoder_hop
        ahead = float(self.track.pitch_at(np.array([float(t + n + hop)]))[0])
        ceiling = np.array([max(float(f0.max()), ahead)])
        if self.bank is not None:
            if not self._started:
                grid = (t // hop + 1) * hop
                self.bank.emotion = self.emotion
                self.bank.start(
                    0, t, float(self._f0(_SLOT, grid)[0]), float(self._loudness(_SLOT, grid)[0]),
                    float(ceiling[0]),
                )  # fmt: skip
                self._started = True
            white = hash_uniform(self._noise_key, t, np.empty((1, n)), np.empty((1, n), np.uint64))
            audio, self._phase = self.bank.render(
                _SLOT, t, f0, white, self._phase, ceiling, self._loudness, self._f0
            )
            out = audio[0]
        else:
            amp = np.sqrt(2.0) * 10.0 ** (self.track.loudness_at(times) / 20.0)
            audio, self._phase = ddsp.harmonic_synthesis(
                f0, amp[None, :], self.preset.harmonic_distribution[None, :],
                self.params.sample_rate, self._phase, ceiling,
            )  # fmt: skip
            out = audio[0]
        self.track.observe(t, n)
        self.track.prune(t - 2 * max(hop, self.params.feature_hop))
        return out
