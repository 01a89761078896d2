"""The neural DDSP decoder (torch) and its differentiable synthesizer.

Decoder, per frame (one frame per :data:`HOP` = 512 samples at 48 kHz):

    (f0_hz, loudness_db) → scaled to ~[0, 1] → MLP → GRU → [GRU out, scaled inputs] → MLP →
    amplitude (1), harmonic distribution (64), noise filter magnitudes (65)

as in DDSP's RNN-FC decoder (Engel et al. 2020), smaller. Outputs pass DDSP's
``exp_sigmoid`` (positive, bounded); the distribution is divided by its sum. Emotion
conditioning is the documented modulation of :mod:`kelly_actors.synth.emotion` applied on top
of the network (``emotion = (valence, arousal, dominance)``): valence tilts the harmonic
distribution (±6 dB/octave), arousal scales the noise magnitudes (0.25…1.75×), dominance the
amplitude (−6…+6 dB). At the neutral emotion (0, 0.5, 0.5) the modulation is the identity, so
training needs no emotion labels.

:meth:`DDSPDecoder.step` is the streaming form exported to ONNX (state in, state out);
:meth:`DDSPDecoder.forward` runs a whole sequence with the same weights.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from training import ddsp_torch as dt

SAMPLE_RATE = 48_000
HOP = 512
N_HARMONICS = 64
N_NOISE_BANDS = 65
LOUDNESS_FLOOR_DB = -90.0
NEUTRAL_EMOTION = (0.0, 0.5, 0.5)


@dataclass(frozen=True)
class ModelConfig:
    """Decoder sizes. ``hidden``: MLP width and GRU state size."""

    hidden: int = 96
    n_harmonics: int = N_HARMONICS
    n_noise_bands: int = N_NOISE_BANDS

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def scale_inputs(f0_hz: torch.Tensor, loudness_db: torch.Tensor) -> torch.Tensor:
    """``(..., 1)`` Hz and dBFS → ``(..., 2)``: MIDI pitch / 127 and loudness mapped from
    [−90, 0] dB to [0, 1] (clipped)."""
    midi = 69.0 + 12.0 * torch.log2(torch.clamp(f0_hz, min=20.0) / 440.0)
    loud = (
        torch.clamp(loudness_db, LOUDNESS_FLOOR_DB, 0.0) - LOUDNESS_FLOOR_DB
    ) / -LOUDNESS_FLOOR_DB
    return torch.cat([midi / 127.0, loud], dim=-1)


def exp_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """DDSP's positive, bounded non-linearity: ``2 · sigmoid(x)^ln 10 + 1e-7``."""
    return 2.0 * torch.sigmoid(x) ** math.log(10.0) + 1e-7


def _mlp(n_in: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, n_out), nn.LayerNorm(n_out), nn.LeakyReLU(0.1))


