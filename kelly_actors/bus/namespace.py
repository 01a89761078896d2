"""Per-run names for shared-memory segments and doorbells, and the sweep of dead runs.

Every object a run puts in ``/dev/shm`` is called ``kelly-<tag>-<what>``. The
run holds an exclusive ``flock`` on ``kelly-<tag>.lock`` for as long as it
lives; the kernel drops the lock when the process dies, however it dies, so
a later run can tell a dead run's leftovers from a live run's objects without
trusting pids (which are reused).
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from kelly_actors.bus import shm

PREFIX = "kelly-"
_TAG_RE = re.compile(r"^kelly-([0-9a-f]{8})[-.]")


def runtime_dir() -> Path:
    """Where segments and doorbell FIFOs live (tmpfs)."""
    return shm.SHM_DIR


@dataclass
class RunNamespace:
    """The names one run owns; ``tag`` is 8 hex digits."""

    tag: str
    _lock_fd: int | None = field(default=None, repr=False)

    @classmethod
    def create(cls) -> RunNamespace:
        """Make a fresh tag and take its lock (before any segment exists)."""
        while True:
            ns = cls(secrets.token_hex(4))
            # Lock under a hidden name, then link it into place, so no sweep can
            # ever see the lock file unlocked.
            hidden = runtime_dir() / f".{PREFIX}{ns.tag}.{os.getpid()}"
            fd = os.open(hidden, os.O_CREAT | os.O_TRUNC | os.O_RDWR, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            try:
                os.link(hidden, ns.lock_path)
            except FileExistsError:
                os.close(fd)
                continue
            finally:
                hidden.unlink(missing_ok=True)
            ns._lock_fd = fd
            return ns

    @classmethod
    def adopt(cls, tag: str) -> RunNamespace:
        """Take the lock of the existing run ``tag`` whose owner died (a successor supervisor).

        Raises ``LookupError`` when the run is gone (no lock file: swept) or still owned.
        """
        ns = cls(tag)
        try:
            fd = os.open(ns.lock_path, os.O_RDWR)
        except FileNotFoundError:
            raise LookupError(f"run {tag} is gone (its lock file was removed)") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LookupError(f"run {tag} is still owned by a live process") from None
        ns._lock_fd = fd
        return ns

    def abandon(self) -> None:
        """Let go of the lock and leave every object in place (a failed adoption: the
        actors may still use them; the next sweep removes them once they are gone)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @property
    def lock_path(self) -> Path:
        return runtime_dir() / f"{PREFIX}{self.tag}.lock"

    def segment_name(self, what: str) -> str:
        """Name of the segment for ``what`` (a ring or block name)."""
        if not re.fullmatch(r"[A-Za-z0-9_]+", what):
            raise ValueError(f"invalid object name {what!r}: use letters, digits and _")
        return f"{PREFIX}{self.tag}-{what}"

    def objects(self) -> list[Path]:
        """Every path in the runtime dir that belongs to this run, lock excluded."""
        return [p for p in runtime_dir().glob(f"{PREFIX}{self.tag}-*")]

    def release(self) -> None:
        """Remove every object of this run, then the lock (last, so a sweep never races)."""
        for path in self.objects():
            path.unlink(missing_ok=True)
        if self._lock_fd is not None:
            self.lock_path.unlink(missing_ok=True)
            os.close(self._lock_fd)
            self._lock_fd = None


def run_is_dead(tag: str) -> bool:
    """True unless the run with ``tag`` holds its lock."""
    lock = runtime_dir() / f"{PREFIX}{tag}.lock"
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def sweep_dead_runs() -> list[str]:
    """Unlink the objects of runs whose owner is gone; return the names removed.

    Objects of live runs (their lock is held) are left alone.
    """
    removed: list[str] = []
    tags = {m.group(1) for p in runtime_dir().glob(f"{PREFIX}*") if (m := _TAG_RE.match(p.name))}
    for tag in sorted(tags):
        if not run_is_dead(tag):
            continue
        for path in sorted(runtime_dir().glob(f"{PREFIX}{tag}-*")):
            path.unlink(missing_ok=True)
            removed.append(path.name)
        lock = runtime_dir() / f"{PREFIX}{tag}.lock"
        if lock.exists():
            lock.unlink(missing_ok=True)
            removed.append(lock.name)
    return removed
