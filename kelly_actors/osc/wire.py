"""OSC 1.0 packets: a strict decoder for what arrives, python-osc's builder for what leaves.

Why a decoder of our own rather than python-osc's parser: a UDP port takes whatever
anyone sends, and python-osc's parser is written for well-behaved peers. It logs a
warning through the root logger for every unknown type tag and then skips the argument
(so ``/kelly/panic ,x`` would pass as ``/kelly/panic``), lets ``UnicodeDecodeError``
escape from a string that is not UTF-8, pads a truncated float with zeros, copies the
rest of the packet for every integer it reads (quadratic in a 64 KiB bundle of small
elements) and recurses without a limit into nested bundles. This decoder reads one copy
of the packet by offset (``bytes.find``, ``struct.unpack_from``), checks padding, lengths
and type tags, limits nesting to :data:`MAX_DEPTH`, never logs and raises one exception
type, :class:`OscError`, whose ``kind`` is what the actor counts. ``tests/osc`` decodes
python-osc's own packets with it, argument for argument.

Time tags: ``1`` means "immediately"; any other is NTP time (seconds since 1900 in the
high 32 bits, the fraction in the low ones). ``0`` is not a time and is refused, as is a
time tag further ahead than the horizon the caller gives, or a nested bundle timed before
the bundle around it (OSC 1.0 forbids that). A time in the past means "now".
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

#: Refusal kinds the decoder raises (the actor adds its own; see ``docs/osc.md``).
MALFORMED = "malformed"
BAD_TIMETAG = "bad_timetag"

#: Bundles inside bundles, at most.
MAX_DEPTH = 4
#: Seconds between the NTP epoch (1900) and the Unix epoch (1970).
NTP_UNIX_OFFSET = 2_208_988_800
IMMEDIATELY = 1

_BUNDLE = b"#bundle\x00"
_I32 = struct.Struct(">i")
_U64 = struct.Struct(">Q")
_FIXED = {
    "i": struct.Struct(">i"),
    "f": struct.Struct(">f"),
    "h": struct.Struct(">q"),
    "d": struct.Struct(">d"),
    "t": struct.Struct(">Q"),
    "r": struct.Struct(">I"),
    "c": struct.Struct(">I"),
    "m": struct.Struct(">4B"),
}
_CONSTANT = {"T": True, "F": False, "N": None, "I": None}


class OscError(ValueError):
    """A packet that is not (acceptable) OSC. ``kind``: :data:`MALFORMED` or
    :data:`BAD_TIMETAG`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Message:
    """One OSC message: its address, its type tags (without the comma) and arguments
    (``i h`` int, ``f d`` float, ``s S c`` str, ``b`` bytes, ``T F`` bool, ``N I`` None,
    ``t r`` int, ``m`` a 4-tuple)."""

    address: str
    tags: str
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Timed:
    """A message and when to act on it: ``at`` in Unix seconds, None for now."""

    at: float | None
    message: Message


def decode(packet: bytes | bytearray | memoryview, now: float, horizon_s: float) -> list[Timed]:
    """The messages of one UDP datagram, in packet order.

    ``now``: Unix seconds; ``horizon_s``: how far ahead a bundle may be timed.
    Raises :class:`OscError` for anything that is not a whole, well-formed packet.
    """
    data = bytes(packet)  # one copy; every read below is by offset, none copies the rest
    if data[:1] == b"/":
        return [Timed(None, _message(data, 0, len(data)))]
    if data[:8] == _BUNDLE:
        out: list[Timed] = []
        _bundle(data, 0, len(data), now, horizon_s, None, 1, out)
        return out
    raise OscError(MALFORMED, "neither an OSC message ('/…') nor a bundle ('#bundle')")


def _bundle(
    data: bytes,
    start: int,
    end: int,
    now: float,
    horizon: float,
    outer: float | None,
    depth: int,
    out: list[Timed],
) -> None:
    if depth > MAX_DEPTH:
        raise OscError(MALFORMED, f"bundles nested deeper than {MAX_DEPTH}")
    if end - start < 16:
        raise OscError(MALFORMED, "truncated bundle: no room for its time tag")
    at = _timetag(_U64.unpack_from(data, start + 8)[0], now, horizon)
    if at is None:
        at = outer  # "immediately" inside a timed bundle: with that bundle
    elif outer is not None and at < outer:
        raise OscError(BAD_TIMETAG, "a nested bundle is timed before the bundle around it")
    due = at if at is not None and at > now else None
    index = start + 16
    while index < end:
        if index + 4 > end:
            raise OscError(MALFORMED, "truncated bundle: an element size is cut off")
        (size,) = _I32.unpack_from(data, index)
        index += 4
        if size <= 0 or size % 4 or index + size > end:
            raise OscError(MALFORMED, f"bundle element of {size} bytes does not fit the packet")
        first = data[index : index + 1]
        if first == b"/":
            out.append(Timed(due, _message(data, index, index + size)))
        elif data.startswith(_BUNDLE, index, index + size):
            _bundle(data, index, index + size, now, horizon, at, depth + 1, out)
        else:
            raise OscError(MALFORMED, "a bundle element is neither a message nor a bundle")
        index += size


