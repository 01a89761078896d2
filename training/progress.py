"""The training pipelines' progress bar: one line with rate and ETA on stderr (no dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def clock(seconds: float) -> str:
    """Seconds → ``H:MM:SS``."""
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """``Progress(total, "train")``; :meth:`advance` per item, :meth:`close` at the end.

    On a terminal it redraws in place (at most 5 times a second); otherwise it
    writes a plain line at most every 10 s so CI logs stay short.
    """

    def __init__(self, total: int, label: str, done: int = 0, stream: TextIO | None = None):
        self.total = max(1, total)
        self.label = label
        self.done = self.first = done
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = 0.2 if self.tty else 10.0
        self.start = time.monotonic()
        self.drawn = 0.0
        self.extra = ""

    def advance(self, n: int = 1, extra: str = "") -> None:
        """``n`` more items done."""
        self.update(self.done + n, extra)

    def update(self, done: int, extra: str = "") -> None:
        """``done`` items done so far."""
        self.done = done
        self.extra = extra or self.extra
        now = time.monotonic()
        if now - self.drawn >= self.interval or self.done >= self.total:
            self.drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = now - self.start
        frac = min(1.0, self.done / self.total)
        rate = (self.done - self.first) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        bar = "#" * int(frac * 24)
        line = (
            f"{self.label:>8} [{bar:<24}] {self.done}/{self.total} {frac:4.0%} "
            f"elapsed {clock(elapsed)} ETA {clock(eta)} {self.extra}"
        )
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        self._draw(time.monotonic())
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()
