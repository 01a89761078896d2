"""The layout of a ring segment in shared memory, and what a ring carries (:class:`RingSpec`).

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

The word offsets below (``_H_*``, ``_W_*``, ``_R_*``) are shared with the compiled audio
callback (:mod:`kelly_actors.audio.native`), which reads and writes the same words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
