"""Every ZeroMQ message in the project, in one place: schema, encoding, validation.

Wire format: a ZeroMQ multipart message ``[header]`` or ``[header, array]``.
The header is a UTF-8 JSON object ``{"v": 1, "type": TYPE, …fields}``; an
array travels raw in the second frame, described by the header's ``array``
field ``{"dtype": "float32", "shape": [256, 2]}``. Nothing is ever unpickled
from a socket. :func:`decode` checks size, JSON, version, type, every field's
presence and type, and the array's byte count, and raises
:class:`ProtocolError` with a machine-readable code otherwise.

Three conversations share this framing: the control plane (supervisor, actors,
consoles), the inference actor and its workers (``infer``/``result``, ``vary``/``varied``,
models as bytes), and the composer asking the inference actor for a bar's variation
(``ask``/``varied``/``failed``). The types of the last two carry a fixed second frame
(:data:`BODIES`): raw bytes travel as a ``uint8`` array, a stream's frames and LSTM state
as one flat ``float32`` array (:func:`pack_rows`).

See ``docs/protocol.md`` for every message with an example.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kelly_actors.bus.frames import N_FEATURES, STATE_SIZE

PROTOCOL_VERSION = 1
MAX_HEADER_BYTES = 64 * 1024
MAX_ARRAY_BYTES = 16 * 1024 * 1024
# Hard cap for ZMQ_MAXMSGSIZE: beyond it libzmq drops the peer before we see a byte.
SOCKET_MAX_MESSAGE_BYTES = MAX_ARRAY_BYTES + MAX_HEADER_BYTES
ARRAY_DTYPES = frozenset({"float32", "float64", "int16", "int32", "int64", "uint8"})
#: Largest model file sent to a worker (the shipped emotion model is ~0.6 MB).
MAX_MODEL_BYTES = 64 * 1024 * 1024
#: Most feature frames in one ``infer`` request (and estimates in its ``result``).
MAX_FRAMES = 256

_Spec = dict[str, tuple[type | tuple[type, ...], bool]]

SCHEMAS: dict[str, _Spec] = {
    # client → supervisor (ROUTER "control")
    "request": {"id": (str, True), "cmd": (str, True), "args": (dict, False)},
    # supervisor → client, and actor → supervisor answering a "call"
    "reply": {
        "id": (str, True),
        "ok": (bool, True),
        "result": (dict, False),
        "error": (dict, False),
    },
    # actor → supervisor (ROUTER "actors")
    "ready": {"actor": (str, True), "incarnation": (int, True), "pid": (int, True)},
    "heartbeat": {"actor": (str, True), "incarnation": (int, True), "telemetry": (dict, True)},
    "state": {"actor": (str, True), "incarnation": (int, True), "state": (dict, True)},
    "health": {
        "actor": (str, True),
        "incarnation": (int, True),
        "degraded": (bool, True),
        "reason": (str, True),
    },
    "event": {
        "actor": (str, True),
        "incarnation": (int, True),
        "event": (str, True),
        "detail": (dict, False),
    },
    # actor → supervisor: restart the writer of ``ring`` (commanded, not a crash)
    "replace": {
        "actor": (str, True),
        "incarnation": (int, True),
        "ring": (str, True),
        "reason": (str, True),
    },
    # supervisor → actor
    "call": {"id": (str, True), "method": (str, True), "args": (dict, False)},
    # supervisor PUB (topic frame first: b"status" or b"event")
    "status": {"snapshot": (dict, True)},
    "log": {"time": (float, True), "event": (str, True), "detail": (dict, False)},
    # inference actor PUB (topic frame b"estimate") → composer SUB
    "estimate": {
        "valence": (float, True),
        "arousal": (float, True),
        "dominance": (float, True),
        "confidence": (float, True),
        "time": (float, True),
        "sample_time": (int, True),
        "model_version": (str, True),
        "degraded": (bool, True),
        # the input stream (an ensemble's performer, audio_in's column); absent = 0
        "stream": (int, False),
    },
    # inference worker → actor (DEALER → ROUTER)
    "hello": {"pid": (int, True), "provider": (str, True)},
    "loaded": {"model": (str, True)},
    "load_failed": {"model": (str, True), "error": (str, True)},
    "result": {"id": (int, True), "frames": (int, True)},
    # worker → actor, and actor → composer on the variations socket
    "varied": {"id": (int, True)},
    "failed": {"id": (int, True), "error": (str, True)},
    # inference actor → worker
    "model": {"model": (str, True)},
    "transformer": {"model": (str, True)},
    "infer": {"id": (int, True), "model": (str, True), "frames": (int, True)},
    "vary": {"id": (int, True), "model": (str, True)},
    # composer → inference actor (DEALER → ROUTER "variations")
    "ask": {"id": (int, True), "deadline_ms": (float, True)},
}


@dataclass(frozen=True)
class Body:
    """The second frame a message type must carry: a 1-D array of ``dtype``.

    ``row_width``: the array is ``frames`` rows of that width then the state ``h``, ``c``
    (:data:`~kelly_actors.bus.frames.STATE_SIZE` each), all float32 (:func:`pack_rows`).
    """

    dtype: str
    max_bytes: int = MAX_ARRAY_BYTES
    row_width: int | None = None


BODIES: dict[str, Body] = {
    "model": Body("uint8", MAX_MODEL_BYTES),  # the emotion model's ONNX file
    "transformer": Body("uint8", MAX_MODEL_BYTES),  # the transformer step model's ONNX file
    "infer": Body("float32", row_width=N_FEATURES),  # feature rows, h, c
    "result": Body("float32", row_width=4),  # (valence, arousal, dominance, confidence), h, c
    "vary": Body("uint8"),  # a VariationRequest as JSON
    "ask": Body("uint8"),  # a VariationRequest as JSON
    "varied": Body("uint8"),  # the notes as JSON
}

_ENVELOPE = {"v", "type", "array"}


class ProtocolError(ValueError):
    """A message that must not be acted on.

    Attributes:
        code: ``malformed`` | ``oversize`` | ``version`` | ``unknown_type`` | ``invalid``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def as_error(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self)}


