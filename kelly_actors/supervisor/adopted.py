"""An actor process this supervisor did not start: adopted from a supervisor that died.

It is not our child (the watchdog, a subreaper, reaps it), so there is no exit code to wait
for: a pidfd (``pidfd_open(2)``, Linux ≥ 5.3) stands in for ``multiprocessing``'s sentinel —
readable once the process has exited — and signals go through it, so a recycled pid can never
be hit. It offers the few members of ``multiprocessing.Process`` the supervisor uses.
"""

from __future__ import annotations

import os
import select
import signal

import psutil


class AdoptedProcess:
    """A running actor process known by pid and start time."""

    def __init__(self, pid: int, create_time: float) -> None:
        """Raises ``ProcessLookupError`` unless ``pid`` runs and started at ``create_time``
        (``psutil`` seconds; a different time means the pid was reused)."""
        try:
            started = psutil.Process(pid).create_time()
        except psutil.Error:
            raise ProcessLookupError(pid) from None
        if abs(started - create_time) > 0.05:
            raise ProcessLookupError(pid)
        self.pid = pid
        self.sentinel = os.pidfd_open(pid)
        self.exitcode: int | None = None

    def _signal(self, sig: int) -> None:
        if self.sentinel >= 0:
            try:
                signal.pidfd_send_signal(self.sentinel, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def join(self, timeout: float | None = None) -> None:
        """Wait up to ``timeout`` s for the process to exit."""
        if self.sentinel >= 0:
            select.select([self.sentinel], [], [], timeout)

    def is_alive(self) -> bool:
        if self.sentinel < 0:
            return False
        readable, _, _ = select.select([self.sentinel], [], [], 0)
        return not readable

    def close(self) -> None:
        if self.sentinel >= 0:
            os.close(self.sentinel)
            self.sentinel = -1


def create_time(pid: int) -> float:
    """When ``pid`` started (``psutil`` seconds), to tell it from a later process with its pid;
    0.0 when it is already gone."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return 0.0
