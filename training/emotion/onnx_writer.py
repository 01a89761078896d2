"""Write :class:`~training.emotion.model.EmotionNet` as an ONNX model, by hand.

Why by hand: torch's exporters need the ``onnx`` (and ``onnxscript``) packages, which the
project does not depend on. The model is about 30 standard operators (opset 17), so this module
encodes the ONNX protobuf directly (field numbers from ``onnx.proto3``); the parity test
(tests/inference/test_inference_parity.py) runs the file in onnxruntime against torch.

Graph inputs: ``features`` float32 (T, B, 128), ``h`` and ``c`` float32 (1, B, 128).
Outputs: ``emotion`` (T, B, 4), ``embedding`` (T, B, 64), ``h_out`` and ``c_out``
(1, B, 128). Metadata: ``kelly_model = emotion``, ``model_version``, ``feature_layout``,
``hidden``.
"""

from __future__ import annotations

import struct

import numpy as np

from kelly_actors.bus.frames import CHROMA
from training.emotion.model import (
    HIDDEN,
    INPUT_CLIP,
    KEY_EPS,
    KEY_MIX,
    KEY_PROFILES,
    N_FEATURES,
    N_OUT,
    EmotionNet,
    centring,
    diatonic_templates,
    key_templates,
)

OPSET = 17
IR_VERSION = 8
_FLOAT, _INT64 = 1, 7
_ATTR_FLOAT, _ATTR_INT, _ATTR_STRING, _ATTR_INTS = 1, 2, 3, 7


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 values are sent as their two's complement
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, n: int) -> bytes:
    return _key(field, 0) + _varint(n)


