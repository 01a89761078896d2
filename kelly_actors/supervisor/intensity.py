"""Restart intensity: at most MaxR restarts within MaxT seconds."""

from __future__ import annotations

from collections import deque


class RestartIntensity:
    """Counts restarts in a sliding window; one beyond the limit means escalate."""

    def __init__(self, max_restarts: int, period: float) -> None:
        self.max_restarts = max_restarts
        self.period = period
        #: ``time.monotonic()`` of each restart within the window (a successor restores it).
        self.times: deque[float] = deque()

    def allow(self, now: float) -> bool:
        """Record a restart at ``now`` (s); False when it is the MaxR+1-th within MaxT."""
        while self.times and now - self.times[0] > self.period:
            self.times.popleft()
        self.times.append(now)
        return len(self.times) <= self.max_restarts

    @property
    def recent(self) -> int:
        return len(self.times)
