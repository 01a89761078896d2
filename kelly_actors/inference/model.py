"""Load and check an emotion ONNX model; run it frame by frame with the state in the call.

The contract (written by ``training/emotion``, docs/inference.md): inputs ``features``
float32 (T, B, N_FEATURES = 128), ``h`` and ``c`` float32 (1, B, STATE_SIZE = 128);
outputs ``emotion`` float32 (T, B, 4) = valence −1…1, arousal, dominance, confidence 0…1,
and ``h_out``/``c_out``;
metadata ``kelly_model = emotion``, ``feature_layout`` = the extractor's layout version,
``model_version``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnxruntime as ort

from kelly_actors.bus.frames import LAYOUT_VERSION, N_FEATURES, STATE_SIZE
from kelly_actors.bus.messages import MAX_MODEL_BYTES

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
#: Frames one call to the session takes at most: the shipped graph's slow chroma weighs
#: every frame of a call against every other (a (T, T) matrix), so a whole piece in one
#: call (``kelly compose --explain``, a 4-minute file: 22,000 frames, 2 GB) would not fit.
MAX_FRAMES_PER_CALL = 512


class ModelError(ValueError):
    """A model file that cannot be used; the message says why."""


def check_provider(provider: str) -> str:
    """The onnxruntime provider name for ``cpu`` | ``cuda``; ModelError if unavailable."""
    name = PROVIDERS.get(provider)
    if name is None:
        raise ModelError(f"provider must be one of {', '.join(PROVIDERS)}, got {provider!r}")
    available = ort.get_available_providers()
    if name not in available:
        raise ModelError(
            f"provider {provider!r} needs onnxruntime's {name}, which this installation lacks "
            f"(available: {', '.join(available)}); for cuda install onnxruntime-gpu on a "
            'machine with an NVIDIA GPU and CUDA, or use provider = "cpu"'
        )
    return name


def _provider(provider: str) -> str | tuple[str, dict[str, str]]:
    """onnxruntime's provider entry. CUDA without TF32: with it the GPU's estimates
    differ from the CPU's by up to 6e-4 (measured on an H200), without it by 2e-7, so a
    stream's state means the same whichever worker — CPU or GPU — serves the next frame."""
    name = check_provider(provider)
    return (name, {"use_tf32": "0"}) if provider == "cuda" else name


def read_model(path: str | Path) -> bytes:
    """The file's bytes; ModelError when missing, unreadable or too large."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise ModelError(f"{path}: {size} bytes is larger than {MAX_MODEL_BYTES}")
        return path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{path}: no such model file") from None
    except OSError as exc:
        raise ModelError(f"{path}: cannot read ({exc.strerror})") from None


class EmotionModel:
    """A checked onnxruntime session (one intra-op thread by default)."""

    def __init__(
        self, data: bytes, provider: str = "cpu", threads: int = 1, source: str = ""
    ) -> None:
        self.source = source or "<bytes>"
        self.data = data
        self.sha256 = hashlib.sha256(data).hexdigest()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(data, options, providers=[_provider(provider)])
        except ModelError:
            raise
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise ModelError(
                f"{self.source}: not a loadable ONNX model ({_first_line(exc)})"
            ) from None
        wanted = PROVIDERS[provider]
        if wanted not in self.session.get_providers():
            # onnxruntime falls back to the CPU when a provider it has cannot start
            # (no GPU, missing CUDA or cuDNN libraries): say so instead of running slow.
            raise ModelError(
                f"provider {provider!r}: onnxruntime could not start {wanted} on this machine "
                f"(running on {', '.join(self.session.get_providers())}); check the GPU and "
                'its CUDA/cuDNN libraries, or use provider = "cpu"'
            )
        meta = self.session.get_modelmeta().custom_metadata_map
        self.version = meta.get("model_version") or f"sha-{self.sha256[:12]}"
        self._check(meta)

    def _check(self, meta: dict[str, str]) -> None:
        where = self.source
        if meta.get("kelly_model") != "emotion":
            raise ModelError(
                f"{where}: not an emotion model (kelly_model={meta.get('kelly_model')!r})"
            )
        if meta.get("feature_layout") != str(LAYOUT_VERSION):
            raise ModelError(
                f"{where}: made for feature layout {meta.get('feature_layout')!r}, "
                f"the extractor writes layout {LAYOUT_VERSION}"
            )
        inputs = {i.name: i.shape for i in self.session.get_inputs()}
        outputs = [o.name for o in self.session.get_outputs()]
        if set(inputs) != {"features", "h", "c"} or inputs["features"][-1] != N_FEATURES:
            raise ModelError(f"{where}: inputs {inputs} are not features (T, B, 128), h, c")
        if inputs["h"][-1] != STATE_SIZE or not {"emotion", "h_out", "c_out"} <= set(outputs):
            raise ModelError(
                f"{where}: state must be (1, B, {STATE_SIZE}) and outputs emotion, h_out, c_out"
            )
        h = np.zeros((1, 1, STATE_SIZE), np.float32)
        try:
            emotion, h1, _ = self.run(np.zeros((1, 1, N_FEATURES), np.float32), h, h)
        except Exception as exc:
            raise ModelError(f"{where}: a test frame failed ({_first_line(exc)})") from None
        if (
            emotion.shape != (1, 1, 4)
            or h1.shape != (1, 1, STATE_SIZE)
            or not np.isfinite(emotion).all()
        ):
            raise ModelError(f"{where}: a test frame gave emotion {emotion.shape}, h {h1.shape}")

    def run(
        self, features: np.ndarray, h: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """features float32 (T, B, 128), h/c (1, B, 128) → emotion (T, B, 4), h, c.

        A long T runs as calls of at most :data:`MAX_FRAMES_PER_CALL` frames, the state
        carried from each to the next (the same result: the state is all a call keeps)."""
        if features.shape[0] <= MAX_FRAMES_PER_CALL:
            return self._run(features, h, c)
        parts = []
        for start in range(0, features.shape[0], MAX_FRAMES_PER_CALL):
            emotion, h, c = self._run(features[start : start + MAX_FRAMES_PER_CALL], h, c)
            parts.append(emotion)
        return np.concatenate(parts), h, c

    def _run(
        self, features: np.ndarray, h: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        emotion, h_out, c_out = self.session.run(
            ["emotion", "h_out", "c_out"], {"features": features, "h": h, "c": c}
        )
        return emotion, h_out, c_out


def load_model(path: str | Path, provider: str = "cpu", threads: int = 1) -> EmotionModel:
    """Read and check a model file; ModelError with the reason otherwise."""
    return EmotionModel(read_model(path), provider, threads, source=str(path))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