def _timetag(raw: int, now: float, horizon: float) -> float | None:
    """None for "immediately", else Unix seconds (perhaps already past)."""
    if raw == IMMEDIATELY:
        return None
    if raw == 0:
        raise OscError(BAD_TIMETAG, "time tag 0 is not a time")
    at = (raw >> 32) - NTP_UNIX_OFFSET + (raw & 0xFFFFFFFF) / 2**32
    if at > now + horizon:
        raise OscError(BAD_TIMETAG, f"time tag {at - now:.0f} s ahead (horizon {horizon:g} s)")
    return at


def _string(data: bytes, index: int, end: int, what: str) -> tuple[str, int]:
    """A NUL-terminated string padded with NULs to a multiple of 4 bytes."""
    nul = data.find(b"\x00", index, end)
    if nul < 0:
        raise OscError(MALFORMED, f"truncated {what}: no terminating NUL")
    padded = index + ((nul - index) // 4 + 1) * 4
    if padded > end:
        raise OscError(MALFORMED, f"truncated {what}: padding cut off")
    if data.count(0, nul, padded) != padded - nul:
        raise OscError(MALFORMED, f"{what} padding is not NUL")
    try:
        return data[index:nul].decode("utf-8"), padded
    except UnicodeDecodeError:
        raise OscError(MALFORMED, f"{what} is not UTF-8") from None


def _message(data: bytes, start: int, end: int) -> Message:
    address, index = _string(data, start, end, "address")
    if len(address) < 2 or any(c in address for c in " #,"):
        raise OscError(MALFORMED, f"bad address {address[:64]!r}")
    if index == end:
        return Message(address, "", ())  # OSC 1.0 lets old senders omit the type tags
    if data[index : index + 1] != b",":
        raise OscError(MALFORMED, "the type tag string does not start with ','")
    tags, index = _string(data, index, end, "type tag string")
    tags = tags[1:]
    args: list[Any] = []
    for tag in tags:
        if tag in _CONSTANT:
            args.append(_CONSTANT[tag])
        elif tag in ("s", "S"):
            text, index = _string(data, index, end, "string argument")
            args.append(text)
        elif tag == "b":
            blob, index = _blob(data, index, end)
            args.append(blob)
        elif tag in _FIXED:
            fmt = _FIXED[tag]
            if index + fmt.size > end:
                raise OscError(MALFORMED, f"truncated message: argument '{tag}' cut off")
            raw = fmt.unpack_from(data, index)
            index += fmt.size
            args.append(_fixed(tag, raw))
        else:
            raise OscError(MALFORMED, f"unsupported type tag {tag!r}")
    if index != end:
        raise OscError(MALFORMED, f"{end - index} bytes after the last argument")
    return Message(address, tags, tuple(args))


def _fixed(tag: str, raw: tuple[Any, ...]) -> Any:
    if tag == "m":
        return raw
    if tag == "c":
        if raw[0] >= 0x110000:
            raise OscError(MALFORMED, f"char argument {raw[0]} is not a character")
        return chr(raw[0])
    return raw[0]


def _blob(data: bytes, index: int, end: int) -> tuple[bytes, int]:
    if index + 4 > end:
        raise OscError(MALFORMED, "truncated blob size")
    (size,) = _I32.unpack_from(data, index)
    index += 4
    padded = index + size + (-size % 4)
    if size < 0 or padded > end:
        raise OscError(MALFORMED, f"blob of {size} bytes does not fit the packet")
    return data[index : index + size], padded


def encode(address: str, *args: Any) -> bytes:
    """One OSC message (python-osc's builder): ``int`` → ``i``, ``float`` → ``f``,
    ``str`` → ``s``. A float that is not finite is sent as 0.0 (no receiver expects NaN)."""
    builder = OscMessageBuilder(address)
    for value in args:
        if isinstance(value, int):  # bool too: True is 1
            builder.add_arg(int(value), OscMessageBuilder.ARG_TYPE_INT)
        elif isinstance(value, float):
            builder.add_arg(value if math.isfinite(value) else 0.0, "f")
        else:
            builder.add_arg(str(value), OscMessageBuilder.ARG_TYPE_STRING)
    return builder.build().dgram