class DDSPDecoder(nn.Module):
    """GRU decoder from (f0, loudness) to harmonic-plus-noise controls."""

    def __init__(self, cfg: ModelConfig = ModelConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.pre = nn.Sequential(_mlp(2, h), _mlp(h, h))
        self.gru = nn.GRU(h, h, batch_first=True)
        self.post = nn.Sequential(_mlp(h + 2, h), _mlp(h, h))
        self.head = nn.Linear(h, 1 + cfg.n_harmonics + cfg.n_noise_bands)

    def _controls(
        self, core: torch.Tensor, x: torch.Tensor, emotion: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out = self.head(self.post(torch.cat([core, x], dim=-1)))
        k = self.cfg.n_harmonics
        amplitude = exp_sigmoid(out[..., :1])
        dist = exp_sigmoid(out[..., 1 : 1 + k])
        dist = dist / dist.sum(dim=-1, keepdim=True)
        noise = exp_sigmoid(out[..., 1 + k :] - 5.0)
        valence, arousal, dominance = emotion[..., 0], emotion[..., 1], emotion[..., 2]
        dist = dt.harmonic_tilt(dist, valence)
        noise = noise * dt.noise_level(arousal)[..., None]
        amplitude = amplitude * dt.dominance_gain(dominance)[..., None]
        return amplitude, dist, noise

    def forward(
        self,
        f0_hz: torch.Tensor,
        loudness_db: torch.Tensor,
        emotion: torch.Tensor | None = None,
        state: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """A sequence of frames.

        Args:
            f0_hz, loudness_db: float32 ``(B, T)``.
            emotion: float32 ``(B, 3)`` (valence, arousal, dominance); neutral when None.
            state: float32 ``(B, hidden)`` GRU state before the first frame; zeros when None.

        Returns:
            amplitude ``(B, T)``, harmonic distribution ``(B, T, K)`` (sums to 1),
            noise magnitudes ``(B, T, n_bands)``, final state ``(B, hidden)``.
        """
        b = f0_hz.shape[0]
        if emotion is None:
            emotion = f0_hz.new_tensor(NEUTRAL_EMOTION).expand(b, 3)
        x = scale_inputs(f0_hz[..., None], loudness_db[..., None])
        h0 = None if state is None else state[None]
        core, h_n = self.gru(self.pre(x), h0)
        amp, dist, noise = self._controls(core, x, emotion[:, None, :])
        return amp[..., 0], dist, noise, h_n[0]

    def step(
        self,
        f0_hz: torch.Tensor,
        loudness_db: torch.Tensor,
        emotion: torch.Tensor,
        state: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One frame for B voices (the exported streaming form).

        Args:
            f0_hz, loudness_db: float32 ``(B, 1)`` Hz and dBFS.
            emotion: float32 ``(B, 3)``: valence −1…1, arousal 0…1, dominance 0…1.
            state: float32 ``(B, hidden)``.

        Returns:
            amplitude ``(B, 1)``, distribution ``(B, K)``, noise ``(B, n_bands)``,
            new state ``(B, hidden)``.
        """
        x = scale_inputs(f0_hz, loudness_db)
        core, h_n = self.gru(self.pre(x)[:, None, :], state[None])
        amp, dist, noise = self._controls(core[:, 0], x, emotion)
        return amp, dist, noise, h_n[0]


class StreamingDecoder(nn.Module):
    """Wraps :meth:`DDSPDecoder.step` as ``forward`` for ONNX export."""

    def __init__(self, decoder: DDSPDecoder) -> None:
        super().__init__()
        self.decoder = decoder

    def forward(self, f0_hz, loudness_db, emotion, state):
        return self.decoder.step(f0_hz, loudness_db, emotion, state)


def frame_filtered_noise(
    white: torch.Tensor, magnitudes: torch.Tensor, hop: int = HOP
) -> torch.Tensor:
    """Noise filtered by a different FIR per frame, overlap-added (DDSP ``FilteredNoise``).

    Frame ``t`` filters samples ``[t·hop, (t+1)·hop)`` with the response of
    ``magnitudes[:, t]`` and its tail spills into the next frame — the same result as
    :func:`kelly_actors.synth.ddsp.fft_convolve_stream` called per frame with its tail.

    Args:
        white: ``(B, T·hop)`` white noise.
        magnitudes: ``(B, T, n_bands)`` linear gains 0 Hz…Nyquist.

    Returns:
        ``(B, T·hop)``.
    """
    b, t, _ = magnitudes.shape
    ir = dt.frequency_impulse_response(magnitudes)  # (B, T, L)
    n_tail = ir.shape[-1] - 1
    n_fft = 1 << (hop + n_tail - 1).bit_length()
    frames = white.reshape(b, t, hop)
    spec = torch.fft.rfft(frames, n=n_fft) * torch.fft.rfft(ir, n=n_fft)
    full = torch.fft.irfft(spec, n=n_fft)[..., : hop + n_tail]
    main = full[..., :hop]
    tail = nn.functional.pad(full[..., hop:], (0, hop - n_tail))  # (B, T, hop)
    shifted = torch.cat([torch.zeros_like(tail[:, :1]), tail[:, :-1]], dim=1)
    return (main + shifted).reshape(b, t * hop)


def harmonic_sines(phase: torch.Tensor, n_harmonics: int) -> torch.Tensor:
    """``sin(k·φ)`` for k = 1..K: ``(..., n)`` radians → ``(..., K, n)`` float64.

    By the recurrence ``sin((k+1)φ) = 2 cos φ · sin(kφ) − sin((k−1)φ)`` in float64 (one sin
    and one cos per sample instead of K sines: the training step's hot spot). Harmonics are
    the second-to-last axis so each row written is contiguous.
    """
    x = phase.to(torch.float64)
    out = torch.empty((*x.shape[:-1], n_harmonics, x.shape[-1]), dtype=torch.float64)
    two_c = 2.0 * torch.cos(x)
    out[..., 0, :] = torch.sin(x)
    if n_harmonics > 1:
        torch.mul(two_c, out[..., 0, :], out=out[..., 1, :])
    for i in range(2, n_harmonics):
        torch.mul(two_c, out[..., i - 1, :], out=out[..., i, :])
        out[..., i, :] -= out[..., i - 2, :]
    return out


def harmonic_frames(
    f0_hz: torch.Tensor,
    amplitude: torch.Tensor,
    distribution: torch.Tensor,
    sample_rate: int = SAMPLE_RATE,
    hop: int = HOP,
) -> torch.Tensor:
    """Harmonic part from frame controls: ``(B, T)`` Hz and amplitude, ``(B, T, K)``
    distribution → ``(B, T·hop)``.

    Equals :func:`training.ddsp_torch.harmonic_synthesis` of the linearly upsampled controls
    (``upsample_linear`` with the first frame as ``previous``) but is cheap to differentiate:
    the sines depend only on f0 (no gradient), and linear interpolation of the per-frame
    harmonic amplitudes ``a·d_k`` turns the sum over harmonics into two batched matrix
    products per span.
    """
    b, t = f0_hz.shape
    k = distribution.shape[-1]
    n = t * hop
    with torch.no_grad():
        f0 = dt.upsample_linear(f0_hz, n, f0_hz[..., 0])
        phase = torch.cumsum(f0 * (dt.TWO_PI / sample_rate), dim=-1)
        sines = harmonic_sines(phase.reshape(b, t, hop), k).to(amplitude.dtype)  # (B,T,K,hop)
        frac = torch.arange(1, hop + 1, dtype=f0.dtype) / hop  # (hop,)
    per_frame = amplitude[..., None] * dt.normalize_harmonics(distribution, f0_hz, sample_rate)
    points = torch.cat([per_frame[:, :1], per_frame], dim=1)  # (B, T + 1, K)
    ends = torch.stack([points[:, :-1], points[:, 1:]], dim=-2)  # (B, T, 2, K)
    both = torch.matmul(ends, sines)  # (B, T, 2, hop)
    audio = both[..., 0, :] * (1.0 - frac) + both[..., 1, :] * frac
    return audio.reshape(b, n)


def synthesize(
    f0_hz: torch.Tensor,
    amplitude: torch.Tensor,
    distribution: torch.Tensor,
    noise: torch.Tensor,
    white: torch.Tensor,
    sample_rate: int = SAMPLE_RATE,
    hop: int = HOP,
) -> torch.Tensor:
    """Frame controls → audio ``(B, T·hop)``: harmonic frames plus per-frame filtered noise.

    Controls are upsampled linearly (frame ``t`` is reached at the end of span ``t``, the
    first span starts from frame 0); the distribution is masked above Nyquist and renormalised
    per frame. ``white``: ``(B, T·hop)`` uniform noise in [−1, 1).
    """
    harmonic = harmonic_frames(f0_hz, amplitude, distribution, sample_rate, hop)
    return harmonic + frame_filtered_noise(white, noise, hop)
