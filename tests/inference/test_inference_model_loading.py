"""Bad model files and providers are refused with a reason that names the problem."""

from __future__ import annotations

import pytest
import torch

from kelly_actors.inference.model import ModelError, check_provider, load_model
from training.emotion.export import model_bytes
from training.emotion.model import EmotionNet


def test_a_missing_file_is_refused_by_name(tmp_path) -> None:
    with pytest.raises(ModelError, match="no such model file"):
        load_model(tmp_path / "nope.onnx")


def test_a_corrupt_file_is_refused_as_not_loadable(tmp_path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 50)
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        load_model(bad)


def test_a_model_for_another_feature_layout_is_refused(tmp_path) -> None:
    other = tmp_path / "layout9.onnx"
    other.write_bytes(model_bytes(EmotionNet(), "v", feature_layout=9))
    with pytest.raises(ModelError, match="feature layout '9'"):
        load_model(other)


def test_a_valid_model_loads_with_its_version(tmp_path) -> None:
    torch.manual_seed(0)
    good = tmp_path / "good.onnx"
    good.write_bytes(model_bytes(EmotionNet(), "emotion-test", 1))
    assert load_model(good).version == "emotion-test"


def test_cuda_without_onnxruntime_gpu_is_a_clear_error() -> None:
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        assert check_provider("cuda") == "CUDAExecutionProvider"
        return
    with pytest.raises(ModelError, match="onnxruntime-gpu"):
        check_provider("cuda")


def test_a_provider_that_cannot_start_is_refused_not_silently_replaced_by_the_cpu(
    tmp_path, monkeypatch
) -> None:
    # onnxruntime-gpu lists CUDA even where the GPU or its libraries are missing, then
    # runs the session on the CPU. Here: a CPU build told it has CUDA does the same.
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA; the fallback cannot be provoked here")
    monkeypatch.setattr(
        ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    torch.manual_seed(0)
    good = tmp_path / "good.onnx"
    good.write_bytes(model_bytes(EmotionNet(), "emotion-test", 1))
    with (
        pytest.warns(UserWarning, match="CUDAExecutionProvider"),
        pytest.raises(ModelError, match="could not start CUDAExecutionProvider"),
    ):
        load_model(good, "cuda")
