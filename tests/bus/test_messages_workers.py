"""The inference worker protocol in the one framing: what goes out comes back, and broken
messages are refused with the reason."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kelly_actors.bus import messages
from kelly_actors.bus.frames import N_FEATURES, STATE_SIZE
from kelly_actors.bus.messages import ProtocolError


def _header(obj: dict) -> bytes:
    return json.dumps(obj).encode()


def test_an_infer_request_round_trips_frames_and_state() -> None:
    rows = np.arange(3 * N_FEATURES, dtype=np.float32).reshape(3, N_FEATURES)
    h, c = np.full(STATE_SIZE, 0.5, np.float32), np.full(STATE_SIZE, -0.5, np.float32)
    frames = messages.frames_of("infer", messages.pack_rows(rows, h, c), id=7, model="m", frames=3)
    msg = messages.decode(frames)
    assert (msg.type, msg.fields) == ("infer", {"id": 7, "model": "m", "frames": 3})
    r, h2, c2 = messages.unpack_rows(msg.array, 3, N_FEATURES)
    assert np.array_equal(r, rows) and np.all(h2 == 0.5) and np.all(c2 == -0.5)
    assert h2.shape == c2.shape == (1, 1, STATE_SIZE)


def test_bytes_travel_unchanged_as_the_second_frame() -> None:
    model = bytes(range(256)) * 3
    msg = messages.decode(messages.frames_of("model", model, model="emotion-1"))
    assert msg.body == model and msg["model"] == "emotion-1"


@pytest.mark.parametrize(
    ("frames", "code", "reason"),
    [
        ([b"not json"], "malformed", "not UTF-8 JSON"),
        ([_header({"v": 2, "type": "hello", "pid": 1, "provider": "cpu"})], "version", "1"),
        ([_header({"v": 1, "type": "shell", "cmd": "rm"})], "unknown_type", "unknown"),
        (
            [_header({"v": 1, "type": "hello", "pid": "x", "provider": "cpu"})],
            "invalid",
            "wrong type",
        ),
        (
            messages.frames_of("infer", np.zeros(3, np.float32), id=1, model="m", frames=1),
            "invalid",
            "expected",
        ),
        (
            messages.frames_of("infer", np.zeros(3, np.float32), id=1, model="m", frames=0),
            "invalid",
            "frames must be",
        ),
        ([_header({"v": 1, "type": "model", "model": "m"})], "invalid", "uint8 array"),
        (
            messages.frames_of("vary", np.zeros(3, np.float32), id=1, model="m"),
            "invalid",
            "uint8 array",
        ),
        (
            [
                _header(
                    {
                        "v": 1,
                        "type": "model",
                        "model": "m",
                        "array": {"dtype": "uint8", "shape": [messages.MAX_MODEL_BYTES + 1]},
                    }
                ),
                b"x",
            ],
            "oversize",
            "bytes >",
        ),
    ],
)
def test_a_broken_message_is_refused_with_the_reason(frames, code, reason) -> None:
    with pytest.raises(ProtocolError, match=reason) as info:
        messages.decode(frames)
    assert info.value.code == code


def test_a_model_larger_than_a_control_array_is_accepted() -> None:
    model = b"\0" * (messages.MAX_ARRAY_BYTES + 1)
    assert len(messages.decode(messages.frames_of("model", model, model="m")).body) == len(model)
