"""Export the transformer to ONNX as a step model with a key/value cache.

Inputs: ``tokens`` int64 ``[B, S, N_FIELDS]`` (S new tokens: a prompt, or 1
per step), ``emotion`` float32 ``[B, 2]``, ``past_keys`` / ``past_values``
float32 ``[layers, B, heads, T, head_dim]`` (T may be 0). Outputs: one
``logits_<field>`` float32 ``[B, S, FIELD_SIZES[f]]`` per field, and
``present_keys`` / ``present_values`` ``[layers, B, heads, T + S, head_dim]``.
Model sizes go in the ONNX metadata (``kelly.*`` keys).
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import torch

from kelly_actors.transformer import vocab as V
from training.transformer.model import CompoundTransformer

OPSET = 17


def _without_onnxscript_functions() -> None:
    """The legacy exporter splices onnx-script functions in with the ``onnx`` package,
    which is not a dependency; this model uses none, so that step is the identity."""
    from torch.onnx._internal.torchscript_exporter import onnx_proto_utils

    onnx_proto_utils._add_onnxscript_fn = lambda proto, _opsets: proto


class _Step(torch.nn.Module):
    def __init__(self, model: CompoundTransformer) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens, emotion, past_keys, past_values):
        logits, keys, values = self.model(tokens, emotion, past_keys, past_values)
        return (*logits, keys, values)


def export(model: CompoundTransformer, path: Path, metadata: dict[str, str]) -> None:
    """Write ``path`` (atomically) with the step graph and ``metadata``."""
    _without_onnxscript_functions()
    model.eval()
    cfg = model.cfg
    tokens = torch.ones(1, 3, V.N_FIELDS, dtype=torch.long)
    emotion = torch.zeros(1, 2)
    past = torch.zeros(cfg.layers, 1, cfg.heads, 2, cfg.head_dim)
    names = [f"logits_{f}" for f in V.FIELDS]
    buf = io.BytesIO()
    cache_axes = {1: "batch", 3: "past"}
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of the dynamo one,
        # which needs onnxscript; the graph here is plain and exports fine.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Step(model).eval(),
            (tokens, emotion, past, past),
            buf,
            dynamo=False,
            input_names=["tokens", "emotion", "past_keys", "past_values"],
            output_names=[*names, "present_keys", "present_values"],
            dynamic_axes={
                "tokens": {0: "batch", 1: "new"},
                "emotion": {0: "batch"},
                "past_keys": cache_axes,
                "past_values": cache_axes,
                **{n: {0: "batch", 1: "new"} for n in names},
                "present_keys": {1: "batch", 3: "total"},
                "present_values": {1: "batch", 3: "total"},
            },
            opset_version=OPSET,
        )
    data = _with_metadata(
        buf.getvalue(),
        {
            "kelly.kind": "compound-transformer",
            "kelly.config": json.dumps(
                {
                    "layers": cfg.layers,
                    "heads": cfg.heads,
                    "head_dim": cfg.head_dim,
                    "max_len": cfg.max_len,
                    "fields": list(V.FIELDS),
                    "sizes": list(V.FIELD_SIZES),
                }
            ),
            **metadata,
        },
    )
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_bytes(data)
    tmp.replace(path)


def _with_metadata(model_bytes: bytes, metadata: dict[str, str]) -> bytes:
    """Append ``metadata_props`` entries (ModelProto field 14) to a serialized model.

    Protobuf lets fields come in any order, so appending length-delimited
    records is a valid edit without the ``onnx`` package.
    """
    out = bytearray(model_bytes)
    for key, value in metadata.items():
        entry = _field(1, key.encode()) + _field(2, value.encode())
        out += _field(14, entry)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
