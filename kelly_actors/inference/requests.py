"""What the worker pool is asked and what it answers, and their messages to a worker.

Two kinds of request: ``infer`` (emotion frames of a stream with its LSTM state, see
:mod:`kelly_actors.bus.messages` ``infer``/``result``) and ``vary`` (one bar's transformer
variation, a self-contained JSON request answered by ``varied``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kelly_actors.bus import messages

#: The stream number of transformer variations (emotion streams are 0 and up).
VARIATIONS = -1
#: The worker's answer to each kind of request.
ANSWER = {"infer": "result", "vary": "varied"}
#: Values per estimate row of a ``result``: valence, arousal, dominance, confidence.
ESTIMATE_WIDTH = 4


@dataclass
class Request:
    """``infer``: ``frames`` float32 (n, N_FEATURES) of one stream, its state ``h``/``c``
    float32 (1, 1, STATE_SIZE). ``vary``: ``payload`` the JSON variation request (stream
    :data:`VARIATIONS`). ``deadline`` and ``sent_at`` are monotonic seconds."""

    id: int
    stream: int
    frames: np.ndarray | None
    h: np.ndarray | None
    c: np.ndarray | None
    model: str
    deadline: float
    tag: Any = None
    attempts: int = 0
    sent_at: float = 0.0
    kind: str = "infer"
    payload: bytes = b""


@dataclass
class Result:
    """``emotion`` float32 (n, 4) and the new state, or ``ok`` False with ``reason``
    (``late`` — state still valid, estimates stale; ``expired`` — nothing came back)."""

    request: Request
    ok: bool
    reason: str = ""
    emotion: np.ndarray | None = None
    h: np.ndarray | None = None
    c: np.ndarray | None = None
    payload: bytes = b""  # the answer as received (``vary``: the notes as JSON)


def request_frames(req: Request) -> list[bytes]:
    """The message that asks a worker to serve ``req``."""
    if req.kind == "vary":
        return messages.frames_of("vary", req.payload, id=req.id, model=req.model)
    body = messages.pack_rows(req.frames, req.h, req.c)
    return messages.frames_of("infer", body, id=req.id, model=req.model, frames=len(req.frames))


def answered(req: Request, answer: messages.Message, late: bool) -> Result:
    """The result of ``req`` from its worker's ``result`` or ``varied`` message."""
    result = Result(req, not late, "late" if late else "", payload=answer.body)
    if req.kind == "infer":
        emotion, h, c = messages.unpack_rows(answer.array, answer["frames"], ESTIMATE_WIDTH)
        result.emotion, result.h, result.c = emotion.copy(), h.copy(), c.copy()
    return result
