"""Messages between the inference actor (ROUTER) and its workers (DEALER).

Frames: ``[header, payload]`` — header a UTF-8 JSON object ``{"w": 1, "type": …}``; payload
raw bytes (float32 arrays or the model file), its size checked against the header. Nothing is
unpickled. Types:

worker → actor: ``hello`` {pid, provider}; ``loaded`` {model}; ``load_failed`` {model,
error}; ``result`` {id, frames} + float32 (frames·4 + 256): emotion rows then h, c;
``varied`` {id} + the notes as JSON; ``failed`` {id, error}.

actor → worker: ``model`` {model} + the emotion model's ONNX bytes; ``transformer``
{model} + the transformer step model's ONNX bytes; ``infer`` {id, model, frames} +
float32 (frames·128 + 256): feature rows then h, c; ``vary`` {id, model} + a
:class:`~kelly_actors.transformer.request.VariationRequest` as JSON.

The composer and the inference actor speak the same framing on the variations socket:
composer → actor ``ask`` {id, deadline_ms} + the request; actor → composer ``varied``
{id} + notes, or ``failed`` {id, error}.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

WIRE_VERSION = 1
HIDDEN = 128
N_FEATURES = 128
MAX_FRAMES = 256
MAX_HEADER = 4096
MAX_PAYLOAD = 64 * 1024 * 1024 + 4096

_FIELDS: dict[str, dict[str, type]] = {
    "hello": {"pid": int, "provider": str},
    "loaded": {"model": str},
    "load_failed": {"model": str, "error": str},
    "result": {"id": int, "frames": int},
    "failed": {"id": int, "error": str},
    "varied": {"id": int},
    "model": {"model": str},
    "transformer": {"model": str},
    "infer": {"id": int, "model": str, "frames": int},
    "vary": {"id": int, "model": str},
    # composer → inference actor
    "ask": {"id": int, "deadline_ms": float},
}


class WireError(ValueError):
    """A message that must not be acted on."""


def encode(type_: str, payload: bytes | np.ndarray | None = None, **fields: Any) -> list[bytes]:
    header = json.dumps({"w": WIRE_VERSION, "type": type_, **fields}, separators=(",", ":"))
    if payload is None:
        return [header.encode()]
    data = payload.tobytes() if isinstance(payload, np.ndarray) else payload
    return [header.encode(), data]


def decode(frames: list[bytes]) -> tuple[str, dict[str, Any], bytes]:
    """(type, fields, payload); WireError when anything is off."""
    if not 1 <= len(frames) <= 2 or len(frames[0]) > MAX_HEADER:
        raise WireError("expected [header] or [header, payload] with a small header")
    try:
        header = json.loads(bytes(frames[0]).decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"header is not JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("w") != WIRE_VERSION:
        raise WireError("header must be an object with w = 1")
    type_ = header.get("type")
    spec = _FIELDS.get(type_)
    if spec is None:
        raise WireError(f"unknown message type {type_!r}")
    fields = {k: v for k, v in header.items() if k not in ("w", "type")}
    if set(fields) != set(spec):
        raise WireError(f"{type_}: fields {sorted(fields)}, expected {sorted(spec)}")
    for name, kind in spec.items():
        value = fields[name]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise WireError(f"{type_}: field {name!r} must be {kind.__name__}")
    payload = bytes(frames[1]) if len(frames) == 2 else b""
    if len(payload) > MAX_PAYLOAD:
        raise WireError(f"{type_}: payload of {len(payload)} bytes is too large")
    n = fields.get("frames")
    if n is not None and not 1 <= n <= MAX_FRAMES:
        raise WireError(f"{type_}: frames must be 1–{MAX_FRAMES}")
    width = {"infer": N_FEATURES, "result": 4}.get(type_)
    if width is not None and len(payload) != 4 * (n * width + 2 * HIDDEN):
        raise WireError(
            f"{type_}: payload has {len(payload)} bytes, expected {4 * (n * width + 2 * HIDDEN)}"
        )
    return type_, fields, payload


def pack(rows: np.ndarray, h: np.ndarray, c: np.ndarray) -> np.ndarray:
    """float32 rows (n, width) + h, c (128 each) → one flat float32 array."""
    return np.concatenate([rows.reshape(-1), h.reshape(-1), c.reshape(-1)]).astype(np.float32)


def unpack(payload: bytes, n: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`pack`: rows (n, width), h (1, 1, 128), c (1, 1, 128)."""
    flat = np.frombuffer(payload, np.float32)
    rows = flat[: n * width].reshape(n, width)
    h = flat[n * width : n * width + HIDDEN].reshape(1, 1, HIDDEN)
    c = flat[n * width + HIDDEN :].reshape(1, 1, HIDDEN)
    return rows, h, c
