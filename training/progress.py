"""The training pipelines' progress bar: one line with rate and ETA on stderr (no dependency).

When ``kelly train`` runs a pipeline it also names a file in the run directory
(environment ``KELLY_PROGRESS_FILE``): every bar then writes its state there as JSON, at most once
a second and atomically, and the performance's status (``kelly top``) shows it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TextIO

from kelly_actors.supervisor.training_runs import ENV_FILE, ENV_NAME, write_state

PUBLISH_INTERVAL_S = 1.0


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
        target = os.environ.get(ENV_FILE)
        self.publish_to = Path(target) if target else None
        self.published = 0.0

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
        if self.publish_to is not None and now - self.published >= PUBLISH_INTERVAL_S:
            self._publish(now)

    def _eta(self, now: float) -> tuple[float, float, float]:
        """(elapsed s, fraction done, ETA s)."""
        elapsed = now - self.start
        frac = min(1.0, self.done / self.total)
        rate = (self.done - self.first) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        return elapsed, frac, eta

    def _draw(self, now: float) -> None:
        elapsed, frac, eta = self._eta(now)
        bar = "#" * int(frac * 24)
        line = (
            f"{self.label:>8} [{bar:<24}] {self.done}/{self.total} {frac:4.0%} "
            f"elapsed {clock(elapsed)} ETA {clock(eta)} {self.extra}"
        )
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def _publish(self, now: float) -> None:
        """Write the state to :attr:`publish_to`. Publishing is a courtesy: a full
        disk or a vanished run directory only stops it, never the training."""
        self.published = now
        elapsed, frac, eta = self._eta(now)
        state = {
            "run": os.environ.get(ENV_NAME, ""),
            "stage": self.label,
            "done": self.done,
            "total": self.total,
            "fraction": round(frac, 4),
            "elapsed_s": round(elapsed, 1),
            "eta_s": round(eta, 1),
            "extra": self.extra,
            "pid": os.getpid(),
            "time": time.time(),
        }
        try:
            write_state(self.publish_to, state)
        except OSError as exc:
            print(f"progress: not published ({exc})", file=sys.stderr)
            self.publish_to = None

    def close(self) -> None:
        now = time.monotonic()
        self._draw(now)
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()
        if self.publish_to is not None:
            self._publish(now)
