"""Export :class:`~training.emotion.model.EmotionNet` to ONNX (:mod:`training.onnx_export`).

Graph inputs: ``features`` float32 (T, B, 128), ``h`` and ``c`` float32 (1, B, 128).
Outputs: ``emotion`` (T, B, 4), ``embedding`` (T, B, 64), ``h_out`` and ``c_out``
(1, B, 128); T (frames) and B (streams) are dynamic. Metadata, read by
:mod:`kelly_actors.inference.model`: ``kelly_model = emotion``, ``model_version``,
``feature_layout``, ``hidden``. The parity test (tests/inference/test_inference_parity.py)
runs the file in onnxruntime against torch.
"""

from __future__ import annotations

import torch

from kelly_actors.bus.frames import N_FEATURES, STATE_SIZE
from training.emotion.model import EmotionNet
from training.onnx_export import export_bytes

INPUTS = ("features", "h", "c")
OUTPUTS = ("emotion", "embedding", "h_out", "c_out")


def model_bytes(net: EmotionNet, version: str, feature_layout: int) -> bytes:
    """The serialized ONNX model of ``net`` (weights as float32 initializers)."""
    frames = torch.zeros(3, 2, N_FEATURES)
    state = torch.zeros(1, 2, STATE_SIZE)
    sequence = {0: "T", 1: "B"}
    return export_bytes(
        net,
        (frames, state, state),
        INPUTS,
        OUTPUTS,
        dynamic_axes={
            "features": sequence,
            "h": {1: "B"},
            "c": {1: "B"},
            "emotion": sequence,
            "embedding": sequence,
            "h_out": {1: "B"},
            "c_out": {1: "B"},
        },
        metadata={
            "kelly_model": "emotion",
            "model_version": version,
            "feature_layout": str(feature_layout),
            "hidden": str(STATE_SIZE),
        },
    )
