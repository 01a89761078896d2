"""One reader position of a ring: read_into, skip, peek, wait, and retained frames.

A frame ``i`` is accepted only if its slot's seqlock word is ``2i+2`` before and after the
copy (see :mod:`kelly_actors.bus.ring`); the checks are written out in
:meth:`RingReader.read_into`, the hot path of every consumer, rather than called.
"""

from __future__ import annotations

import os

import numpy as np

from kelly_actors.bus.doorbell import Doorbell
from kelly_actors.bus.ring_base import Ring
from kelly_actors.bus.ring_layout import (
    _HEADER_BYTES,
    _R_INDEX,
    _R_OVERRUNS,
    _R_PEAK,
    _R_PID,
    _R_TORN,
    _R_UNDERRUNS,
    _R_WAIT0,
    _R_WAIT_STRIDE,
    _W_INDEX,
    _W_WAITING,
    RingError,
    RingSpec,
    _doorbell_path,
    read_spec,
)
from kelly_actors.bus.shm import Segment


class RingReader(Ring):
    """One reader position of a ring (slot ``k`` of ``spec.readers``).

    The read position lives in shared memory, so a restarted reader resumes
    where its predecessor stopped (or at the newest frame, if asked).
    """

    def __init__(self, segment: Segment, spec: RingSpec, slot: int) -> None:
        super().__init__(segment, spec)
        if not 0 <= slot < spec.readers:
            raise RingError(f"ring {spec.name!r} has readers 0–{spec.readers - 1}, not {slot}")
        self.slot = slot
        self._w_index = self._reader_word(slot, _R_INDEX)
        self._w_under = self._reader_word(slot, _R_UNDERRUNS)
        self._w_over = self._reader_word(slot, _R_OVERRUNS)
        self._w_peak = self._reader_word(slot, _R_PEAK)
        self._w_torn = self._reader_word(slot, _R_TORN)
        self._w_wait = _R_WAIT0 + _R_WAIT_STRIDE * slot
        self._q[self._reader_word(slot, _R_PID)] = os.getpid()
        self._index = self._q[self._w_index]
        # The write index as last read: re-read only once we have caught up with it.
        self._known_written = self._q[_W_INDEX]
        self._peak = self._q[self._w_peak]
        self._slots_base = _HEADER_BYTES // 8
        self._bell = Doorbell(_doorbell_path(segment.name, f"r{slot}"))
        self._space_bell = Doorbell(_doorbell_path(segment.name, "w"))
        self.last_index = -1
        self.last_sample_time = 0
        self._dst: np.ndarray | None = None
        self._dst_bytes = memoryview(bytearray())

    @classmethod
    def attach(cls, segment_name: str, slot: int = 0, name: str | None = None) -> RingReader:  # type: ignore[override]
        seg = Segment.attach(segment_name)
        return cls(seg, read_spec(seg, name or segment_name), slot)

    def available(self) -> int:
        """At least this many frames are published and unread; 0 means none.

        It may exceed the capacity when lapped. Answers from the write index
        last seen while that still shows unread frames, so a reader draining
        a batch does not re-read the writer's cache line for every frame; a 0
        is always checked against the ring.
        """
        known = self._known_written - self._index
        if known > 0:
            return known
        return self._refresh() - self._index

    def _refresh(self) -> int:
        """Re-read the write index; the backlog is largest right after it moved."""
        w = self._known_written = self._q[_W_INDEX]
        backlog = w - self._index
        if backlog > self._peak:
            self._peak = min(backlog, self._cap)
            self._q[self._w_peak] = self._peak
        return w

    def peek_sample_time(self) -> int | None:
        """Sample time of the next unread frame without consuming it (None if none/torn)."""
        q = self._q
        while self.available() > 0:
            i = self._index
            w = self._known_written = q[_W_INDEX]
            if w - i > self._cap:
                # Lapped: move to the oldest intact frame, as read_into would.
                skip = w - self._cap + 1 - i
                q[self._w_over] += skip
                self._index = i = i + skip
            base = self._slots_base + (i % self._cap) * self._stride_q
            seq = q[base]
            sample_time = q[base + 2]
            if seq == 2 * i + 2 and q[base] == seq:
                return sample_time
            q[self._w_over] += 1  # overwritten while we looked
            self._index = i + 1
            q[self._w_index] = self._index
        return None

    def skip(self) -> None:
        """Drop the next unread frame without copying it."""
        if self.available() > 0:
            self._index += 1
            q = self._q
            q[self._w_index] = self._index
            wanted = q[_W_WAITING]
            if wanted and self._index + 1 >= wanted:
                q[_W_WAITING] = 0
                self._space_bell.ring()

    def seek_latest(self) -> None:
        """Skip everything unread (e.g. stale input after a restart)."""
        self._index = self._known_written = self._q[_W_INDEX]
        self._q[self._w_index] = self._index

    def read_into(self, out: np.ndarray) -> bool:
        """Copy the next frame into ``out`` (shape ``spec.shape``).

        Returns False and counts an underrun when nothing is there. Sets
        ``last_index`` and ``last_sample_time`` on success. Lapped frames are
        skipped and counted as overruns; a torn slot is never returned.
        """
        q = self._q
        cap = self._cap
        while True:
            i = self._index
            w = self._known_written
            if i >= w:
                w = self._refresh()
                if i >= w:
                    q[self._w_under] += 1
                    return False
            if w - i > cap:
                # Lapped: the oldest frame still intact is w - capacity + 1
                # (the writer may already be rewriting w - capacity's slot).
                w = self._known_written = q[_W_INDEX]
                skip = w - cap + 1 - i
                q[self._w_over] += skip
                i = self._index = i + skip
            slot = i % cap
            base = self._slots_base + slot * self._stride_q
            seq = q[base]
            if seq == 2 * i + 2:
                if out is self._dst:
                    self._dst_bytes[:] = self._payload_bytes[slot]
                else:
                    dst = self._bytes_of(out)
                    if dst is None:
                        out[...] = self._payload[slot]
                    else:
                        self._dst, self._dst_bytes = out, dst
                        dst[:] = self._payload_bytes[slot]
                sample_time = q[base + 2]
                if q[base] == seq:
                    self._index = i + 1
                    q[self._w_index] = i + 1
                    self.last_index = i
                    self.last_sample_time = sample_time
                    wanted = q[_W_WAITING]
                    if wanted and i + 2 >= wanted:
                        q[_W_WAITING] = 0
                        self._space_bell.ring()
                    return True
                q[self._w_torn] += 1
            # The writer lapped us on this very slot: frame i is gone.
            q[self._w_over] += 1
            self._index = i + 1
            self._known_written = q[_W_INDEX]

    def arm(self) -> bool:
        """Prepare to sleep on :meth:`fileno`; True if data is already there."""
        if self.available() > 0:
            return True
        self._q[self._w_wait] = 1
        if self.available() > 0:
            self._q[self._w_wait] = 0
            return True
        return False

    def disarm(self) -> None:
        """After waking (or timing out): clear the flag and the doorbell."""
        self._q[self._w_wait] = 0
        self._bell.drain()

    def fileno(self) -> int:
        """The doorbell's descriptor, readable when the writer rang."""
        return self._bell.fileno()

    def wait(self, timeout: float | None) -> bool:
        """Block until a frame is available or ``timeout`` s pass; True if one is."""
        if self.arm():
            return True
        self._bell.wait(timeout)
        self.disarm()
        return self.available() > 0

    def retained(
        self, max_frames: int, out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Frames this position already consumed that the ring still holds intact.

        A slot keeps its frame until the writer laps it, so the frames just
        before the read index — e.g. those a killed predecessor took and never
        used — can be read again. Each is accepted exactly as :meth:`read_into`
        accepts a frame: index ``i`` only if the slot's seqlock word is ``2i+2``
        before *and* after the copy; an overwritten (lapped) or torn slot is
        skipped. Reads only: the read index and every counter stay as they were.

        Args:
            max_frames: look at most this many frames back from the read index
                (also capped at the capacity).
            out: optional array ``(max_frames, *spec.shape)`` of the ring's dtype
                to copy into; a new one is made when None.

        Returns:
            ``(frames, indices, sample_times)``, oldest first: frames
            ``(n, *spec.shape)`` of the ring's dtype (a view of ``out``), ring
            indices int64 ``(n,)`` strictly increasing and below the read index,
            sample times int64 ``(n,)``; ``n ≤ min(max_frames, capacity)``.
        """
        if max_frames < 0:
            raise ValueError("max_frames must be ≥ 0")
        if out is None:
            out = np.empty((max_frames, *self.spec.shape), self._dtype)
        elif (
            out.shape[0] < max_frames
            or out.shape[1:] != self.spec.shape
            or out.dtype != self._dtype
        ):
            raise ValueError(f"out must be ({max_frames}, {self.spec.shape}) {self._dtype}")
        q = self._q
        end = self._index
        first = max(0, end - min(max_frames, self._cap))
        indices = np.empty(end - first, np.int64)
        times = np.empty(end - first, np.int64)
        n = 0
        for i in range(first, end):
            slot = i % self._cap
            base = self._slots_base + slot * self._stride_q
            seq = q[base]
            if seq != 2 * i + 2:
                continue  # lapped by the writer (or a write of it was torn)
            out[n] = self._payload[slot]
            sample_time = q[base + 2]
            if q[base] != seq:
                continue  # overwritten while we copied
            indices[n], times[n] = i, sample_time
            n += 1
        return out[:n], indices[:n], times[:n]

    def close(self) -> None:
        self._bell.close()
        self._space_bell.close()
        super().close()
