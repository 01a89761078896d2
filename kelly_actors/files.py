"""Whole-file writes that a kill never leaves half done.

A file is written beside its destination under a hidden temporary name and renamed over the
destination (``os.replace`` is atomic on one file system), so a reader, or the next start after
a kill, sees either the old file or the new one, never a part. (No fsync: this guards against a
killed process, not a lost power supply, and costs no disk flush on the composer's bar path.)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on a clean exit rename it over ``path``.

    For writers that want a file name (``torch.save``, ``np.savez``, ``soundfile``). The
    temporary keeps ``path``'s suffix, so writers that choose a format by suffix still do.
    ``mode`` (e.g. ``0o600``) sets the permission bits before the rename. If the body raises,
    the temporary is removed and ``path`` is untouched.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write(path: str | os.PathLike[str], data: bytes | str, mode: int | None = None) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; see :func:`atomic_path`."""
    payload = data.encode() if isinstance(data, str) else data
    with atomic_path(path, mode) as tmp:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        fd = os.open(tmp, flags, 0o666 if mode is None else mode)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
