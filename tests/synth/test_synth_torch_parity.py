"""The torch twin (training/ddsp_torch.py) gives the numpy results within 1e-4."""

import importlib.util
import warnings
from pathlib import Path

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # e.g. NumPy-version notices on import
    import torch

from kelly_actors.synth import ddsp, emotion

_PATH = Path(__file__).resolve().parents[2] / "training" / "ddsp_torch.py"
_SPEC = importlib.util.spec_from_file_location("kelly_training_ddsp_torch", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
dt = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(dt)

SR = 48000
TOL = 1e-4


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy()


def test_harmonic_synthesis_matches_numpy_in_blocks_with_phase_carry():
    rng = np.random.default_rng(0)
    f0 = 100.0 + 900.0 * rng.random((3, 1))
    f0 = f0 * 2 ** (0.5 * np.sin(np.linspace(0, 20, 2048)) / 12)
    amp = rng.random((3, 2048))
    dist = rng.random((3, 64))
    phase_np, phase_t = np.zeros(3), torch.zeros(3, dtype=torch.float64)
    for a in range(0, 2048, 512):
        ref, phase_np = ddsp.harmonic_synthesis(f0[:, a : a + 512], amp[:, a : a + 512], dist,
                                                SR, phase_np)  # fmt: skip
        out, phase_t = dt.harmonic_synthesis(
            torch.from_numpy(f0[:, a : a + 512]), torch.from_numpy(amp[:, a : a + 512]),
            torch.from_numpy(dist), SR, phase_t,
        )  # fmt: skip
        np.testing.assert_allclose(_np(out), ref, atol=TOL, rtol=0)
        np.testing.assert_allclose(_np(phase_t), phase_np, atol=TOL, rtol=0)


def test_per_sample_harmonic_distribution_matches_numpy():
    rng = np.random.default_rng(1)
    f0 = np.full(256, 440.0)
    amp = np.ones(256)
    dist = rng.random((256, 32))
    ref, _ = ddsp.harmonic_synthesis(f0, amp, dist, SR, 0.5, f0_ceiling_hz=600.0)
    out, _ = dt.harmonic_synthesis(torch.from_numpy(f0), torch.from_numpy(amp),
                                   torch.from_numpy(dist), SR, 0.5, 600.0)  # fmt: skip
    np.testing.assert_allclose(_np(out), ref, atol=TOL, rtol=0)


def test_oscillator_bank_matches_numpy():
    rng = np.random.default_rng(2)
    freqs = 30000.0 * rng.random((2, 512, 8))  # some above Nyquist
    amps = rng.random((2, 512, 8))
    init = rng.random((2, 8))
    ref, ref_ph = ddsp.oscillator_bank(freqs, amps, SR, init)
    out, ph = dt.oscillator_bank(torch.from_numpy(freqs), torch.from_numpy(amps), SR,
                                 torch.from_numpy(init))  # fmt: skip
    np.testing.assert_allclose(_np(out), ref, atol=TOL, rtol=0)
    np.testing.assert_allclose(_np(ph), ref_ph, atol=TOL, rtol=0)


def test_filtered_noise_and_impulse_response_match_numpy():
    rng = np.random.default_rng(3)
    mags = rng.random((2, 65))
    white = rng.uniform(-1, 1, (2, 700))
    tail = rng.standard_normal((2, 127))
    np.testing.assert_allclose(
        _np(dt.frequency_impulse_response(torch.from_numpy(mags))),
        ddsp.frequency_impulse_response(mags), atol=TOL, rtol=0,
    )  # fmt: skip
    ref, ref_tail = ddsp.filtered_noise(white, mags, tail)
    out, new_tail = dt.filtered_noise(torch.from_numpy(white), torch.from_numpy(mags),
                                      torch.from_numpy(tail))  # fmt: skip
    np.testing.assert_allclose(_np(out), ref, atol=TOL, rtol=0)
    np.testing.assert_allclose(_np(new_tail), ref_tail, atol=TOL, rtol=0)


def test_small_helpers_and_emotion_functions_match_numpy():
    rng = np.random.default_rng(4)
    frames = rng.random((3, 5))
    prev = rng.random(3)
    np.testing.assert_allclose(
        _np(dt.upsample_linear(torch.from_numpy(frames), 37, torch.from_numpy(prev))),
        ddsp.upsample_linear(frames, 37, prev), atol=TOL, rtol=0,
    )  # fmt: skip
    dist = rng.random((2, 64))
    f0 = np.array([200.0, 3000.0])
    np.testing.assert_allclose(
        _np(dt.normalize_harmonics(torch.from_numpy(dist), torch.from_numpy(f0), SR)),
        ddsp.normalize_harmonics(dist, f0, SR), atol=TOL, rtol=0,
    )  # fmt: skip
    np.testing.assert_allclose(_np(dt.midi_to_hz(torch.tensor([21.0, 69.0, 108.0]))),
                               ddsp.midi_to_hz([21, 69, 108]), rtol=TOL)  # fmt: skip
    for v in (-1.0, -0.3, 0.0, 0.7, 1.0):
        np.testing.assert_allclose(_np(dt.harmonic_tilt(torch.from_numpy(dist), v)),
                                   emotion.harmonic_tilt(dist, v), atol=TOL, rtol=0)  # fmt: skip
    for x in (0.0, 0.25, 1.0):
        assert abs(float(dt.noise_level(x)) - emotion.noise_level(x)) < TOL
        assert abs(float(dt.dominance_gain(x)) - emotion.dominance_gain(x)) < TOL


def test_torch_harmonic_synthesis_is_differentiable_in_the_distribution():
    dist = torch.rand(16, dtype=torch.float64, requires_grad=True)
    out, _ = dt.harmonic_synthesis(torch.full((256,), 220.0, dtype=torch.float64),
                                   torch.ones(256, dtype=torch.float64), dist, SR)  # fmt: skip
    out.pow(2).sum().backward()
    assert dist.grad is not None and torch.isfinite(dist.grad).all()
    assert float(dist.grad.abs().sum()) > 0.0
