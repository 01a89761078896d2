"""The inference actor in a real performance: estimates flow to the composer, degraded
heuristic mode, hot swap without a dropped frame, and start-time refusal of CUDA."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from inference_support import (
    SHIPPED,
    Estimates,
    inference_toml,
    render_emotion_wav,
    sample_gaps,
    telemetry,
)
from performance import Performance, env_with_support, kelly, wait_until
from test_inference_signal_check import RATE, bad_signal

from kelly_actors.audio import wav
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.live.fusion import FusionSettings
from training.emotion.export import model_bytes
from training.emotion.model import EmotionNet


@pytest.mark.slow
def test_audio_of_known_emotion_reaches_the_composer_as_estimates(run_dir) -> None:
    wav_path = render_emotion_wav(run_dir / "sad.wav", PAD(-0.7, 0.2, 0.3), seconds=8.0)
    config = inference_toml({"model": str(SHIPPED)}, input_file=wav_path, composer=True)
    with Performance(run_dir, config) as perf:
        perf.wait_ready()
        est = Estimates(run_dir)
        composer = perf.wait_actor(
            "composer",
            lambda a: a["telemetry"].get("neural", {}).get("accepted", 0) > 50,
            30,
            "the composer to accept estimates",
        )
        wait_until(lambda: len(est.drain()) > 100, 20, "estimates on the PUB socket")
        est.close()
        inf = telemetry(perf)
        assert not inf["degraded"] and inf["model"].startswith("emotion-")
        assert inf["lost"] == 0 and inf["gaps"] == 0
        assert composer["telemetry"]["bad_estimates"] == 0
        assert all(e["model_version"] == inf["model"] and not e["degraded"] for e in est.received)
        assert perf.stop() == 0


@pytest.mark.slow
def test_noise_hum_and_sweeps_at_the_input_never_reach_the_composer(run_dir) -> None:
    """What an open microphone may hear between pieces, through the real actors: every
    published confidence stays at or under 0.2 and the composer's fusion (default gate)
    accepts none of it."""
    kinds = ("white_noise", "mains_hum", "falling_sweep", "clipping", "hum_then_sweep")
    signal = np.concatenate([bad_signal(kind)[: 2 * RATE] for kind in kinds])
    path = run_dir / "no-music.wav"
    writer = wav.WavWriter(path, RATE, 1)
    try:
        writer.write(signal[:, None])
    finally:
        writer.close()
    gate = FusionSettings().confidence_gate
    config = inference_toml({"model": str(SHIPPED)}, path, composer=True, fusion_gate=gate)
    with Performance(run_dir, config) as perf:
        perf.wait_ready()
        est = Estimates(run_dir)
        wait_until(lambda: len(est.drain()) >= len(signal) // 512, 60, "the file's estimates")
        est.close()
        composer = perf.actor("composer")["telemetry"]["neural"]
        confidences = [e["confidence"] for e in est.received]
        assert max(confidences) <= 0.2, max(confidences)
        assert composer["accepted"] == 0 and composer["gated"] > 0, composer
        assert perf.stop() == 0


@pytest.mark.slow
def test_a_missing_model_degrades_to_the_heuristic_and_the_performance_goes_on(run_dir) -> None:
    missing = run_dir / "no-such-model.onnx"
    config = inference_toml({"model": str(missing)}, composer=True)
    with Performance(run_dir, config) as perf:
        perf.wait_actor("composer", lambda a: a["state"] == "ready", 30, "the composer ready")
        actor = perf.wait_actor(
            "inference", lambda a: a["state"] == "degraded", 20, "inference degraded"
        )
        assert "no such model file" in actor["degraded_reason"]
        assert "heuristic" in actor["degraded_reason"]
        est = Estimates(run_dir)
        wait_until(lambda: len(est.drain()) > 20, 20, "heuristic estimates")
        est.close()
        assert all(e["degraded"] and e["model_version"] == "heuristic" for e in est.received)
        assert perf.actor("composer")["state"] == "ready"
        assert perf.stop() == 0


@pytest.mark.slow
@pytest.mark.parametrize("workers", [0, 2])
def test_load_model_refuses_a_bad_file_then_swaps_a_good_one_without_a_gap(
    run_dir, workers
) -> None:
    bad = run_dir / "bad.onnx"
    bad.write_bytes(b"not a model")
    torch.manual_seed(1)
    good = run_dir / "good.onnx"
    good.write_bytes(model_bytes(EmotionNet(), "emotion-swapped", 1))
    with Performance(run_dir, inference_toml({"model": str(SHIPPED), "workers": workers})) as perf:
        perf.wait_ready()
        est = Estimates(run_dir)
        wait_until(lambda: len(est.drain()) > 30, 20, "estimates before the swap")
        kelly = [sys.executable, "-m", "kelly_actors.cli", "--run-dir", str(run_dir), "ctl"]
        refused = subprocess.run(
            [*kelly, "load-model", "emotion", str(bad)],
            env=env_with_support(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode == 1
        assert (
            "not a loadable ONNX model" in refused.stderr
            and "still running emotion-" in refused.stderr
        )
        assert telemetry(perf)["model"].startswith("emotion-") and telemetry(perf)["swaps"] == 0
        done = subprocess.run(
            [*kelly, "load-model", "emotion", str(good)],
            env=env_with_support(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        wait_until(lambda: telemetry(perf)["model"] == "emotion-swapped", 20, "the swap")
        wait_until(
            lambda: any(e["model_version"] == "emotion-swapped" for e in est.drain()[-50:]),
            20,
            "estimates of the new model",
        )
        est.close()
        inf = telemetry(perf)
        assert inf["swaps"] == 1 and inf["lost"] == 0 and inf["gaps"] == 0
        assert sample_gaps(est.received) == 0
        assert perf.stop() == 0


def test_provider_cuda_without_a_gpu_stops_the_start_with_a_clear_error(run_dir) -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has onnxruntime-gpu; the refusal cannot be shown here")
    (run_dir / "p.toml").write_text(inference_toml({"model": str(SHIPPED), "provider": "cuda"}))
    done = kelly("run", str(run_dir / "p.toml"), run_dir=run_dir)
    assert done.returncode != 0
    assert "onnxruntime-gpu" in done.stderr
