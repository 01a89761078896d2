"""Map transport sample times to ``time.monotonic()`` seconds.

The clock actor publishes its sample counter once per block; a reader sees
each value some time after it was published, never before. So for every
observation ``t_seen − counter / rate`` is the true offset plus a
non-negative delay, and the smallest value seen is the best estimate. The
estimate may creep up by ``drift_per_s`` (seconds per second) so a clock
that runs slightly slow (a sound card's crystal) is followed; a clock that
runs fast lowers the minimum by itself. A jump (the clock restarted, a
stall skipped ahead) is re-learnt from scratch.
"""

from __future__ import annotations

#: How much the offset estimate may rise per second of wall time (200 ppm).
DEFAULT_DRIFT_PER_S = 2e-4
#: An observation this far (s) above the estimate means the clock jumped.
JUMP_S = 0.25


class SampleClock:
    """Estimates ``offset`` so that ``monotonic ≈ offset + sample / rate``."""

    def __init__(self, sample_rate: int, drift_per_s: float = DEFAULT_DRIFT_PER_S) -> None:
        self.sample_rate = sample_rate
        self.drift_per_s = drift_per_s
        self.offset: float | None = None
        self._last_seen = 0.0

    def observe(self, sample_counter: int, now: float) -> None:
        """Record that the transport showed ``sample_counter`` at monotonic ``now``."""
        candidate = now - sample_counter / self.sample_rate
        if self.offset is None or abs(candidate - self.offset) > JUMP_S:
            self.offset = candidate
        else:
            allowed = self.offset + self.drift_per_s * max(0.0, now - self._last_seen)
            self.offset = min(candidate, allowed)
        self._last_seen = now

    def time_of(self, sample: int | float) -> float:
        """Monotonic seconds at which ``sample`` plays (``observe`` must have run)."""
        assert self.offset is not None
        return self.offset + sample / self.sample_rate

    def sample_at(self, now: float) -> float:
        """The transport sample playing at monotonic ``now``."""
        assert self.offset is not None
        return (now - self.offset) * self.sample_rate
