"""Lock-free single-writer rings over shared memory: SPSC and broadcast.

Layout of a ring segment (all integers int64, native byte order)::

    [0, 256)      header: magic, layout version, capacity, slot stride,
                  payload bytes, reader count, overflow policy, ndim, shape[4],
                  dtype string (16 bytes at byte 96)
    [256, 320)    writer line: write_index, overruns, peak_used, pid
    [320, 384)    writer doorbell flag: 0, or 1 + the read index at which the
                  writer waiting for space wants to be woken
    [512, 1536)   reader lines, 128 bytes each (8 at most): read_index,
                  underruns, overruns, peak_used, pid, torn
    [1536, 2048)  reader doorbell flags, one 64-byte line each: waiting
    [2048, …)     ``capacity`` slots of ``stride`` bytes:
                  seq, index, sample_time, spare, then the payload

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
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kelly_actors.bus.doorbell import Doorbell
from kelly_actors.bus.namespace import runtime_dir
from kelly_actors.bus.shm import Segment

MAGIC = int.from_bytes(b"KELLYRNG", "little", signed=True)
LAYOUT_VERSION = 1
MAX_READERS = 8
MAX_DIMS = 4
POLICIES = ("overwrite", "drop")

_HEADER_BYTES = 2048
_SLOT_HEADER_BYTES = 32
# word offsets (int64 units)
_H_MAGIC, _H_VERSION, _H_CAP, _H_STRIDE, _H_PAYLOAD, _H_READERS, _H_POLICY, _H_NDIM = range(8)
_H_SHAPE = 8
_DTYPE_BYTE = 96
_W = 32
_W_INDEX, _W_OVERRUNS, _W_PEAK, _W_PID = (_W + k for k in range(4))
# Readers check this flag after every read; it must not share the line the
# writer dirties on every publish.
_W_WAITING = _W + 8
_R0, _R_STRIDE = 64, 16
_R_INDEX, _R_UNDERRUNS, _R_OVERRUNS, _R_PEAK, _R_PID, _R_TORN = range(6)
# The waiting flag sits on a line of its own: the writer reads it on every
# publish and must not miss in cache each time the reader advances its index.
_R_WAIT0, _R_WAIT_STRIDE = 192, 8


class RingError(ValueError):
    """A ring was declared or attached wrongly."""


@dataclass(frozen=True)
class RingSpec:
    """What a ring carries.

    Attributes:
        name: ring name within the run (letters, digits, ``_``).
        shape: shape of one frame, e.g. ``(256, 2)`` for a stereo block.
        dtype: numpy dtype string of the frame, e.g. ``"float32"``.
        capacity: number of slots.
        readers: number of reader positions (1 = SPSC, more = broadcast, 0 = a
            stream nobody consumes yet: written, counted, never full).
        policy: ``"overwrite"`` or ``"drop"`` (see module docstring).
    """

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    capacity: int = 64
    readers: int = 1
    policy: str = "overwrite"

    def __post_init__(self) -> None:
        if not 1 <= len(self.shape) <= MAX_DIMS or any(d <= 0 for d in self.shape):
            raise RingError(f"ring {self.name!r}: shape {self.shape} must have 1–4 positive dims")
        try:
            np.dtype(self.dtype)
        except TypeError as exc:
            raise RingError(f"ring {self.name!r}: unknown dtype {self.dtype!r}") from exc
        if self.capacity < 2:
            raise RingError(f"ring {self.name!r}: capacity must be ≥ 2, got {self.capacity}")
        if not 0 <= self.readers <= MAX_READERS:
            raise RingError(f"ring {self.name!r}: readers must be 0–{MAX_READERS}")
        if self.policy not in POLICIES:
            raise RingError(f"ring {self.name!r}: policy must be one of {POLICIES}")

    @property
    def payload_bytes(self) -> int:
        return math.prod(self.shape) * np.dtype(self.dtype).itemsize

    @property
    def stride(self) -> int:
        return -(-(_SLOT_HEADER_BYTES + self.payload_bytes) // 64) * 64

    @property
    def segment_bytes(self) -> int:
        return _HEADER_BYTES + self.capacity * self.stride


@dataclass(frozen=True)
class RingStats:
    """A snapshot of a ring's counters (all in frames)."""

    name: str
    capacity: int
    used: int
    peak_used: int
    overruns: int
    underruns: int
    readers: int
    written: int
    torn: int

    def as_dict(self) -> dict[str, int | str]:
        return dict(self.__dict__)


def _doorbell_path(segment_name: str, who: str) -> Path:
    return runtime_dir() / f"{segment_name}.{who}"


