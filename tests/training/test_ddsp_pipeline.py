"""The DDSP training pipeline: synthesis twins, streaming export parity, the CLI end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from kelly_actors.synth import ddsp
from training import ddsp_torch as dt
from training.ddsp.data import fill_unvoiced
from training.ddsp.export import export_onnx, parity
from training.ddsp.loss import multiscale_spectral_loss
from training.ddsp.model import DDSPDecoder, ModelConfig, frame_filtered_noise, harmonic_frames

ROOT = Path(__file__).resolve().parents[2]


def test_harmonic_frames_equal_the_torch_twin_on_upsampled_controls() -> None:
    g = torch.Generator().manual_seed(0)
    f0 = torch.rand(2, 6, generator=g, dtype=torch.float64) * 800 + 100
    amp = torch.rand(2, 6, generator=g, dtype=torch.float64)
    dist = torch.rand(2, 6, 64, generator=g, dtype=torch.float64)
    n = 6 * 512
    per_frame = (amp[..., None] * dt.normalize_harmonics(dist, f0, 48000)).transpose(1, 2)
    up = dt.upsample_linear(per_frame, n, per_frame[..., 0]).transpose(1, 2)
    f0_up = dt.upsample_linear(f0, n, f0[..., 0])
    ref, _ = dt.harmonic_synthesis(f0_up, torch.ones_like(f0_up), up, 48000, 0.0, 1.0)
    assert torch.allclose(harmonic_frames(f0, amp, dist), ref, atol=1e-9)


def test_frame_filtered_noise_equals_the_numpy_streaming_filter_frame_by_frame() -> None:
    rng = np.random.default_rng(0)
    white = rng.uniform(-1, 1, (1, 4 * 512))
    mags = rng.uniform(0, 1, (1, 4, 65))
    tail = np.zeros((1, 127))
    ref = []
    for t in range(4):
        block, tail = ddsp.filtered_noise(white[:, t * 512 : (t + 1) * 512], mags[:, t], tail)
        ref.append(block)
    out = frame_filtered_noise(torch.from_numpy(white), torch.from_numpy(mags))
    np.testing.assert_allclose(out.numpy(), np.concatenate(ref, axis=1), atol=1e-9)


def test_streaming_steps_reproduce_the_sequence_forward() -> None:
    torch.manual_seed(0)
    model = DDSPDecoder(ModelConfig(hidden=24)).eval()
    f0 = torch.rand(3, 10) * 500 + 100
    loud = torch.rand(3, 10) * -60
    emo = torch.tensor([[0.5, 0.2, 0.9]] * 3)
    with torch.no_grad():
        amp, dist, noise, final = model(f0, loud, emo)
        state = torch.zeros(3, 24)
        for t in range(10):
            a, d, n, state = model.step(f0[:, t : t + 1], loud[:, t : t + 1], emo, state)
            assert torch.allclose(a[:, 0], amp[:, t], atol=1e-6)
            assert torch.allclose(d, dist[:, t], atol=1e-6)
            assert torch.allclose(n, noise[:, t], atol=1e-6)
    assert torch.allclose(state, final, atol=1e-6)


def test_exported_onnx_decoder_streams_like_torch(tmp_path) -> None:
    torch.manual_seed(1)
    model = DDSPDecoder(ModelConfig(hidden=32)).eval()
    path = tmp_path / "ddsp-x.onnx"
    export_onnx(model, path)
    assert parity(model, path, frames=32) < 1e-4


def test_emotion_modulation_tilts_scales_noise_and_gain_as_documented() -> None:
    torch.manual_seed(2)
    model = DDSPDecoder(ModelConfig(hidden=16)).eval()
    f0, loud = torch.full((1, 1), 440.0), torch.full((1, 1), -20.0)
    state = torch.zeros(1, 16)
    with torch.no_grad():
        base = model.step(f0, loud, torch.tensor([[0.0, 0.5, 0.5]]), state)
        moved = model.step(f0, loud, torch.tensor([[1.0, 1.0, 1.0]]), state)
    assert torch.allclose(moved[0], base[0] * 10 ** (6 / 20), rtol=1e-5)  # dominance +6 dB
    assert torch.allclose(moved[2], base[2] * 1.75, rtol=1e-5)  # arousal noise 1.75×
    assert torch.allclose(moved[1], dt.harmonic_tilt(base[1], torch.tensor(1.0)), atol=1e-6)


def test_spectral_distance_is_zero_for_the_same_audio_and_grows_with_the_difference() -> None:
    x = torch.sin(torch.arange(8192) * 0.05)
    assert float(multiscale_spectral_loss(x, x)) == 0.0
    near = float(multiscale_spectral_loss(x, x * 0.9))
    far = float(multiscale_spectral_loss(x, x * 0.5))
    assert 0.0 < near < far


def test_unvoiced_frames_take_the_nearest_voiced_pitch() -> None:
    out = fill_unvoiced(np.array([0, 0, 220, 0, 0, 0, 330, 0], np.float32))
    np.testing.assert_array_equal(out, [220, 220, 220, 220, 220, 330, 330, 330])


def test_an_unknown_instrument_is_refused_with_the_choices() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "training.ddsp", "--instrument", "kazoo"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown instrument 'kazoo'" in done.stderr and "violin" in done.stderr


@pytest.mark.slow
def test_quick_run_renders_trains_resumes_exports_and_writes_a_card(tmp_path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "training.ddsp",
        "--instrument",
        "flute",
        "--quick",
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "models"),
        "--checkpoints",
        str(tmp_path / "ck"),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=110)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ETA" in done.stderr  # the progress bar
    card = json.loads((tmp_path / "models" / "ddsp-flute.json").read_text())
    assert card["training"]["steps"] == 6
    assert card["parity"] < 1e-4
    assert set(card["metrics"]) == {
        "neural_midi",
        "preset_midi",
        "preset_midi_level_matched",
        "neural_resynthesis",
    }
    assert all(np.isfinite(v) and v > 0 for v in card["metrics"].values())
    assert (tmp_path / "models" / "ddsp-flute.md").read_text().startswith("# ddsp-flute")
    # A second run resumes from the final checkpoint instead of training again.
    again = subprocess.run(
        [*cmd, "--steps", "8"], capture_output=True, text=True, cwd=ROOT, timeout=110
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resuming from" in again.stderr
    assert (
        json.loads((tmp_path / "models" / "ddsp-flute.json").read_text())["training"]["steps"] == 8
    )
