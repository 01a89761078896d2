"""Whole-file writes that a kill never leaves half done.

A file is written beside its destination under a hidden temporary name and renamed over the
destination (``os.replace`` is atomic on one file system), so a reader, or the next start after
a kill, sees either the old file or the new one, never a part. (No fsync: this guards against a
killed process, not a lost power supply, and costs no disk flush on the composer's bar path.)

:func:`private_dir` makes and checks the directories that hold a run's sockets and a
performer's recordings: 0700, owned by this user, never a symbolic link.
"""

from __future__ import annotations

import contextlib
import os
import stat
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


class NotPrivate(OSError):
    """A directory that must be private is not: the message says why and what to do."""


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Make sure ``path`` is a directory only this user can enter, and return it.

    Created 0700 (its parents as usual) when missing. An existing one must be a real
    directory (not a symbolic link) owned by this user and writable by nobody else; it is
    then tightened to 0700. Anything else raises :class:`NotPrivate`: another user who made
    the directory first would own what is put in it (sockets, recordings, the event log).
    """
    path = Path(path)
    if not os.path.lexists(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass  # made in between: checked below like any existing one
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise NotPrivate(f"{path} is a symbolic link; refusing it (remove it or choose another)")
    if not stat.S_ISDIR(st.st_mode):
        raise NotPrivate(f"{path} exists and is not a directory")
    if st.st_uid != os.geteuid():
        raise NotPrivate(
            f"{path} belongs to uid {st.st_uid}, not to you (uid {os.geteuid()}); "
            "refusing a directory another user controls: remove it or choose another"
        )
    if st.st_mode & 0o022:
        raise NotPrivate(
            f"{path} is writable by {_who(st.st_mode)}; refusing it (chmod 700 {path})"
        )
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def loose_permissions(path: str | os.PathLike[str]) -> str:
    """Why ``path`` is readable or writable by others ("" when it is private or missing)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ""
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link"
    if st.st_uid != os.geteuid():
        return f"belongs to uid {st.st_uid}"
    if st.st_mode & 0o077:
        return f"has mode {stat.S_IMODE(st.st_mode):04o} (others may read it; want 0700)"
    return ""


def _who(mode: int) -> str:
    return " and ".join(w for w, bit in (("its group", 0o020), ("others", 0o002)) if mode & bit)
