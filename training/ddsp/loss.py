"""Multi-scale spectral loss (DDSP): L1 of linear and log STFT magnitudes over FFT sizes
2048, 1024, 512, 256, 128 and 64 (hop = size / 4, Hann window)."""

from __future__ import annotations

import torch

FFT_SIZES = (2048, 1024, 512, 256, 128, 64)
LOG_EPS = 1e-5


def _mag(x: torch.Tensor, n_fft: int) -> torch.Tensor:
    window = torch.hann_window(n_fft, dtype=x.dtype, device=x.device)
    spec = torch.stft(
        x, n_fft, hop_length=n_fft // 4, window=window, center=False, return_complex=True
    )
    return spec.abs()


def multiscale_spectral_loss(
    audio: torch.Tensor, target: torch.Tensor, fft_sizes: tuple[int, ...] = FFT_SIZES
) -> torch.Tensor:
    """Mean over sizes of ``mean|S − Ŝ| + mean|log(S + 1e-5) − log(Ŝ + 1e-5)|``.

    Args:
        audio, target: ``(B, n)`` or ``(n,)`` waveforms, n ≥ the largest FFT size.

    Returns:
        scalar tensor (the loss and the model card's distance; lower is closer).
    """
    total = audio.new_zeros(())
    for n_fft in fft_sizes:
        s, t = _mag(audio, n_fft), _mag(target, n_fft)
        total = total + (s - t).abs().mean()
        total = total + (torch.log(s + LOG_EPS) - torch.log(t + LOG_EPS)).abs().mean()
    return total / len(fft_sizes)
