"""DDSP synthesis primitives as pure numpy functions (real-time path).

These functions mirror magenta/ddsp ``ddsp/core.py`` but are written for streaming: every
stateful quantity (oscillator phase, convolution tail) is passed in and returned, so that
rendering a signal in blocks of any size gives the same samples as rendering it in one go.
They are called today by the additive voice engine (:mod:`kelly_actors.synth.voices`) with
parameters from a timbre preset, and later by a neural DDSP decoder with the same layout.
``training/ddsp_torch.py`` holds a torch twin of each function (same names, same layout).

Conventions (all functions):

* Time is the **last** axis of signals and per-sample controls; any leading axes are batch
  axes (voices). Harmonic / band axes come after time where both exist: ``(..., n, K)``.
* Frequencies are in Hz, phases in radians, amplitudes are linear (not dB).
* Computation is in float64; outputs are float64 (the caller casts once at the end).
"""

from __future__ import annotations

import numpy as np

TWO_PI = 2.0 * np.pi

__all__ = [
    "fft_convolve_stream",
    "filtered_noise",
    "frequency_impulse_response",
    "harmonic_frequencies",
    "harmonic_mask",
    "harmonic_series",
    "harmonic_synthesis",
    "midi_to_hz",
    "normalize_harmonics",
    "oscillator_bank",
    "remove_above_nyquist",
    "upsample_linear",
]


def midi_to_hz(notes: np.ndarray | float, a4_hz: float = 440.0) -> np.ndarray:
    """MIDI note number(s) (float, fractional allowed) → frequency in Hz (A4 = 69)."""
    return a4_hz * np.power(2.0, (np.asarray(notes, dtype=np.float64) - 69.0) / 12.0)


def harmonic_frequencies(f0_hz: np.ndarray, n_harmonics: int) -> np.ndarray:
    """Frequencies of harmonics 1..K of ``f0_hz``.

    Args:
        f0_hz: float, shape ``(...)``, fundamental frequency in Hz.
        n_harmonics: K.

    Returns:
        float64, shape ``(..., K)``: ``f0_hz * k`` for k = 1..K.
    """
    k = np.arange(1, n_harmonics + 1, dtype=np.float64)
    return np.asarray(f0_hz, dtype=np.float64)[..., None] * k


def remove_above_nyquist(
    frequency_envelopes: np.ndarray, amplitude_envelopes: np.ndarray, sample_rate: float
) -> np.ndarray:
    """Zero the amplitude of every component at or above Nyquist (DDSP ``remove_above_nyquist``).

    Args:
        frequency_envelopes: float, any shape, Hz.
        amplitude_envelopes: float, same shape (or broadcastable), linear amplitude.
        sample_rate: Hz.

    Returns:
        float64 amplitudes with ``amplitude = 0`` where ``frequency >= sample_rate / 2``.
    """
    freqs = np.asarray(frequency_envelopes, dtype=np.float64)
    amps = np.asarray(amplitude_envelopes, dtype=np.float64)
    return np.where(freqs >= sample_rate / 2.0, 0.0, amps)


def harmonic_mask(f0_hz: np.ndarray | float, n_harmonics: int, sample_rate: float) -> np.ndarray:
    """Anti-alias mask: 1.0 for harmonic k when ``k * f0 < sample_rate / 2``, else 0.0.

    Args:
        f0_hz: float, shape ``(...)``: the *highest* fundamental the harmonics will reach.
        n_harmonics: K.
        sample_rate: Hz.

    Returns:
        float64, shape ``(..., K)``.
    """
    freqs = harmonic_frequencies(np.asarray(f0_hz, dtype=np.float64), n_harmonics)
    return (freqs < sample_rate / 2.0).astype(np.float64)


