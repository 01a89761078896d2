"""The worker protocol: what goes out comes back, and broken messages are refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kelly_actors.inference import wire


def test_an_infer_request_round_trips_frames_and_state() -> None:
    rows = np.arange(3 * 128, dtype=np.float32).reshape(3, 128)
    h, c = np.full(128, 0.5, np.float32), np.full(128, -0.5, np.float32)
    frames = wire.encode("infer", wire.pack(rows, h, c), id=7, model="m", frames=3)
    type_, fields, payload = wire.decode(frames)
    assert (type_, fields) == ("infer", {"id": 7, "model": "m", "frames": 3})
    r, h2, c2 = wire.unpack(payload, 3, 128)
    assert np.array_equal(r, rows) and np.all(h2 == 0.5) and np.all(c2 == -0.5)


@pytest.mark.parametrize(
    ("frames", "reason"),
    [
        ([b"not json"], "not JSON"),
        ([json.dumps({"w": 2, "type": "hello"}).encode()], "w = 1"),
        ([json.dumps({"w": 1, "type": "shell", "cmd": "rm"}).encode()], "unknown message type"),
        ([json.dumps({"w": 1, "type": "hello", "pid": "x", "provider": "cpu"}).encode()], "int"),
        (wire.encode("infer", b"\0" * 12, id=1, model="m", frames=1), "expected"),
        (wire.encode("infer", b"", id=1, model="m", frames=0), "frames must be"),
    ],
)
def test_a_broken_message_is_refused_with_the_reason(frames, reason) -> None:
    with pytest.raises(wire.WireError, match=reason):
        wire.decode(frames)