class Ring:
    """A mapped ring segment; the base of writers, readers and observers."""

    def __init__(self, segment: Segment, spec: RingSpec) -> None:
        self.segment = segment
        self.spec = spec
        self._q = segment.buf.cast("q")
        self._cap = spec.capacity
        self._stride_q = spec.stride // 8
        payload0 = _HEADER_BYTES + _SLOT_HEADER_BYTES
        self._payload_bytes = [
            segment.buf[
                payload0 + k * spec.stride : payload0 + k * spec.stride + spec.payload_bytes
            ]
            for k in range(spec.capacity)
        ]
        self._dtype = np.dtype(spec.dtype)
        self._payload = [
            np.frombuffer(
                segment.buf,
                dtype=spec.dtype,
                count=math.prod(spec.shape),
                offset=_HEADER_BYTES + k * spec.stride + _SLOT_HEADER_BYTES,
            ).reshape(spec.shape)
            for k in range(spec.capacity)
        ]

    @classmethod
    def create(cls, segment_name: str, spec: RingSpec) -> Ring:
        """Create the segment and its doorbells (the owner does this once)."""
        seg = Segment.create(segment_name, spec.segment_bytes)
        q = seg.buf.cast("q")
        q[_H_MAGIC], q[_H_VERSION], q[_H_CAP] = MAGIC, LAYOUT_VERSION, spec.capacity
        q[_H_STRIDE], q[_H_PAYLOAD] = spec.stride, spec.payload_bytes
        q[_H_READERS], q[_H_POLICY] = spec.readers, POLICIES.index(spec.policy)
        q[_H_NDIM] = len(spec.shape)
        for k, dim in enumerate(spec.shape):
            q[_H_SHAPE + k] = dim
        q.release()
        seg.buf[_DTYPE_BYTE : _DTYPE_BYTE + 16] = spec.dtype.encode().ljust(16, b"\0")
        for who in ["w", *(f"r{k}" for k in range(spec.readers))]:
            Doorbell.create(_doorbell_path(segment_name, who)).close()
        return cls(seg, spec)

    @classmethod
    def attach(cls, segment_name: str, name: str | None = None) -> Ring:
        """Map an existing ring; its spec is read from the header."""
        seg = Segment.attach(segment_name)
        return cls(seg, read_spec(seg, name or segment_name))

    def _reader_word(self, k: int, field: int) -> int:
        return _R0 + _R_STRIDE * k + field

    def stats(self) -> RingStats:
        q = self._q
        written = q[_W_INDEX]
        reads = [q[self._reader_word(k, _R_INDEX)] for k in range(self.spec.readers)]
        used = max(0, min(self._cap, written - min(reads, default=written)))
        over = q[_W_OVERRUNS] + sum(
            q[self._reader_word(k, _R_OVERRUNS)] for k in range(self.spec.readers)
        )
        under = sum(q[self._reader_word(k, _R_UNDERRUNS)] for k in range(self.spec.readers))
        torn = sum(q[self._reader_word(k, _R_TORN)] for k in range(self.spec.readers))
        peak = max(
            [q[_W_PEAK], used]
            + [q[self._reader_word(k, _R_PEAK)] for k in range(self.spec.readers)]
        )
        return RingStats(
            name=self.spec.name,
            capacity=self._cap,
            used=used,
            peak_used=min(peak, self._cap),
            overruns=over,
            underruns=under,
            readers=self.spec.readers,
            written=written,
            torn=torn,
        )

    def _bytes_of(self, array: np.ndarray) -> memoryview | None:
        """A byte view of ``array`` if it is exactly one C-contiguous frame, else None."""
        if (
            isinstance(array, np.ndarray)
            and array.dtype == self._dtype
            and array.shape == self.spec.shape
            and array.flags.c_contiguous
        ):
            return memoryview(array).cast("B")
        return None

    def close(self) -> None:
        self._payload = []
        for view in self._payload_bytes:
            view.release()
        self._payload_bytes = []
        self._q.release()
        self.segment.close()


def read_spec(segment: Segment, name: str) -> RingSpec:
    """Decode and check the header of a ring segment."""
    q = segment.buf.cast("q")
    try:
        if q[_H_MAGIC] != MAGIC or q[_H_VERSION] != LAYOUT_VERSION:
            raise RingError(f"{segment.name!r} is not a ring of layout {LAYOUT_VERSION}")
        shape = tuple(q[_H_SHAPE + k] for k in range(q[_H_NDIM]))
        dtype = bytes(segment.buf[_DTYPE_BYTE : _DTYPE_BYTE + 16]).rstrip(b"\0").decode()
        return RingSpec(
            name=name,
            shape=shape,
            dtype=dtype,
            capacity=q[_H_CAP],
            readers=q[_H_READERS],
            policy=POLICIES[q[_H_POLICY]],
        )
    finally:
        q.release()


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
        """Slots that can be written now without overwriting unread data."""
        free = self._cap - (self._index - self._slowest)
        if free <= 0:
            self._slowest = self._slowest_reader()
            free = self._cap - (self._index - self._slowest)
        return free

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
