"""A child's stdout read as it comes, without blocking (for the `kelly run` output tests)."""

from __future__ import annotations

import os
import subprocess

from performance import wait_until


class Output:
    """What a child has written to its stdout pipe so far."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.fd = proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.text = ""

    def pump(self) -> str:
        try:
            while data := os.read(self.fd, 65536):
                self.text += data.decode(errors="replace")
        except BlockingIOError:
            pass
        return self.text

    def wait_for(self, needle: str, timeout: float, meanwhile=lambda: None) -> None:
        """Until ``needle`` is in the output, calling ``meanwhile`` at each look."""
        try:
            wait_until(lambda: meanwhile() or needle in self.pump(), timeout, repr(needle))
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; the output so far:\n{self.text}") from None
