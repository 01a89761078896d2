"""Lock-free single-writer rings over shared memory: SPSC and broadcast.

The segment's layout is in :mod:`kelly_actors.bus.ring_layout`.

Indices are 64-bit counters that only grow; slot ``i % capacity`` holds
index ``i``. Each slot carries a seqlock word: the writer stores ``2i+1``
before touching the payload and ``2i+2`` after it, then publishes
``write_index = i+1``. A reader accepts index ``i`` only if the word read
before and after copying equals ``2i+2``, so a torn read (writer killed or
lapping mid-copy) is rejected, never handed on. Aligned 8-byte stores are
single instructions on the CPUs we run on, and x86 keeps stores in order,
which is all the seqlock needs.

Overflow policies: ``overwrite`` (the writer never looks back; a reader that
is lapped skips ahead and counts overruns — for live input) and ``drop`` (a
write that would overwrite an unread slot of any reader is refused and
counted as a writer overrun — for output a producer renders ahead into).
Readers wait on a doorbell (a FIFO per reader) that the writer rings only
when that reader said it is waiting.

The parts: :mod:`~kelly_actors.bus.ring_layout` (the segment's words, :class:`RingSpec`),
:mod:`~kelly_actors.bus.ring_base` (:class:`Ring`, the mapping),
:mod:`~kelly_actors.bus.ring_writer` and :mod:`~kelly_actors.bus.ring_reader`. This module
is the one to import them from.
"""

from kelly_actors.bus.ring_base import Ring
from kelly_actors.bus.ring_layout import (
    LAYOUT_VERSION,
    MAX_DIMS,
    MAX_READERS,
    POLICIES,
    RingError,
    RingSpec,
    RingStats,
    read_spec,
)
from kelly_actors.bus.ring_reader import RingReader
from kelly_actors.bus.ring_writer import RingWriter, SpaceBelow

__all__ = [
    "LAYOUT_VERSION",
    "MAX_DIMS",
    "MAX_READERS",
    "POLICIES",
    "Ring",
    "RingError",
    "RingReader",
    "RingSpec",
    "RingStats",
    "RingWriter",
    "SpaceBelow",
    "read_spec",
]