@dataclass(frozen=True)
class Message:
    """A validated message: its ``type``, its fields and an optional array."""

    type: str
    fields: dict[str, Any] = field(default_factory=dict)
    array: np.ndarray | None = None

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    @property
    def body(self) -> bytes:
        """The second frame as bytes (a model file, JSON): b"" when there is none."""
        return b"" if self.array is None else self.array.tobytes()


def make(type_: str, array: np.ndarray | bytes | None = None, **fields: Any) -> Message:
    """Build a message, checking it against its schema (catches our own bugs early).

    ``array`` given as ``bytes`` travels as a uint8 array (a model file, JSON).
    """
    _check_fields(type_, fields)
    if isinstance(array, bytes | bytearray | memoryview):
        array = np.frombuffer(array, np.uint8)
    return Message(type_, fields, array)


def frames_of(type_: str, array: np.ndarray | bytes | None = None, **fields: Any) -> list[bytes]:
    """``encode(make(type_, array, **fields))``: the frames of a new message."""
    return encode(make(type_, array, **fields))


def encode(message: Message) -> list[bytes]:
    """Frames for ``socket.send_multipart``."""
    header: dict[str, Any] = {"v": PROTOCOL_VERSION, "type": message.type, **message.fields}
    frames = []
    if message.array is not None:
        array = np.ascontiguousarray(message.array)
        header["array"] = {"dtype": array.dtype.name, "shape": list(array.shape)}
        frames = [array.tobytes()]
    data = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    if len(data) > MAX_HEADER_BYTES:
        raise ProtocolError("oversize", f"header of {len(data)} bytes > {MAX_HEADER_BYTES}")
    return [data, *frames]