def _bytes(field: int, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def _str(field: int, text: str) -> bytes:
    return _bytes(field, text.encode())


def tensor(name: str, array: np.ndarray) -> bytes:
    """TensorProto: dims=1, data_type=2, name=8, raw_data=9 (little-endian)."""
    kind = _FLOAT if array.dtype == np.float32 else _INT64
    body = b"".join(_int(1, d) for d in array.shape) + _int(2, kind) + _str(8, name)
    return body + _bytes(
        9, np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
    )


def _attr(name: str, value: float | int | str | list[int]) -> bytes:
    """AttributeProto: name=1, f=2, i=3, s=4, ints=8, type=20."""
    body = _str(1, name)
    if isinstance(value, float):
        body += _key(2, 5) + struct.pack("<f", value) + _int(20, _ATTR_FLOAT)
    elif isinstance(value, int):
        body += _int(3, value) + _int(20, _ATTR_INT)
    elif isinstance(value, str):
        body += _str(4, value) + _int(20, _ATTR_STRING)
    else:
        body += b"".join(_int(8, v) for v in value) + _int(20, _ATTR_INTS)
    return body


def node(
    op: str, inputs: list[str], outputs: list[str], **attrs: float | int | str | list[int]
) -> bytes:
    """NodeProto: input=1, output=2, name=3, op_type=4, attribute=5."""
    body = b"".join(_str(1, i) for i in inputs) + b"".join(_str(2, o) for o in outputs)
    body += _str(3, f"{op}_{outputs[0]}") + _str(4, op)
    return body + b"".join(_bytes(5, _attr(k, v)) for k, v in attrs.items())


def value_info(name: str, dims: list[int | str]) -> bytes:
    """ValueInfoProto(name=1, type=2 → TypeProto.tensor_type=1 → elem_type=1, shape=2)."""
    shape = b"".join(_bytes(1, _str(2, d) if isinstance(d, str) else _int(1, d)) for d in dims)
    tensor_type = _int(1, _FLOAT) + _bytes(2, shape)
    return _str(1, name) + _bytes(2, _bytes(1, tensor_type))


def _lstm_weights(net: EmotionNet) -> dict[str, np.ndarray]:
    """torch gate order (i, f, g, o) → ONNX (i, o, f, c); W (1, 4H, in), R (1, 4H, H), B (1, 8H)."""
    lstm = net.lstm

    def reorder(w: np.ndarray) -> np.ndarray:
        i, f, g, o = np.split(w, 4, axis=0)
        return np.concatenate([i, o, f, g], axis=0)

    w = reorder(lstm.weight_ih_l0.detach().numpy())
    r = reorder(lstm.weight_hh_l0.detach().numpy())
    b = np.concatenate(
        [reorder(lstm.bias_ih_l0.detach().numpy()), reorder(lstm.bias_hh_l0.detach().numpy())]
    )
    return {"lstm_W": w[None], "lstm_R": r[None], "lstm_B": b[None]}


def model_bytes(net: EmotionNet, version: str, feature_layout: int) -> bytes:
    """The whole ModelProto for ``net`` (weights as float32 initializers)."""
    f32 = np.float32
    weights = {
        "mean": net.mean.numpy().astype(f32),
        "inv_std": net.inv_std.numpy().astype(f32),
        "clip_lo": np.array(-INPUT_CLIP, f32),
        "clip_hi": np.array(INPUT_CLIP, f32),
        "w_in": net.dense_in.weight.detach().numpy().T.astype(f32),
        "b_in": net.dense_in.bias.detach().numpy().astype(f32),
        "w_out": net.dense_out.weight.detach().numpy().T.astype(f32),
        "b_out": net.dense_out.bias.detach().numpy().astype(f32),
        "key_mean": net.key_mean.numpy().astype(f32),
        "key_inv_std": net.key_inv_std.numpy().astype(f32),
        "chroma_start": np.array([CHROMA.start], np.int64),
        "chroma_stop": np.array([CHROMA.stop], np.int64),
        "centring": centring().numpy().astype(f32),
        "key_templates": key_templates().numpy().astype(f32),
        "key_shape": np.array([0, 0, len(KEY_PROFILES), 12], np.int64),
        "key_eps": np.array(KEY_EPS, f32),
        "key_mix": KEY_MIX.numpy().astype(f32),
        "diatonic_templates": diatonic_templates().numpy().astype(f32),
        "pitch_classes": np.arange(12, dtype=np.int64),
        "twelve": np.array(12, np.int64),
        "squeeze_axes": np.array([1], np.int64),
        "s0": np.array([0], np.int64),
        "s1": np.array([1], np.int64),
        "s4": np.array([4], np.int64),
        "last_axis": np.array([2], np.int64),
        **{k: v.astype(f32) for k, v in _lstm_weights(net).items()},
    }
    nodes = [
        node("Sub", ["features", "mean"], ["centred"]),
        node("Mul", ["centred", "inv_std"], ["scaled"]),
        node("Clip", ["scaled", "clip_lo", "clip_hi"], ["clipped"]),
        # Key-invariant mode features from the chroma (model.key_features).
        node("Slice", ["features", "chroma_start", "chroma_stop", "last_axis"], ["chroma"]),
        node("MatMul", ["chroma", "centring"], ["chroma_centred"]),
        node("ReduceL2", ["chroma_centred"], ["chroma_norm0"], axes=[2], keepdims=1),
        node("Add", ["chroma_norm0", "key_eps"], ["chroma_norm"]),
        node("MatMul", ["chroma", "key_templates"], ["key_corr_flat"]),
        node("Reshape", ["key_corr_flat", "key_shape"], ["key_corr"]),
        node("ReduceMax", ["key_corr"], ["key_best"], axes=[3], keepdims=0),
        node("Div", ["key_best", "chroma_norm"], ["key_match"]),
        node("MatMul", ["key_match", "key_mix"], ["key_profile"]),
        # The chroma read from its best-matching diatonic collection (model.key_features).
        node("MatMul", ["chroma", "diatonic_templates"], ["diatonic_corr"]),
        node("ArgMax", ["diatonic_corr"], ["diatonic_best"], axis=2, keepdims=1),
        node("Add", ["diatonic_best", "pitch_classes"], ["diatonic_index0"]),
        node("Mod", ["diatonic_index0", "twelve"], ["diatonic_index"]),
        node("GatherElements", ["chroma", "diatonic_index"], ["diatonic_chroma"], axis=2),
        node("ReduceSum", ["diatonic_chroma", "last_axis"], ["diatonic_sum0"], keepdims=1),
        node("Add", ["diatonic_sum0", "key_eps"], ["diatonic_sum"]),
        node("Div", ["diatonic_chroma", "diatonic_sum"], ["diatonic_share"]),
        node("Concat", ["key_profile", "diatonic_share"], ["key_raw"], axis=2),
        node("Sub", ["key_raw", "key_mean"], ["key_centred"]),
        node("Mul", ["key_centred", "key_inv_std"], ["key_scaled"]),
        node("Clip", ["key_scaled", "clip_lo", "clip_hi"], ["key_clipped"]),
        node("Concat", ["clipped", "key_clipped"], ["dense_in_x"], axis=2),
        node("MatMul", ["dense_in_x", "w_in"], ["dense_in_mm"]),
        node("Add", ["dense_in_mm", "b_in"], ["dense_in"]),
        node("Tanh", ["dense_in"], ["lstm_in"]),
        node(
            "LSTM",
            ["lstm_in", "lstm_W", "lstm_R", "lstm_B", "", "h", "c"],
            ["lstm_y", "h_out", "c_out"],
            hidden_size=HIDDEN,
        ),
        node("Squeeze", ["lstm_y", "squeeze_axes"], ["lstm_out"]),
        node("MatMul", ["lstm_out", "w_out"], ["dense_out_mm"]),
        node("Add", ["dense_out_mm", "b_out"], ["embedding"]),
        node("Slice", ["embedding", "s0", "s1", "last_axis"], ["valence_raw"]),
        node("Slice", ["embedding", "s1", "s4", "last_axis"], ["ad_conf_raw"]),
        node("Tanh", ["valence_raw"], ["valence"]),
        node("Sigmoid", ["ad_conf_raw"], ["ad_conf"]),
        node("Concat", ["valence", "ad_conf"], ["emotion"], axis=2),
    ]
    graph = b"".join(_bytes(1, n) for n in nodes) + _str(2, "kelly_emotion")
    graph += b"".join(_bytes(5, tensor(k, v)) for k, v in weights.items())
    graph += _bytes(11, value_info("features", ["T", "B", N_FEATURES]))
    graph += _bytes(11, value_info("h", [1, "B", HIDDEN]))
    graph += _bytes(11, value_info("c", [1, "B", HIDDEN]))
    graph += _bytes(12, value_info("emotion", ["T", "B", 4]))
    graph += _bytes(12, value_info("embedding", ["T", "B", N_OUT]))
    graph += _bytes(12, value_info("h_out", [1, "B", HIDDEN]))
    graph += _bytes(12, value_info("c_out", [1, "B", HIDDEN]))
    metadata = {
        "kelly_model": "emotion",
        "model_version": version,
        "feature_layout": str(feature_layout),
        "hidden": str(HIDDEN),
    }
    model = _int(1, IR_VERSION) + _str(2, "kelly-actors training.emotion")
    model += _bytes(8, _str(1, "") + _int(2, OPSET)) + _bytes(7, graph)
    model += b"".join(_bytes(14, _str(1, k) + _str(2, v)) for k, v in metadata.items())
    return model
