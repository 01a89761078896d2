"""Export the transformer to ONNX as a step model with a key/value cache.

Inputs: ``tokens`` int64 ``[B, S, N_FIELDS]`` (S new tokens: a prompt, or 1
per step), ``emotion`` float32 ``[B, 2]``, ``past_keys`` / ``past_values``
float32 ``[layers, B, heads, T, head_dim]`` (T may be 0). Outputs: one
``logits_<field>`` float32 ``[B, S, FIELD_SIZES[f]]`` per field, and
``present_keys`` / ``present_values`` ``[layers, B, heads, T + S, head_dim]``.
Model sizes go in the ONNX metadata (``kelly.*`` keys), read by
:class:`kelly_actors.transformer.session.StepSession`. Exported through
:mod:`training.onnx_export`.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from kelly_actors.transformer import vocab as V
from training.onnx_export import export_bytes, write_model
from training.transformer.model import CompoundTransformer

INPUTS = ("tokens", "emotion", "past_keys", "past_values")
LOGITS = tuple(f"logits_{f}" for f in V.FIELDS)
OUTPUTS = (*LOGITS, "present_keys", "present_values")


class _Step(torch.nn.Module):
    """The model with its outputs flattened into one tuple (the exporter's outputs)."""

    def __init__(self, model: CompoundTransformer) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens, emotion, past_keys, past_values):
        logits, keys, values = self.model(tokens, emotion, past_keys, past_values)
        return (*logits, keys, values)


def export(
    model: CompoundTransformer, path: Path, metadata: dict[str, str], null_condition: bool
) -> None:
    """Write ``path`` (atomically) with the step graph and ``metadata``; ``null_condition``:
    the model was trained with condition dropout (a NaN emotion row is meaningful)."""
    cfg = model.cfg
    tokens = torch.ones(1, 3, V.N_FIELDS, dtype=torch.long)
    emotion = torch.zeros(1, 2)
    past = torch.zeros(cfg.layers, 1, cfg.heads, 2, cfg.head_dim)
    cache_axes = {1: "batch", 3: "past"}
    config = {
        "layers": cfg.layers,
        "heads": cfg.heads,
        "head_dim": cfg.head_dim,
        "max_len": cfg.max_len,
        "null_condition": null_condition,
        "fields": list(V.FIELDS),
        "sizes": list(V.FIELD_SIZES),
    }
    data = export_bytes(
        _Step(model),
        (tokens, emotion, past, past),
        INPUTS,
        OUTPUTS,
        dynamic_axes={
            "tokens": {0: "batch", 1: "new"},
            "emotion": {0: "batch"},
            "past_keys": cache_axes,
            "past_values": cache_axes,
            **{name: {0: "batch", 1: "new"} for name in LOGITS},
            "present_keys": {1: "batch", 3: "total"},
            "present_values": {1: "batch", 3: "total"},
        },
        metadata={
            "kelly.kind": "compound-transformer",
            "kelly.config": json.dumps(config),
            **metadata,
        },
    )
    write_model(path, data)
