"""Whether an actor still has a supervisor, and finding the next one after a death.

A supervisor can die (``kill -9``) while the music plays. Its actors do not stop with it:
for ``adoption_grace`` seconds they play on from the rings and look for a successor in the
run directory's ``supervisor.json`` (the watchdog starts one, which publishes there once it
holds the run). A successor for the same run tag, alive, adopts them; without one the actor
stops cleanly when the grace period ends, so nothing outlives a run for long.
"""

from __future__ import annotations

import json
from pathlib import Path

from kelly_actors.actor.launch import SUPERVISOR_INFO, Launch
from kelly_actors.actor.pids import alive


class SupervisorWatch:
    """Checked from the actor's loop every few hundred milliseconds (see ``runtime``)."""

    def __init__(self, launch: Launch) -> None:
        self.pid = launch.supervisor_pid
        self.tag = launch.tag
        self.grace = launch.adoption_grace
        self.info_path = Path(launch.run_dir) / SUPERVISOR_INFO if launch.run_dir else None
        #: ``time.monotonic()`` when the supervisor was found dead; None while it lives.
        self.orphaned_since: float | None = None
        #: (previous pid, seconds without a supervisor) of the last adoption, until taken.
        self.adopted: tuple[int, float] | None = None

    def keep_running(self, now: float) -> bool:
        """False once the actor should stop: its supervisor is dead and no successor came
        within the grace period (at once when the grace is 0)."""
        if alive(self.pid):
            return True
        if self.grace <= 0 or self.info_path is None:
            return False
        if self.orphaned_since is None:
            self.orphaned_since = now
        successor = self._successor()
        if successor is not None:
            self.adopted = (self.pid, now - self.orphaned_since)
            self.pid = successor
            self.orphaned_since = None
            return True
        return now - self.orphaned_since <= self.grace

    def take_adoption(self) -> tuple[int, float] | None:
        """The last adoption not yet reported, once."""
        adopted, self.adopted = self.adopted, None
        return adopted

    def _successor(self) -> int | None:
        assert self.info_path is not None
        try:
            info = json.loads(self.info_path.read_text())
            pid, tag = int(info["pid"]), str(info["tag"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none yet, or being replaced: look again next time
        if tag != self.tag or pid == self.pid or not alive(pid):
            return None
        return pid
