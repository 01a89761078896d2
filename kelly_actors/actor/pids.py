"""Process ids: whether one still runs, and dying with the parent process."""

from __future__ import annotations

import ctypes
import os
import signal

#: prctl(2) option: the signal the kernel sends this process when its parent exits.
_PR_SET_PDEATHSIG = 1


def alive(pid: int) -> bool:
    """True while ``pid`` exists (also when it belongs to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def die_with_parent() -> None:
    """Ask Linux for SIGTERM when the parent process goes.

    Elsewhere (no ``prctl``) this does nothing: callers also check their parent's pid
    in their loop, which covers the rest.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass
