"""Torch twin of :mod:`kelly_actors.synth.ddsp` (and the emotion modulations).

Same function names, argument order, shapes and units as the numpy real-time functions, but
differentiable, for training a neural DDSP decoder whose outputs will drive the numpy
functions at run time. ``tests/synth/test_synth_torch_parity.py`` checks that each function
gives the numpy result within 1e-4.

Conventions: time is the last axis of signals and per-sample controls, harmonic / band axes
come after time (``(..., n, K)``); Hz, radians, linear amplitudes. Use float64 tensors for
parity checks; float32 works for training.
"""

from __future__ import annotations

import math

import torch

TWO_PI = 2.0 * math.pi
TILT_DB_PER_OCTAVE = 6.0
GAIN_RANGE_DB = 6.0
NOISE_LEVEL_MIN = 0.25
NOISE_LEVEL_MAX = 1.75

__all__ = [
    "dominance_gain",
    "fft_convolve_stream",
    "filtered_noise",
    "frequency_impulse_response",
    "harmonic_frequencies",
    "harmonic_mask",
    "harmonic_synthesis",
    "harmonic_tilt",
    "midi_to_hz",
    "noise_level",
    "normalize_harmonics",
    "oscillator_bank",
    "remove_above_nyquist",
    "upsample_linear",
]


