"""The one writer of a ring: claim/publish or write, never blocking; and :class:`SpaceBelow`.

The seqlock (see :mod:`kelly_actors.bus.ring`): the slot's word goes to ``2i+1`` before the
payload is touched and to ``2i+2`` after, then ``write_index`` to ``i+1``. The steps are
written out in :meth:`RingWriter.write`, the hot path of every producer, rather than
called: a Python call per frame costs more than the copy.
"""

from __future__ import annotations

import os

import numpy as np

from kelly_actors.bus.doorbell import Doorbell
from kelly_actors.bus.ring_base import Ring
from kelly_actors.bus.ring_layout import (
    _HEADER_BYTES,
    _R_INDEX,
    _R_WAIT0,
    _R_WAIT_STRIDE,
    _W_INDEX,
    _W_OVERRUNS,
    _W_PEAK,
    _W_PID,
    _W_WAITING,
    RingSpec,
    _doorbell_path,
    read_spec,
)
from kelly_actors.bus.shm import Segment


class RingWriter(Ring):
    """The one writer of a ring. Never blocks.

    A restarted writer resumes at the published write index.
    """

    def __init__(self, segment: Segment, spec: RingSpec) -> None:
        super().__init__(segment, spec)
        self._q[_W_PID] = os.getpid()
        self._index = self._q[_W_INDEX]
        self._drop = spec.policy == "drop"
        self._reader_index_words = tuple(
            self._reader_word(k, _R_INDEX) for k in range(spec.readers)
        )
        self._reader_waiting_words = tuple(
            _R_WAIT0 + _R_WAIT_STRIDE * k for k in range(spec.readers)
        )
        self._bells = [Doorbell(_doorbell_path(segment.name, f"r{k}")) for k in range(spec.readers)]
        self._space_bell = Doorbell(_doorbell_path(segment.name, "w"))
        self._wake = tuple(zip(self._reader_waiting_words, self._bells, strict=True))
        # The slowest reader's index as last read: re-read only when the ring
        # looks full, so a publish does not touch the readers' cache lines.
        self._slowest = self._slowest_reader()
        self._slots_base = _HEADER_BYTES // 8
        self._src: np.ndarray | None = None
        self._src_bytes = memoryview(b"")

    @classmethod
    def attach(cls, segment_name: str, name: str | None = None) -> RingWriter:
        seg = Segment.attach(segment_name)
        return cls(seg, read_spec(seg, name or segment_name))

    def _slowest_reader(self) -> int:
        q = self._q
        return min([q[w] for w in self._reader_index_words], default=q[_W_INDEX])

    def free(self) -> int:
        """Slots that can be written now without overwriting unread data.

        Always re-reads the readers' positions: the cached slowest position (kept so that
        ``claim`` does not touch the readers' cache lines) understates the room once the
        readers moved on, and a caller that needs ``n`` slots — the composer writes a bar
        whole or not at all — would otherwise be refused again and again while the ring
        is empty (the default performance fell silent for ~100 s of every ~200 s).
        """
        self._slowest = self._slowest_reader()
        return self._cap - (self._index - self._slowest)

    def claim(self) -> np.ndarray | None:
        """Open the next slot for writing in place; None (counted) if full under ``drop``.

        Returns the slot's payload view, shape ``spec.shape``. Call
        :meth:`publish` when done; no other write may come in between.
        """
        q = self._q
        i = self._index
        if i - self._slowest >= self._cap:
            self._slowest = self._slowest_reader()
            used = i - self._slowest
            if used >= self._cap:
                if self._drop:
                    q[_W_OVERRUNS] += 1
                    return None
                q[_W_PEAK] = self._cap
        slot = i % self._cap
        q[self._slots_base + slot * self._stride_q] = 2 * i + 1
        return self._payload[slot]

    def publish(self, sample_time: int = 0) -> None:
        """Seal the claimed slot and make it visible; ring waiting readers."""
        q = self._q
        i = self._index
        base = self._slots_base + (i % self._cap) * self._stride_q
        q[base + 1] = i
        q[base + 2] = sample_time
        q[base] = 2 * i + 2
        self._index = i + 1
        q[_W_INDEX] = i + 1
        for word, bell in self._wake:
            if q[word]:
                q[word] = 0
                bell.ring()

    def write(self, frame: np.ndarray, sample_time: int = 0) -> bool:
        """Copy ``frame`` (shape ``spec.shape``) into the ring; False if dropped.

        The same steps as :meth:`claim` + :meth:`publish`, inlined: this is
        the hot path of every producer. A C-contiguous frame of the ring's
        dtype is copied as bytes (its byte view is kept while the caller
        reuses the same array); anything else goes through numpy.
        """
        q = self._q
        i = self._index
        cap = self._cap
        if i - self._slowest >= cap:
            self._slowest = self._slowest_reader()
            if i - self._slowest >= cap:
                if self._drop:
                    q[_W_OVERRUNS] += 1
                    return False
                q[_W_PEAK] = cap
        slot = i % cap
        base = self._slots_base + slot * self._stride_q
        q[base] = 2 * i + 1
        if frame is self._src:
            self._payload_bytes[slot][:] = self._src_bytes
        else:
            src = self._bytes_of(frame)
            if src is None:
                self._payload[slot][...] = frame
            else:
                self._src, self._src_bytes = frame, src
                self._payload_bytes[slot][:] = src
        q[base + 1] = i
        q[base + 2] = sample_time
        q[base] = 2 * i + 2
        self._index = i + 1
        q[_W_INDEX] = i + 1
        for word, bell in self._wake:
            if q[word]:
                q[word] = 0
                bell.ring()
        return True

    def wait_free(self, timeout: float | None) -> bool:
        """Wait until the ring is at least half free (``drop`` rings); True if a slot is.

        Waking at half rather than at the first free slot lets a producer that
        outpaces its reader write in batches instead of trading a wake-up per frame.
        """
        if self.free() > 0:
            return True
        if self.arm(max(1, self._cap // 2)):
            return True
        self._space_bell.wait(timeout)
        self.disarm()
        return self.free() > 0

    @property
    def index(self) -> int:
        """Index the next write gets (= frames written so far)."""
        return self._index

    def last_sample_time(self) -> int | None:
        """Sample time of the newest published frame (None if nothing was written)."""
        i = self._index - 1
        if i < 0:
            return None
        return self._q[self._slots_base + (i % self._cap) * self._stride_q + 2]

    def used(self) -> int:
        """Frames written and not yet read by the slowest reader."""
        self._slowest = self._slowest_reader()
        return self._index - self._slowest

    def arm(self, max_used: int | None = None) -> bool:
        """Prepare to sleep until readers leave fewer than ``max_used`` frames unread;
        True if that is already so.

        ``max_used`` (default: capacity) lets a producer keep only a few frames
        ahead of its reader, as the synth does with the audio ring. The flag
        holds the read index (+1) at which the reader must ring, so it rings
        once, at that point, not after every frame it takes.
        """
        limit = self._cap if max_used is None else max_used
        if self.used() < limit:
            return True
        self._q[_W_WAITING] = self._index - limit + 2
        if self.used() < limit:
            self._q[_W_WAITING] = 0
            return True
        return False

    def disarm(self) -> None:
        self._q[_W_WAITING] = 0
        self._space_bell.drain()

    def fileno(self) -> int:
        """The space doorbell's descriptor, readable after a reader freed a slot."""
        return self._space_bell.fileno()

    def close(self) -> None:
        for bell in self._bells:
            bell.close()
        self._space_bell.close()
        super().close()


class SpaceBelow:
    """Wakes a producer when its ring holds fewer than ``max_used`` unread frames.

    Usable in an actor's ``wait_on()`` like a reader.
    """

    def __init__(self, writer: RingWriter, max_used: int) -> None:
        self.writer = writer
        self.max_used = max_used

    def arm(self) -> bool:
        return self.writer.arm(self.max_used)

    def disarm(self) -> None:
        self.writer.disarm()

    def fileno(self) -> int:
        return self.writer.fileno()
