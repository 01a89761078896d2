"""A doorbell one process rings and another waits on, without spinning.

A named FIFO opened read-write and non-blocking by both sides: ringing writes
one byte (never blocks: a full pipe already means "rung"), waiting is
``poll`` on the file descriptor, so a doorbell can sit in a ``zmq.Poller``
beside sockets. Named, so any process can attach by path; in tmpfs, so it
costs no disk.
"""

from __future__ import annotations

import errno
import os
import select
from pathlib import Path


class Doorbell:
    """One FIFO; ``fileno()`` becomes readable after ``ring()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self._poller = select.poll()
        self._poller.register(self._fd, select.POLLIN)

    @classmethod
    def create(cls, path: Path) -> Doorbell:
        os.mkfifo(path, 0o600)
        return cls(path)

    def fileno(self) -> int:
        return self._fd

    def ring(self) -> None:
        """Wake the waiter. Never blocks."""
        try:
            os.write(self._fd, b"\x01")
        except BlockingIOError:
            pass

    def drain(self) -> None:
        """Consume every pending ring."""
        try:
            while len(os.read(self._fd, 4096)) == 4096:
                pass
        except BlockingIOError:
            pass

    def wait(self, timeout: float | None) -> bool:
        """Block until rung or ``timeout`` seconds pass; True when rung."""
        ms = -1 if timeout is None else max(0, int(timeout * 1000))
        try:
            return bool(self._poller.poll(ms))
        except InterruptedError:
            return False

    def close(self) -> None:
        if self._fd >= 0:
            try:
                os.close(self._fd)
            except OSError as exc:
                if exc.errno != errno.EBADF:
                    raise
            self._fd = -1
