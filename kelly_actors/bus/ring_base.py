"""A mapped ring segment: the part its writer, readers and observers share.

See :mod:`kelly_actors.bus.ring_layout` for the words it maps.
"""

from __future__ import annotations

import math

import numpy as np

from kelly_actors.bus.doorbell import Doorbell
from kelly_actors.bus.ring_layout import (
    _DTYPE_BYTE,
    _H_CAP,
    _H_MAGIC,
    _H_NDIM,
    _H_PAYLOAD,
    _H_POLICY,
    _H_READERS,
    _H_SHAPE,
    _H_STRIDE,
    _H_VERSION,
    _HEADER_BYTES,
    _R0,
    _R_INDEX,
    _R_OVERRUNS,
    _R_PEAK,
    _R_STRIDE,
    _R_TORN,
    _R_UNDERRUNS,
    _SLOT_HEADER_BYTES,
    _W_INDEX,
    _W_OVERRUNS,
    _W_PEAK,
    LAYOUT_VERSION,
    MAGIC,
    POLICIES,
    RingSpec,
    RingStats,
    _doorbell_path,
    read_spec,
)
from kelly_actors.bus.shm import Segment


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