def normalize_harmonics(
    harmonic_distribution: np.ndarray, f0_hz: np.ndarray | float, sample_rate: float
) -> np.ndarray:
    """Mask harmonics at or above Nyquist, then normalise the distribution to sum to 1.

    Same as DDSP ``normalize_harmonics``.

    Args:
        harmonic_distribution: float, shape ``(..., K)``, non-negative relative amplitudes.
        f0_hz: float, shape broadcastable to ``(...)``, Hz.
        sample_rate: Hz.

    Returns:
        float64, shape ``(..., K)``; rows that are all zero after masking stay zero.
    """
    dist = np.asarray(harmonic_distribution, dtype=np.float64)
    dist = dist * harmonic_mask(f0_hz, dist.shape[-1], sample_rate)
    total = dist.sum(axis=-1, keepdims=True)
    return np.divide(dist, total, out=np.zeros_like(dist), where=total > 0.0)


def upsample_linear(frames: np.ndarray, n_samples: int, previous: np.ndarray | float) -> np.ndarray:
    """Upsample control frames to audio rate by linear interpolation, continuous across blocks.

    The block of ``n_samples`` samples is split into ``n_frames`` equal spans; frame ``i``
    is the value reached at the end of span ``i`` and ``previous`` (the last frame of the
    previous block) is the value just before the block. So the last output sample equals
    ``frames[..., -1]`` exactly and consecutive blocks join without a step.

    Args:
        frames: float, shape ``(..., n_frames)``: control values (e.g. amplitude envelope).
        n_samples: number of output samples, ``>= 1``.
        previous: float, shape ``(...)`` or scalar: control value before this block.

    Returns:
        float64, shape ``(..., n_samples)``.
    """
    frames = np.asarray(frames, dtype=np.float64)
    n_frames = frames.shape[-1]
    prev = np.broadcast_to(np.asarray(previous, dtype=np.float64), frames.shape[:-1])
    points = np.concatenate([prev[..., None], frames], axis=-1)
    pos = np.arange(1, n_samples + 1, dtype=np.float64) * (n_frames / n_samples)
    i0 = np.minimum(np.floor(pos).astype(np.int64), n_frames - 1)
    frac = pos - i0
    return points[..., i0] * (1.0 - frac) + points[..., i0 + 1] * frac


