"""The transport block: the performance's clock in shared memory.

One writer (the clock actor) and any number of readers. A seqlock guards the
fields: the writer makes the sequence word odd, writes, makes it even; a
reader retries while the word is odd or changed under it.

Fields (int64 words unless noted)::

    0 seq            seqlock word
    1 sample_counter frames played since the start (samples)
    2 sample_rate    Hz
    3 block_size     frames per audio block
    4 tempo          bpm (float64)
    5 beat           beats since the start (float64)
    6 beats_per_bar  time signature numerator
    7 running        1 while the clock advances

Then the Link words (:mod:`kelly_actors.link`), written by the clock actor's Link
thread only, behind a seqlock of their own (the callback never touches them)::

    8  link_seq       seqlock word
    9  link_flags     LINK_LINKED | LINK_STOPPED (0: the composer leads the clock)
    10 next_sample    from this sample on the clock plays ``next_tempo`` (0: none)
    11 next_tempo     bpm (float64): a tempo change the clock has already queued
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from kelly_actors.bus.shm import Segment

_SIZE = 128
_BODY = struct.Struct("<qqqddqq")
_LINK_AT = 64
_LINK = struct.Struct("<qqd")
#: The clock follows an Ableton Link session: bar lines and tempo come from the transport.
LINK_LINKED = 1
#: The session is stopped (start/stop sync): compose nothing until it plays.
LINK_STOPPED = 2


@dataclass(frozen=True)
class TransportState:
    """A consistent copy of the transport block."""

    sample_counter: int = 0
    sample_rate: int = 48_000
    block_size: int = 256
    tempo: float = 120.0
    beat: float = 0.0
    beats_per_bar: int = 4
    running: bool = False

    @property
    def bar(self) -> int:
        """Zero-based bar number."""
        return int(self.beat // self.beats_per_bar)

    @property
    def beat_in_bar(self) -> float:
        """Beats since the current bar line."""
        return self.beat - self.bar * self.beats_per_bar


@dataclass(frozen=True)
class LinkWords:
    """A consistent copy of the Link words: flags, and a queued tempo change."""

    flags: int = 0
    next_sample: int = 0
    next_tempo: float = 0.0

    @property
    def linked(self) -> bool:
        return bool(self.flags & LINK_LINKED)

    @property
    def stopped(self) -> bool:
        return bool(self.flags & LINK_STOPPED)


class Transport:
    """A mapped transport block."""

    def __init__(self, segment: Segment) -> None:
        self.segment = segment
        self._buf = segment.buf

    @classmethod
    def create(cls, segment_name: str) -> Transport:
        transport = cls(Segment.create(segment_name, _SIZE))
        transport.write(TransportState())
        return transport

    @classmethod
    def attach(cls, segment_name: str) -> Transport:
        return cls(Segment.attach(segment_name))

    def write(self, state: TransportState) -> None:
        """Publish ``state`` (the one writer only)."""
        buf = self._buf
        (seq,) = struct.unpack_from("<q", buf, 0)
        odd = seq | 1  # already odd if a previous writer died mid-update
        struct.pack_into("<q", buf, 0, odd)
        _BODY.pack_into(
            buf,
            8,
            state.sample_counter,
            state.sample_rate,
            state.block_size,
            state.tempo,
            state.beat,
            state.beats_per_bar,
            int(state.running),
        )
        struct.pack_into("<q", buf, 0, odd + 1)

    def read(self, attempts: int = 10_000) -> TransportState | None:
        """A consistent snapshot, or None if the writer died mid-update."""
        buf = self._buf
        for _ in range(attempts):
            (seq,) = struct.unpack_from("<q", buf, 0)
            if seq & 1:
                continue
            fields = _BODY.unpack_from(buf, 8)
            (again,) = struct.unpack_from("<q", buf, 0)
            if again == seq:
                counter, rate, block, tempo, beat, bpb, running = fields
                return TransportState(counter, rate, block, tempo, beat, bpb, bool(running))
        return None

    def write_link(self, words: LinkWords) -> None:
        """Publish the Link words (the clock actor's Link thread only)."""
        buf = self._buf
        (seq,) = struct.unpack_from("<q", buf, _LINK_AT)
        odd = seq | 1
        struct.pack_into("<q", buf, _LINK_AT, odd)
        _LINK.pack_into(buf, _LINK_AT + 8, words.flags, words.next_sample, words.next_tempo)
        struct.pack_into("<q", buf, _LINK_AT, odd + 1)

    def read_link(self, attempts: int = 1000) -> LinkWords:
        """The Link words (all zero, "not linked", when the writer died mid-update)."""
        buf = self._buf
        for _ in range(attempts):
            (seq,) = struct.unpack_from("<q", buf, _LINK_AT)
            if seq & 1:
                continue
            fields = _LINK.unpack_from(buf, _LINK_AT + 8)
            (again,) = struct.unpack_from("<q", buf, _LINK_AT)
            if again == seq:
                return LinkWords(*fields)
        return LinkWords()

    def close(self) -> None:
        self._buf = None  # type: ignore[assignment]
        self.segment.close()
