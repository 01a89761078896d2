"""Malformed OSC packets, each of which the OSC actor must refuse exactly once.

Every kind the issue names is here — wrong types, truncated packets, bundles with bad time
tags, 64 KiB of garbage — and the others a broken or hostile sender makes: unknown type
tags, strings that are not UTF-8, bad padding, blob and bundle-element sizes that lie,
bundles nested too deep, unknown addresses, numbers that are not finite. A packet that
Kelly would take is never produced (a truncation stops short of a whole message; a bundle
holds one bad element), so "refused" must equal "received".
"""

from __future__ import annotations

import random
import struct
import time
from collections.abc import Callable

from osc_support import build

from kelly_actors.osc.wire import MAX_DEPTH, NTP_UNIX_OFFSET

#: Largest UDP payload over IPv4: "64 KiB of garbage".
MAX_UDP = 65_507

VALID = [
    build("/kelly/emotion", 0.5, 0.8, 0.7),
    build("/kelly/feel", "I feel calm and a little hopeful"),
    build("/kelly/lock", "arousal"),
    build("/kelly/load_model", "ddsp", "/models/ddsp-cello.onnx"),
    build("/kelly/call", "composer", "panic", "{}"),
]


def _timetag(unix: float) -> bytes:
    return struct.pack(">II", int(unix) + NTP_UNIX_OFFSET, int(unix % 1 * 2**32))


def _bundle(timetag: bytes, *elements: bytes) -> bytes:
    body = b"".join(struct.pack(">i", len(e)) + e for e in elements)
    return b"#bundle\x00" + timetag + body


def garbage(rng: random.Random) -> bytes:
    """Random bytes (1 in 40 the largest datagram there is), not starting like OSC."""
    size = MAX_UDP if rng.random() < 0.025 else rng.randint(1, 1500)
    return b"\xff" + rng.randbytes(size - 1)


def truncated(rng: random.Random) -> bytes:
    """A valid message cut after its type tags begin: always short of an argument."""
    dgram = rng.choice(VALID)
    return dgram[: rng.randint(dgram.index(b",") + 1, len(dgram) - 1)]


def wrong_types(rng: random.Random) -> bytes:
    return rng.choice(
        [
            build("/kelly/emotion", "high", "low", "mid"),
            build("/kelly/emotion", 0.5, 0.5),
            build("/kelly/feel", 42),
            build("/kelly/lock", 1.0),
            build("/kelly/panic", "now"),
            build("/kelly/restart", b"\x01\x02"),
            build("/kelly/load_model", "ddsp"),
            build("/kelly/subscribe", "me"),
        ]
    )


def bad_timetag(rng: random.Random) -> bytes:
    now = time.time()
    inner = _bundle(_timetag(now + 1), build("/kelly/panic"))
    return rng.choice(
        [
            _bundle(b"\x00" * 8, build("/kelly/panic")),
            _bundle(_timetag(now + 86_400 * rng.randint(1, 1000)), build("/kelly/panic")),
            _bundle(b"\xff" * 8, build("/kelly/ping")),
            _bundle(_timetag(now + 5), inner),
        ]
    )


def broken(rng: random.Random) -> bytes:
    """Well-framed but wrong inside: type tags, strings, padding, sizes, nesting."""
    deep, past = build("/kelly/panic"), _timetag(time.time() - 1)
    for _ in range(MAX_DEPTH + 1):
        deep = _bundle(past, deep)
    return rng.choice(
        [
            b"/kelly/panic\x00\x00\x00\x00,x\x00\x00",
            b"/kelly/panic\x00\x00\x00\x00,[i]\x00\x00\x00\x00\x00\x00\x00\x01",
            b"/kelly/feel\x00,s\x00\x00\xc3\x28\x00\x00",
            b"/kelly/panic\x00\x07\x00\x00",
            b"/kelly/feel\x00,b\x00\x00\x7f\xff\xff\xffabcd",
            b"/kelly/feel\x00,b\x00\x00\xff\xff\xff\xf0",
            _bundle(_timetag(time.time()), b"\xff\xff\xff\xff"),
            b"#bundle\x00" + _timetag(time.time()) + b"\x7f\xff\xff\xf0" + build("/kelly/ping"),
            b"#bundle\x00\x00\x00",
            b"/a b\x00\x00\x00\x00",
            deep,
        ]
    )


def refused_commands(rng: random.Random) -> bytes:
    """Whole messages Kelly does not take: unknown addresses, numbers not finite."""
    return rng.choice(
        [
            build("/kelly/scene", "chorus"),
            build("/kelly/stop"),
            build("/nothing/here", 1),
            build("/kelly/emotion", float("nan"), 0.5, 0.5),
            build("/kelly/emotion", 0.5, float("inf"), 0.5),
            build("/kelly/feel", "x" * 5000),
            build("/kelly/call", "composer", "feel", '{"a":' * 2000 + "1" + "}" * 2000),
        ]
    )


KINDS: list[Callable[[random.Random], bytes]] = [
    garbage,
    truncated,
    wrong_types,
    bad_timetag,
    broken,
    refused_commands,
]


def packets(n: int, seed: int = 14) -> list[bytes]:
    """``n`` malformed packets, the kinds taking turns."""
    rng = random.Random(seed)
    return [KINDS[i % len(KINDS)](rng) for i in range(n)]
