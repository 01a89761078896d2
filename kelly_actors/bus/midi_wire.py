"""One MIDI message per ``midi`` ring slot: what the composer writes, the audio callback reads.

A slot's payload is ``int64 (1,)``: the message's bytes packed little-endian with its
length above them, ``b0 | b1 << 8 | b2 << 16 | length << 24``; the slot's sample time
is the transport sample at which the message leaves (:data:`ASAP`: the next cycle).
Only complete channel messages and one- to three-byte system messages travel (no SysEx).

Kept free of numba so the composer can import it; the compiled reader
(:mod:`kelly_actors.audio.native.midi_out`) compiles :func:`expected_length` itself.
"""

from __future__ import annotations

from collections.abc import Sequence

SHAPE = (1,)
DTYPE = "int64"
#: The sample time of a message that leaves in the next cycle (a panic, a program).
ASAP = -1

CLOCK = 0xF8
START = 0xFA
CONTINUE = 0xFB
STOP = 0xFC
SONG_POSITION = 0xF2
#: MIDI clock ticks per beat (per quarter note), and per song-position unit (a 16th).
TICKS_PER_BEAT = 24
TICKS_PER_SIXTEENTH = 6
#: Song position is 14 bits of sixteenths; a longer show wraps.
SONG_POSITION_WRAP = 1 << 14


def expected_length(status: int) -> int:
    """Bytes of the message that ``status`` opens; 0 for what is not carried (SysEx,
    undefined, a data byte)."""
    if status < 0x80 or status > 0xFF:
        return 0
    kind = status & 0xF0
    if kind == 0xC0 or kind == 0xD0:
        return 2
    if kind < 0xF0:
        return 3
    if status == 0xF2:
        return 3
    if status == 0xF1 or status == 0xF3:
        return 2
    if status == 0xF6 or status >= 0xF8:
        return 1
    return 0


def pack(message: Sequence[int] | bytes) -> int:
    """The slot word of ``message``; ValueError for what cannot travel."""
    data = bytes(message)
    if not data or expected_length(data[0]) != len(data):
        raise ValueError(f"not a complete MIDI message without SysEx: {data.hex(' ')}")
    if any(b >= 0x80 for b in data[1:]):
        raise ValueError(f"MIDI data bytes must be below 0x80: {data.hex(' ')}")
    word = 0
    for k, b in enumerate(data):
        word |= b << (8 * k)
    return word | len(data) << 24


def unpack(word: int) -> bytes:
    """The message a slot word holds (no check: :func:`pack` made it)."""
    length = (word >> 24) & 0xFF
    return bytes((word >> (8 * k)) & 0xFF for k in range(length))


def song_position(sixteenths: int) -> bytes:
    """Song Position Pointer to ``sixteenths`` (MIDI beats) from the start, wrapped to 14 bits."""
    position = sixteenths % SONG_POSITION_WRAP
    return bytes((SONG_POSITION, position & 0x7F, position >> 7))