def _t(x, like: torch.Tensor | None = None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    dtype = like.dtype if like is not None else torch.float64
    return torch.as_tensor(x, dtype=dtype)


def midi_to_hz(notes, a4_hz: float = 440.0) -> torch.Tensor:
    """MIDI note number(s) → Hz (A4 = 69)."""
    return a4_hz * torch.pow(2.0, (_t(notes) - 69.0) / 12.0)


def harmonic_frequencies(f0_hz: torch.Tensor, n_harmonics: int) -> torch.Tensor:
    """``(...)`` Hz → ``(..., K)``: ``f0 · k`` for k = 1..K."""
    f0 = _t(f0_hz)
    k = torch.arange(1, n_harmonics + 1, dtype=f0.dtype, device=f0.device)
    return f0[..., None] * k


def remove_above_nyquist(
    frequency_envelopes: torch.Tensor, amplitude_envelopes: torch.Tensor, sample_rate: float
) -> torch.Tensor:
    """Amplitudes with components at or above Nyquist set to 0."""
    amps = _t(amplitude_envelopes)
    return torch.where(_t(frequency_envelopes) >= sample_rate / 2.0, torch.zeros_like(amps), amps)


def harmonic_mask(f0_hz, n_harmonics: int, sample_rate: float) -> torch.Tensor:
    """``(..., K)``: 1 where ``k · f0 < sample_rate / 2``, else 0."""
    freqs = harmonic_frequencies(_t(f0_hz), n_harmonics)
    return (freqs < sample_rate / 2.0).to(freqs.dtype)


def normalize_harmonics(
    harmonic_distribution: torch.Tensor, f0_hz, sample_rate: float
) -> torch.Tensor:
    """Mask harmonics at or above Nyquist, then normalise to sum 1 over K."""
    dist = _t(harmonic_distribution)
    dist = dist * harmonic_mask(_t(f0_hz, dist), dist.shape[-1], sample_rate)
    total = dist.sum(dim=-1, keepdim=True)
    safe = torch.where(total > 0.0, total, torch.ones_like(total))
    return torch.where(total > 0.0, dist / safe, torch.zeros_like(dist))


def upsample_linear(frames: torch.Tensor, n_samples: int, previous) -> torch.Tensor:
    """``(..., n_frames)`` control frames → ``(..., n_samples)``, continuous across blocks
    (see :func:`kelly_actors.synth.ddsp.upsample_linear`)."""
    frames = _t(frames)
    n_frames = frames.shape[-1]
    prev = torch.broadcast_to(_t(previous, frames), frames.shape[:-1])
    points = torch.cat([prev[..., None], frames], dim=-1)
    pos = torch.arange(1, n_samples + 1, dtype=frames.dtype) * (n_frames / n_samples)
    i0 = torch.clamp(torch.floor(pos).long(), max=n_frames - 1)
    frac = pos - i0.to(frames.dtype)
    return points[..., i0] * (1.0 - frac) + points[..., i0 + 1] * frac


def oscillator_bank(
    frequency_envelopes: torch.Tensor,
    amplitude_envelopes: torch.Tensor,
    sample_rate: float,
    initial_phases=0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(..., n, K)`` Hz and amplitudes → ``(audio (..., n), final_phases (..., K))``."""
    freqs = _t(frequency_envelopes)
    amps = remove_above_nyquist(freqs, amplitude_envelopes, sample_rate)
    phases = torch.cumsum(freqs * (TWO_PI / sample_rate), dim=-2)
    phases = phases + _t(initial_phases, freqs)[..., None, :]
    audio = torch.sum(amps * torch.sin(phases), dim=-1)
    return audio, torch.remainder(phases[..., -1, :], TWO_PI)


def harmonic_synthesis(
    f0_hz: torch.Tensor,
    amplitude: torch.Tensor,
    harmonic_distribution: torch.Tensor,
    sample_rate: float,
    initial_phase=0.0,
    f0_ceiling_hz=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Harmonic oscillator bank, phase carried across blocks.

    Args and returns as :func:`kelly_actors.synth.ddsp.harmonic_synthesis`: ``f0_hz`` and
    ``amplitude`` ``(..., n)``, ``harmonic_distribution`` ``(..., K)`` or ``(..., n, K)``;
    returns ``audio (..., n)`` and ``final_phase (...)``. Computed directly as
    ``Σ_k d_k sin(k φ)`` (the numpy version uses Clenshaw's recurrence).
    """
    f0 = _t(f0_hz)
    dist = _t(harmonic_distribution, f0)
    n_harm = dist.shape[-1]
    ceiling = f0.amax(dim=-1) if f0_ceiling_hz is None else _t(f0_ceiling_hz, f0)
    mask = harmonic_mask(ceiling, n_harm, sample_rate)
    per_sample = dist.dim() == f0.dim() + 1 and dist.shape[-2] == f0.shape[-1]
    dist = dist * (mask[..., None, :] if per_sample else mask)
    phase = torch.cumsum(f0 * (TWO_PI / sample_rate), dim=-1) + _t(initial_phase, f0)[..., None]
    k = torch.arange(1, n_harm + 1, dtype=f0.dtype, device=f0.device)
    sines = torch.sin(phase[..., None] * k)
    series = (sines * (dist if per_sample else dist[..., None, :])).sum(dim=-1)
    audio = _t(amplitude, f0) * series
    return audio, torch.remainder(phase[..., -1], TWO_PI)


def frequency_impulse_response(magnitudes: torch.Tensor) -> torch.Tensor:
    """``(..., n_bands)`` linear gains (0 Hz…Nyquist) → causal linear-phase FIR
    ``(..., 2 · (n_bands − 1))``, Hann-windowed (DDSP frequency sampling)."""
    mags = _t(magnitudes)
    ir_size = 2 * (mags.shape[-1] - 1)
    ir = torch.fft.irfft(torch.complex(mags, torch.zeros_like(mags)), n=ir_size, dim=-1)
    n = torch.arange(ir_size, dtype=mags.dtype, device=mags.device)
    window = 0.5 - 0.5 * torch.cos(TWO_PI * n / ir_size)
    return torch.fft.fftshift(ir, dim=-1) * window


def fft_convolve_stream(
    audio: torch.Tensor, impulse_response: torch.Tensor, tail: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Streaming FFT convolution with overlap-add: ``(out (..., n), new_tail (..., L − 1))``."""
    x = _t(audio)
    h = _t(impulse_response, x)
    n = x.shape[-1]
    n_tail = h.shape[-1] - 1
    n_fft = 1 << max(0, int(n + n_tail - 1).bit_length())
    spec = torch.fft.rfft(x, n=n_fft, dim=-1) * torch.fft.rfft(h, n=n_fft, dim=-1)
    full = torch.fft.irfft(spec, n=n_fft, dim=-1)[..., : n + n_tail]
    head = full[..., :n_tail] + _t(tail, x)
    full = torch.cat([head, full[..., n_tail:]], dim=-1)
    return full[..., :n], full[..., n:]


def filtered_noise(
    white: torch.Tensor, magnitudes: torch.Tensor, tail: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """White noise ``(..., n)`` filtered by band gains ``(..., n_bands)``, streaming."""
    return fft_convolve_stream(white, frequency_impulse_response(magnitudes), tail)


def noise_level(arousal) -> torch.Tensor:
    """arousal 0…1 → noise gain multiplier 0.25…1.75."""
    a = torch.clamp(_t(arousal), 0.0, 1.0)
    return NOISE_LEVEL_MIN + (NOISE_LEVEL_MAX - NOISE_LEVEL_MIN) * a


def harmonic_tilt(harmonic_distribution: torch.Tensor, valence) -> torch.Tensor:
    """Tilt ``(..., K)`` by ``6 dB/octave · valence``, keeping the sum over K."""
    dist = _t(harmonic_distribution)
    v = torch.clamp(_t(valence, dist), -1.0, 1.0)
    k = torch.arange(1, dist.shape[-1] + 1, dtype=dist.dtype, device=dist.device)
    gains = torch.pow(10.0, TILT_DB_PER_OCTAVE * v[..., None] * torch.log2(k) / 20.0)
    tilted = dist * gains
    before = dist.sum(dim=-1, keepdim=True)
    after = tilted.sum(dim=-1, keepdim=True)
    safe = torch.where(after > 0.0, after, torch.ones_like(after))
    return torch.where(after > 0.0, tilted * before / safe, torch.zeros_like(tilted))


def dominance_gain(dominance) -> torch.Tensor:
    """dominance 0…1 → linear gain −6 dB…+6 dB."""
    d = torch.clamp(_t(dominance), 0.0, 1.0)
    return torch.pow(10.0, (2.0 * d - 1.0) * GAIN_RANGE_DB / 20.0)
