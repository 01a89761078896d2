"""A one-line text progress bar with rate and ETA, written to stderr (no dependencies)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``Progress(total, label)``; call :meth:`update` with the work done so far.

    Redraws at most every ``interval_s`` seconds; :meth:`close` ends the line.
    """

    def __init__(
        self, total: int, label: str, stream: TextIO | None = None, interval_s: float = 0.5
    ) -> None:
        self.total = max(1, int(total))
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.interval_s = interval_s
        self.start = time.monotonic()
        self._drawn = 0.0
        self.done = 0

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        now = time.monotonic()
        if now - self._drawn < self.interval_s and done < self.total:
            return
        self._drawn = now
        elapsed = now - self.start
        frac = min(1.0, done / self.total)
        eta = elapsed / frac - elapsed if frac > 0 else float("nan")
        bar = "#" * int(frac * 24)
        self.stream.write(
            f"\r{self.label} [{bar:<24}] {done}/{self.total} "
            f"{elapsed:5.0f}s elapsed, ETA {eta:5.0f}s {note}   "
        )
        self.stream.flush()

    def close(self) -> None:
        self.update(self.done)
        self.stream.write("\n")
        self.stream.flush()