def oscillator_bank(
    frequency_envelopes: np.ndarray,
    amplitude_envelopes: np.ndarray,
    sample_rate: float,
    initial_phases: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Sum of sinusoids with per-sample frequency and amplitude (DDSP ``oscillator_bank``).

    The phase of sinusoid k after sample i is
    ``initial_phases[k] + 2π · Σ_{j<=i} f[j, k] / sample_rate``; sinusoids at or above
    Nyquist are silenced sample by sample.

    Args:
        frequency_envelopes: float, shape ``(..., n, K)``, Hz.
        amplitude_envelopes: float, shape ``(..., n, K)``, linear amplitude.
        sample_rate: Hz.
        initial_phases: float, shape ``(..., K)`` or scalar, radians: phases before sample 0
            (the ``final_phases`` of the previous block).

    Returns:
        ``(audio, final_phases)``: float64 ``(..., n)`` and float64 ``(..., K)`` in ``[0, 2π)``.
    """
    freqs = np.asarray(frequency_envelopes, dtype=np.float64)
    amps = remove_above_nyquist(freqs, amplitude_envelopes, sample_rate)
    phases = np.cumsum(freqs * (TWO_PI / sample_rate), axis=-2)
    phases += np.asarray(initial_phases, dtype=np.float64)[..., None, :]
    audio = np.sum(amps * np.sin(phases), axis=-1)
    return audio, np.mod(phases[..., -1, :], TWO_PI)


def _sine_series(cos_phi: np.ndarray, sin_phi: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """Σ_k coeffs[..., k-1] · sin(k φ) by Clenshaw's recurrence (stable, no per-harmonic sin).

    ``cos_phi``/``sin_phi``: shape ``(..., n)``; ``coeffs``: ``(..., K)`` or ``(..., n, K)``.
    """
    two_c = 2.0 * cos_phi
    b1 = np.zeros_like(cos_phi)
    b2 = np.zeros_like(cos_phi)
    tmp = np.empty_like(cos_phi)
    per_sample = coeffs.ndim == cos_phi.ndim + 1 and coeffs.shape[-2] == cos_phi.shape[-1]
    for k in range(coeffs.shape[-1] - 1, -1, -1):
        np.multiply(two_c, b1, out=tmp)
        tmp -= b2
        tmp += coeffs[..., k] if per_sample else coeffs[..., k : k + 1]
        b2, b1, tmp = b1, tmp, b2
    return b1 * sin_phi


def harmonic_synthesis(
    f0_hz: np.ndarray,
    amplitude: np.ndarray,
    harmonic_distribution: np.ndarray,
    sample_rate: float,
    initial_phase: np.ndarray | float = 0.0,
    f0_ceiling_hz: np.ndarray | float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Harmonic oscillator bank with phase carried across blocks (DDSP ``harmonic_synthesis``).

    The fundamental phase is accumulated sample by sample,
    ``φ[i] = initial_phase + 2π Σ_{j<=i} f0[j] / sample_rate``, and harmonic k has phase
    ``k·φ`` (as in DDSP with zero initial harmonic phases). The output is
    ``amplitude[i] · Σ_k d[k] · mask[k] · sin(k φ[i])``.

    Anti-aliasing: harmonic k is silenced for the whole call when ``k · f0_ceiling_hz`` is at
    or above Nyquist. ``f0_ceiling_hz`` defaults to the highest f0 in the call; a caller that
    wants the mask independent of how the signal is cut into blocks passes the highest f0 the
    note can reach (e.g. base pitch + bend range + vibrato depth).

    Args:
        f0_hz: float, shape ``(..., n)``, instantaneous fundamental frequency, Hz.
        amplitude: float, shape ``(..., n)``, linear overall amplitude per sample.
        harmonic_distribution: float, shape ``(..., K)`` (constant over the block) or
            ``(..., n, K)`` (per sample): relative amplitude of harmonics 1..K.
        sample_rate: Hz.
        initial_phase: float, shape ``(...)`` or scalar, radians: fundamental phase before
            sample 0 (the ``final_phase`` of the previous block).
        f0_ceiling_hz: float, shape ``(...)`` or scalar, Hz, or None (see above).

    Returns:
        ``(audio, final_phase)``: float64 ``(..., n)`` and float64 ``(...)`` in ``[0, 2π)``.
    """
    f0 = np.asarray(f0_hz, dtype=np.float64)
    ceiling = f0.max(axis=-1) if f0_ceiling_hz is None else np.asarray(f0_ceiling_hz, np.float64)
    phase = np.cumsum(f0 * (TWO_PI / sample_rate), axis=-1)
    phase += np.asarray(initial_phase, dtype=np.float64)[..., None]
    audio = harmonic_series(phase, amplitude, harmonic_distribution, sample_rate, ceiling)
    return audio, np.mod(phase[..., -1], TWO_PI)


def harmonic_series(
    phase: np.ndarray,
    amplitude: np.ndarray | float,
    harmonic_distribution: np.ndarray,
    sample_rate: float,
    f0_ceiling_hz: np.ndarray | float,
) -> np.ndarray:
    """``amplitude[i] · Σ_k d[k] · mask[k] · sin(k φ[i])`` for a given fundamental phase.

    The second half of :func:`harmonic_synthesis`, for callers that compute the phase
    themselves (the voice engine derives it from an exact integer phase accumulator, so it
    does not depend on how the signal is cut into blocks). Each output sample depends only on
    its own ``φ[i]``, ``amplitude[i]`` and the coefficients.

    Args:
        phase: float, shape ``(..., n)``, fundamental phase in radians.
        amplitude: float, shape ``(..., n)`` (or broadcastable), linear.
        harmonic_distribution: float, ``(..., K)`` or ``(..., n, K)``: harmonics 1..K.
        sample_rate: Hz.
        f0_ceiling_hz: float, shape ``(...)`` or scalar: the highest f0 the harmonics reach;
            harmonic k is silenced when ``k · f0_ceiling_hz`` is at or above Nyquist.

    Returns:
        float64 ``(..., n)``.
    """
    phase = np.asarray(phase, dtype=np.float64)
    dist = np.asarray(harmonic_distribution, dtype=np.float64)
    mask = harmonic_mask(np.asarray(f0_ceiling_hz, np.float64), dist.shape[-1], sample_rate)
    if dist.ndim == phase.ndim + 1 and dist.shape[-2] == phase.shape[-1]:
        dist = dist * mask[..., None, :]
    else:
        dist = dist * mask
    series = _sine_series(np.cos(phase), np.sin(phase), dist)
    return np.asarray(amplitude, dtype=np.float64) * series


def frequency_impulse_response(magnitudes: np.ndarray) -> np.ndarray:
    """Linear-phase FIR from a frequency response, by frequency sampling (DDSP).

    ``irfft`` of the (real, zero-phase) magnitudes, windowed by a periodic Hann window in
    zero-phase form and shifted to be causal: DDSP ``frequency_impulse_response`` with
    ``window_size = ir_size``. The filter delays by ``ir_size // 2`` samples.

    Args:
        magnitudes: float, shape ``(..., n_bands)``: linear gains of ``n_bands`` bands spaced
            uniformly from 0 Hz to Nyquist inclusive.

    Returns:
        float64, shape ``(..., 2 * (n_bands - 1))``: the impulse response.
    """
    mags = np.asarray(magnitudes, dtype=np.float64)
    ir_size = 2 * (mags.shape[-1] - 1)
    ir = np.fft.irfft(mags.astype(np.complex128), n=ir_size, axis=-1)
    window = 0.5 - 0.5 * np.cos(TWO_PI * np.arange(ir_size) / ir_size)
    return np.fft.fftshift(ir, axes=-1) * window


def _next_pow2(n: int) -> int:
    return 1 << max(0, int(n - 1).bit_length())


def fft_convolve_stream(
    audio: np.ndarray, impulse_response: np.ndarray, tail: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Streaming linear convolution by FFT with overlap-add (DDSP ``fft_convolve``, streaming).

    Convolves this block with the impulse response, adds the tail left by earlier blocks and
    returns the part that is complete. For a constant impulse response, the concatenated
    outputs of any block partition equal the full convolution of the whole signal
    (truncated to its length); when the response changes between blocks each block is filtered
    by its own response and the tails overlap-add, so the output stays continuous.

    Args:
        audio: float, shape ``(..., n)``: input block.
        impulse_response: float, shape ``(..., L)``.
        tail: float, shape ``(..., L - 1)``: the ``new_tail`` of the previous call (zeros at
            the start of a stream).

    Returns:
        ``(out, new_tail)``: float64 ``(..., n)`` and float64 ``(..., L - 1)``.
    """
    x = np.asarray(audio, dtype=np.float64)
    h = np.asarray(impulse_response, dtype=np.float64)
    n = x.shape[-1]
    n_tail = h.shape[-1] - 1
    n_fft = _next_pow2(n + n_tail)
    spec = np.fft.rfft(x, n=n_fft, axis=-1) * np.fft.rfft(h, n=n_fft, axis=-1)
    full = np.fft.irfft(spec, n=n_fft, axis=-1)[..., : n + n_tail]
    full[..., :n_tail] += tail
    return full[..., :n], full[..., n:].copy()


def filtered_noise(
    white: np.ndarray, magnitudes: np.ndarray, tail: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Filtered noise by frequency sampling (DDSP ``FilteredNoise``), streaming.

    Args:
        white: float, shape ``(..., n)``: white noise block (e.g. uniform in [-1, 1)).
        magnitudes: float, shape ``(..., n_bands)``: linear band gains, 0 Hz … Nyquist.
        tail: float, shape ``(..., 2 * (n_bands - 1) - 1)``: convolution state.

    Returns:
        ``(noise, new_tail)`` as :func:`fft_convolve_stream`.
    """
    return fft_convolve_stream(white, frequency_impulse_response(magnitudes), tail)
