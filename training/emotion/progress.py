"""A one-line progress bar with rate and ETA, written to stderr (no dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """``Progress(total, "render")``; call :meth:`advance` per item, :meth:`close` at the end.

    Redraws at most every ``interval`` seconds; when stderr is not a terminal it writes a
    plain line at most every 5 s instead of carriage-return redraws (CI logs stay short).
    """

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.total = max(1, total)
        self.label = label
        self.done = 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = 0.2 if self.tty else 5.0
        self.start = time.monotonic()
        self.drawn = 0.0
        self.extra = ""

    def advance(self, n: int = 1, extra: str = "") -> None:
        self.done += n
        self.extra = extra
        now = time.monotonic()
        if now - self.drawn >= self.interval or self.done >= self.total:
            self.drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = now - self.start
        frac = min(1.0, self.done / self.total)
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        bar = "#" * int(frac * 24)
        line = (
            f"{self.label:>8} [{bar:<24}] {self.done}/{self.total} {frac:4.0%} "
            f"elapsed {_clock(elapsed)} ETA {_clock(eta)} {self.extra}"
        )
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        self._draw(time.monotonic())
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()
