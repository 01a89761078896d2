"""Process ids: whether one still runs, and dying with the parent process."""

from __future__ import annotations

import ctypes
import os
import signal

#: prctl(2) option: the signal the kernel sends this process when its parent exits.
_PR_SET_PDEATHSIG = 1
#: prctl(2) option: orphaned descendants are re-parented to this process, not to init.
_PR_SET_CHILD_SUBREAPER = 36


def alive(pid: int) -> bool:
    """True while ``pid`` runs (also when it belongs to another user).

    A zombie, dead but not yet reaped (its parent may be stopped), counts as dead.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False  # no /proc: the signal check above is all there is
    # The command name in parentheses may hold spaces; the state letter follows it.
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] == b"Z"


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


def become_subreaper() -> bool:
    """Make this process the parent of its orphaned descendants (Linux ≥ 3.4), so it can
    reap them and find them; False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
