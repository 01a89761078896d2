"""Pure DDSP functions: streaming continuity, anti-aliasing, filter design."""

import numpy as np
import pytest

from kelly_actors.synth import ddsp

SR = 48000


def _split(n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    bounds, pos = [], 0
    while pos < n:
        size = int(rng.integers(64, 2049))
        bounds.append((pos, min(n, pos + size)))
        pos += size
    return bounds


def test_harmonic_synthesis_in_blocks_equals_one_call_within_1e_9():
    rng = np.random.default_rng(0)
    n = 20000
    t = np.arange(n) / SR
    f0 = 220.0 * 2 ** (0.3 * np.sin(2 * np.pi * 5 * t) / 12)  # vibrato
    amp = np.linspace(0.0, 1.0, n)
    dist = ddsp.normalize_harmonics(1.0 / np.arange(1, 65), 300.0, SR)
    whole, phase_whole = ddsp.harmonic_synthesis(f0, amp, dist, SR, 0.0, f0_ceiling_hz=300.0)
    pieces, phase = [], 0.0
    for a, b in _split(n, rng):
        out, phase = ddsp.harmonic_synthesis(f0[a:b], amp[a:b], dist, SR, phase, 300.0)
        pieces.append(out)
    np.testing.assert_allclose(np.concatenate(pieces), whole, atol=1e-9, rtol=0)
    assert abs(phase - phase_whole) < 1e-9


def test_harmonic_synthesis_equals_oscillator_bank_with_harmonic_frequencies():
    n, k = 4096, 16
    f0 = np.full((2, n), [[110.0], [523.25]])
    amp = np.full((2, n), 0.5)
    dist = np.random.default_rng(2).random((2, k))
    fast, fast_phase = ddsp.harmonic_synthesis(f0, amp, dist, SR, [0.3, 1.0])
    freqs = ddsp.harmonic_frequencies(f0, k)
    amps = amp[..., None] * dist[:, None, :]
    init = np.array([0.3, 1.0])[:, None] * np.arange(1, k + 1)
    ref, _ = ddsp.oscillator_bank(freqs, amps, SR, init)
    np.testing.assert_allclose(fast, ref, atol=1e-9, rtol=0)
    assert fast_phase.shape == (2,)


def test_harmonics_at_or_above_nyquist_are_silenced_so_nothing_aliases():
    sr, f0, n = 44100, 3000.0, 44100
    dist = np.ones(64)  # harmonics up to 192 kHz requested
    audio, _ = ddsp.harmonic_synthesis(np.full(n, f0), np.ones(n), dist, sr)
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(n)))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    allowed = np.zeros_like(freqs, dtype=bool)
    for k in range(1, int((sr / 2) // f0) + 1):
        allowed |= np.abs(freqs - k * f0) < 10.0
    leak = spectrum[~allowed].max() / spectrum.max()
    assert leak < 1e-4  # -80 dB: only Hann side lobes, no aliased partials
    assert ddsp.harmonic_mask(f0, 64, sr).sum() == 7  # 7 × 3 kHz < 22.05 kHz


def test_remove_above_nyquist_zeroes_exactly_the_components_at_or_above_half_rate():
    freqs = np.array([100.0, 23999.0, 24000.0, 30000.0])
    np.testing.assert_array_equal(
        ddsp.remove_above_nyquist(freqs, np.ones(4), 48000), [1.0, 1.0, 0.0, 0.0]
    )


def test_upsample_linear_is_continuous_across_blocks_and_ends_on_the_last_frame():
    a = ddsp.upsample_linear(np.array([1.0, 2.0]), 4, previous=0.0)
    np.testing.assert_allclose(a, [0.5, 1.0, 1.5, 2.0])
    b = ddsp.upsample_linear(np.array([[2.0], [4.0]]), 2, previous=np.array([0.0, 2.0]))
    np.testing.assert_allclose(b, [[1.0, 2.0], [3.0, 4.0]])


def test_frequency_impulse_response_is_linear_phase_with_the_requested_response():
    mags = np.interp(np.linspace(0, 1, 65), [0, 0.3, 0.31, 1], [1.0, 1.0, 0.01, 0.01])
    ir = ddsp.frequency_impulse_response(mags)
    assert ir.shape == (128,)
    np.testing.assert_allclose(ir[1:], ir[1:][::-1], atol=1e-12)  # symmetric about 64
    response = np.abs(np.fft.rfft(ir, 1024))
    freqs = np.linspace(0, 1, 513)
    assert np.all(np.abs(response[freqs < 0.2] - 1.0) < 0.05)
    assert np.all(response[freqs > 0.45] < 0.03)


def test_fft_convolve_stream_in_blocks_equals_direct_convolution_within_1e_12():
    rng = np.random.default_rng(4)
    x = rng.standard_normal(10000)
    h = rng.standard_normal(128)
    ref = np.convolve(x, h)[: x.size]
    tail = np.zeros(127)
    pieces = []
    for a, b in _split(x.size, rng):
        out, tail = ddsp.fft_convolve_stream(x[a:b], h, tail)
        pieces.append(out)
    np.testing.assert_allclose(np.concatenate(pieces), ref, atol=1e-12, rtol=0)


@pytest.mark.parametrize("block", [1, 17, 64, 2048])
def test_filtered_noise_stream_state_carries_across_any_block_size(block):
    rng = np.random.default_rng(5)
    white = rng.uniform(-1, 1, 4096)
    mags = np.linspace(1.0, 0.0, 33)
    whole, _ = ddsp.filtered_noise(white, mags, np.zeros(63))
    tail, pieces = np.zeros(63), []
    for a in range(0, white.size, block):
        out, tail = ddsp.filtered_noise(white[a : a + block], mags, tail)
        pieces.append(out)
    np.testing.assert_allclose(np.concatenate(pieces), whole, atol=1e-12, rtol=0)
