"""The control-plane schema: round trips, and every kind of bad message refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_actors.bus import messages
from kelly_actors.bus.messages import ProtocolError


def _frame(obj: object) -> bytes:
    return json.dumps(obj).encode()


def test_a_request_survives_encoding_and_decoding() -> None:
    msg = messages.make("request", id="1", cmd="status", args={"x": [1, 2]})
    back = messages.decode(messages.encode(msg))
    assert back.type == "request"
    assert back.fields == {"id": "1", "cmd": "status", "args": {"x": [1, 2]}}


def test_an_array_travels_raw_in_a_second_frame() -> None:
    block = np.arange(512, dtype=np.float32).reshape(256, 2)
    msg = messages.make("status", array=block, snapshot={})
    frames = messages.encode(msg)
    assert len(frames) == 2 and len(frames[1]) == block.nbytes
    np.testing.assert_array_equal(messages.decode(frames).array, block)


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ([], "malformed"),
        ([b"{}", b"", b""], "malformed"),
        ([b"\xff\xfe not utf8"], "malformed"),
        ([b'{"v": 1, "type": "request", "id": "1", "cmd"'], "malformed"),
        ([b"[1, 2]"], "malformed"),
        ([_frame({"type": "request", "id": "1", "cmd": "x"})], "version"),
        ([_frame({"v": 2, "type": "request", "id": "1", "cmd": "x"})], "version"),
        ([_frame({"v": 1, "type": "launch_missiles"})], "unknown_type"),
        ([_frame({"v": 1, "type": "request", "id": "1"})], "invalid"),
        ([_frame({"v": 1, "type": "request", "id": 1, "cmd": "x"})], "invalid"),
        ([_frame({"v": 1, "type": "request", "id": "1", "cmd": "x", "extra": 1})], "invalid"),
        (
            [_frame({"v": 1, "type": "ready", "actor": "a", "incarnation": True, "pid": 1})],
            "invalid",
        ),
        ([b" " * (messages.MAX_HEADER_BYTES + 1)], "oversize"),
        (
            [
                _frame(
                    {
                        "v": 1,
                        "type": "status",
                        "snapshot": {},
                        "array": {"dtype": "float32", "shape": [4]},
                    }
                ),
                b"123",
            ],
            "invalid",
        ),
        (
            [
                _frame(
                    {
                        "v": 1,
                        "type": "status",
                        "snapshot": {},
                        "array": {"dtype": "object", "shape": [1]},
                    }
                ),
                b"1234",
            ],
            "invalid",
        ),
        (
            [
                _frame(
                    {
                        "v": 1,
                        "type": "status",
                        "snapshot": {},
                        "array": {"dtype": "uint8", "shape": [2**40]},
                    }
                ),
                b"1",
            ],
            "oversize",
        ),
        ([_frame({"v": 1, "type": "status", "snapshot": {}}), b"stray"], "malformed"),
    ],
)
def test_a_bad_message_is_refused_with_a_code(frames: list[bytes], code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        messages.decode(frames)
    assert info.value.code == code
    assert str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=0, max_size=3))
def test_random_bytes_never_raise_anything_but_a_protocol_error(frames: list[bytes]) -> None:
    try:
        messages.decode(frames)
    except ProtocolError:
        pass


def test_building_a_message_that_breaks_its_schema_fails_early() -> None:
    with pytest.raises(ProtocolError, match="missing field 'cmd'"):
        messages.make("request", id="1")