def decode(frames: list[bytes]) -> Message:
    """Parse and validate received frames; raise :class:`ProtocolError` if bad."""
    if not frames or len(frames) > 2:
        raise ProtocolError("malformed", f"expected 1 or 2 frames, got {len(frames)}")
    raw = frames[0]
    if len(raw) > MAX_HEADER_BYTES:
        raise ProtocolError("oversize", f"header of {len(raw)} bytes > {MAX_HEADER_BYTES}")
    try:
        header = json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError("malformed", f"header is not UTF-8 JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ProtocolError("malformed", "header must be a JSON object")
    version = header.get("v")
    if version != PROTOCOL_VERSION:
        raise ProtocolError("version", f"protocol version {version!r}, expected {PROTOCOL_VERSION}")
    type_ = header.get("type")
    if type_ not in SCHEMAS:
        raise ProtocolError("unknown_type", f"unknown message type {type_!r}")
    fields = {k: v for k, v in header.items() if k not in _ENVELOPE}
    _check_fields(type_, fields)
    array = _decode_array(
        header.get("array"),
        frames[1] if len(frames) == 2 else None,
        BODIES[type_].max_bytes if type_ in BODIES else MAX_ARRAY_BYTES,
    )
    if type_ in BODIES:
        _check_body(type_, fields, array, BODIES[type_])
    return Message(type_, fields, array)


def _check_fields(type_: str, fields: dict[str, Any]) -> None:
    schema = SCHEMAS.get(type_)
    if schema is None:
        raise ProtocolError("unknown_type", f"unknown message type {type_!r}")
    for name, (kind, required) in schema.items():
        if name not in fields:
            if required:
                raise ProtocolError("invalid", f"{type_}: missing field {name!r}")
            continue
        value = fields[name]
        # bool is an int in Python; an int field must not accept True.
        wrong_bool = isinstance(value, bool) and kind in (int, float)
        accepted = (int, float) if kind is float else kind
        if wrong_bool or not isinstance(value, accepted):
            raise ProtocolError("invalid", f"{type_}: field {name!r} has the wrong type")
    extra = set(fields) - set(schema)
    if extra:
        raise ProtocolError("invalid", f"{type_}: unknown fields {sorted(extra)}")


def _check_body(type_: str, fields: dict[str, Any], array: np.ndarray | None, body: Body) -> None:
    if array is None or array.ndim != 1 or array.dtype != body.dtype:
        raise ProtocolError("invalid", f"{type_}: needs a 1-D {body.dtype} array")
    if body.row_width is None:
        return
    n = fields["frames"]
    if not 1 <= n <= MAX_FRAMES:
        raise ProtocolError("invalid", f"{type_}: frames must be 1–{MAX_FRAMES}, got {n}")
    expected = n * body.row_width + 2 * STATE_SIZE
    if array.size != expected:
        raise ProtocolError(
            "invalid", f"{type_}: array has {array.size} values, expected {expected}"
        )


def _decode_array(desc: Any, payload: bytes | None, max_bytes: int) -> np.ndarray | None:
    if desc is None and payload is None:
        return None
    if desc is None or payload is None:
        raise ProtocolError("malformed", "array description and array frame must come together")
    if not isinstance(desc, dict) or set(desc) != {"dtype", "shape"}:
        raise ProtocolError("invalid", "array must be {dtype, shape}")
    dtype, shape = desc["dtype"], desc["shape"]
    if dtype not in ARRAY_DTYPES:
        raise ProtocolError("invalid", f"array dtype {dtype!r} not allowed")
    if (
        not isinstance(shape, list)
        or len(shape) > 8
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        raise ProtocolError("invalid", "array shape must be a list of ≤ 8 non-negative ints")
    expected = math.prod(shape) * np.dtype(dtype).itemsize
    if expected > max_bytes:
        raise ProtocolError("oversize", f"array of {expected} bytes > {max_bytes}")
    if len(payload) != expected:
        raise ProtocolError("invalid", f"array frame has {len(payload)} bytes, expected {expected}")
    return np.frombuffer(payload, dtype=dtype).reshape(shape).copy()


def error_reply(request_id: str, error: ProtocolError | dict[str, str]) -> Message:
    """A failed ``reply`` carrying ``{"code", "message"}``."""
    payload = error.as_error() if isinstance(error, ProtocolError) else error
    return make("reply", id=request_id, ok=False, error=payload)


def ok_reply(request_id: str, result: dict[str, Any] | None = None) -> Message:
    return make("reply", id=request_id, ok=True, result=result or {})


def pack_rows(rows: np.ndarray, h: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Rows float32 (n, width) and the state ``h``, ``c`` (STATE_SIZE values each) → one
    flat float32 array (n·width + 2·STATE_SIZE,): the body of ``infer`` and ``result``."""
    return np.concatenate([rows.reshape(-1), h.reshape(-1), c.reshape(-1)]).astype(np.float32)


def unpack_rows(flat: np.ndarray, n: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`pack_rows`: views rows (n, width), h and c (1, 1, STATE_SIZE)."""
    rows = flat[: n * width].reshape(n, width)
    h = flat[n * width : n * width + STATE_SIZE].reshape(1, 1, STATE_SIZE)
    c = flat[n * width + STATE_SIZE :].reshape(1, 1, STATE_SIZE)
    return rows, h, c
