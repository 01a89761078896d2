"""Exponential backoff with jitter for restarts in quick succession."""

from __future__ import annotations

import random


class Backoff:
    """Delay before restarting an actor that keeps failing.

    The first restart after a stable run is immediate (a crash on stage wants
    its sound back now); the n-th failure in a row waits
    ``initial · 2^(n-2)`` seconds, capped at ``maximum``, scaled by a random
    factor in [0.5, 1] so actors failing together do not restart in lockstep.
    """

    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """Count one more failure in a row and return the delay (s) to wait."""
        self.failures += 1
        if self.failures == 1 or self.initial == 0:
            return 0.0
        delay = min(self.maximum, self.initial * 2 ** (self.failures - 2))
        return delay * self._rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        """The actor ran stably: its next failure restarts at once."""
        self.failures = 0
