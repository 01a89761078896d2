"""POSIX shared-memory segments that no resource tracker owns.

``multiprocessing.shared_memory.SharedMemory`` registers every segment with
Python's resource tracker, also when a process merely attaches, so an
attaching process that exits can unlink or warn about a segment it does not
own (CPython gh-82300) and each process spawns a tracker process of its own.
Ownership here is explicit instead: the supervisor creates and unlinks, every
other process only maps. The calls are the same ``shm_open``/``mmap`` that the
standard library uses underneath.
"""

from __future__ import annotations

import _posixshmem
import mmap
import os
from pathlib import Path

SHM_DIR = Path("/dev/shm")


class SegmentError(OSError):
    """A segment could not be created or attached."""


class Segment:
    """A mapped shared-memory segment.

    Attributes:
        name: segment name without the leading slash (``kelly-…``).
        size: mapped size in bytes.
        buf: a writable ``memoryview`` over the whole mapping.
    """

    def __init__(self, name: str, mapping: mmap.mmap) -> None:
        self.name = name
        self.size = len(mapping)
        self._mmap = mapping
        self.buf = memoryview(mapping)

    @classmethod
    def create(cls, name: str, size: int) -> Segment:
        """Create a zero-filled segment of ``size`` bytes; fail if it exists."""
        if size <= 0:
            raise SegmentError(f"segment {name!r}: size must be positive, got {size}")
        try:
            fd = _posixshmem.shm_open("/" + name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        except FileExistsError as exc:
            raise SegmentError(f"segment {name!r} already exists") from exc
        try:
            os.ftruncate(fd, size)
            mapping = mmap.mmap(fd, size)
        except BaseException:
            _posixshmem.shm_unlink("/" + name)
            raise
        finally:
            os.close(fd)
        return cls(name, mapping)

    @classmethod
    def attach(cls, name: str) -> Segment:
        """Map an existing segment by name."""
        try:
            fd = _posixshmem.shm_open("/" + name, os.O_RDWR, 0o600)
        except FileNotFoundError as exc:
            raise SegmentError(f"segment {name!r} does not exist") from exc
        try:
            size = os.fstat(fd).st_size
            mapping = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        return cls(name, mapping)

    def close(self) -> None:
        """Unmap. Views into ``buf`` must have been released first."""
        try:
            self.buf.release()
            self._mmap.close()
        except BufferError:
            # A numpy view still exports the buffer; the mapping goes with the process.
            pass

    def unlink(self) -> None:
        """Remove the name; mappings stay valid until closed."""
        unlink(self.name)


def unlink(name: str) -> bool:
    """Remove segment ``name``; return False when it was already gone."""
    try:
        _posixshmem.shm_unlink("/" + name)
    except FileNotFoundError:
        return False
    return True
