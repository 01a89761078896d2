"""The audio actor's view of a warm standby: switches, divergence, replacements.

The callback (either engine) picks each block from the active synth's ring or
the standby's and compares the two (``audio/engine.py``). This module, run on
the actor's thread, turns its counters into events and, for a standby whose
blocks differ from the active synth's, asks the supervisor to restart that
synth — rate-limited, so a standby that cannot be brought back in step (a
timbre the rebuild cannot reproduce) is left out, said so, and not restarted
in a loop.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

#: At most this many replacements of one ring's writer per window (s).
MAX_REPLACES = 3
REPLACE_WINDOW_S = 60.0
#: A replaced writer gets this long (s) to come back in step before another request.
REPLACE_GRACE_S = 3.0


class StandbyWatch:
    """Reports what the callback did with two output rings.

    Args:
        rings: the two ring names, ``(out_ring, standby_ring)``.
        ctx: the actor's context (events, replacement requests, health).
    """

    def __init__(self, rings: tuple[str, str], ctx: Any) -> None:
        self.rings = rings
        self.ctx = ctx
        self.switches = 0
        self.diverged = [0, 0]
        self.replaced: list[deque[float]] = [deque(), deque()]
        self.left_out = ""

    def check(self, engine: Any, now: float | None = None) -> None:
        """Emit events for new switches and divergences; replace a diverged standby."""
        now = time.monotonic() if now is None else now
        if engine.switches > self.switches:
            active = engine.active
            self.ctx.emit(
                "synth_switched",
                to=self.rings[active],
                away_from=self.rings[1 - active],
                switches=engine.switches,
                sample=engine.sample,
            )
            self.switches = engine.switches
        for k in (0, 1):
            if engine.diverged[k] > self.diverged[k]:
                self._on_divergence(k, engine.diverged[k] - self.diverged[k], now)
                self.diverged[k] = engine.diverged[k]

    def _on_divergence(self, k: int, blocks: int, now: float) -> None:
        ring = self.rings[k]
        self.ctx.emit("standby_diverged", ring=ring, blocks=blocks)
        recent = self.replaced[k]
        while recent and now - recent[0] > REPLACE_WINDOW_S:
            recent.popleft()
        if recent and now - recent[-1] < REPLACE_GRACE_S:
            return  # the last replacement is still coming back in step
        if len(recent) >= MAX_REPLACES:
            if not self.left_out:
                self.left_out = f"the standby writing {ring} keeps diverging: not switched to"
                self.ctx.set_degraded(self.left_out)
            return
        recent.append(now)
        self.ctx.request_replace(ring, f"its blocks differ from the active synth's ({blocks})")

    def underrun_blame(self) -> str:
        return f"both synths ({self.rings[0]} and {self.rings[1]} ran dry)"

    def telemetry(self, engine: Any) -> dict[str, Any]:
        return {
            "standby_ring": self.rings[1],
            "active_ring": self.rings[engine.active],
            "standby_trusted": bool(engine.trusted[1 - engine.active]),
            "switches": engine.switches,
            "diverged_blocks": {self.rings[k]: engine.diverged[k] for k in (0, 1)},
            "standby_left_out": self.left_out,
        }
