"""The worker processes an inference actor starts on its own machine, and their restarts.

Each is ``python -m kelly_actors.inference.worker --connect ipc://… --parent PID``,
optionally pinned to core ``slot``; it dies with the actor. A process that exits is
restarted :data:`RESPAWN_DELAY_S` later (the pool sends its request elsewhere meanwhile).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

from kelly_actors.inference.config import PoolConfig

#: Seconds between a worker's exit and its replacement (a crash loop stays slow).
RESPAWN_DELAY_S = 0.2
#: Seconds :meth:`LocalWorkers.close` waits for workers to exit before killing them.
STOP_TIMEOUT_S = 2.0


class LocalWorkers:
    """``config.workers`` processes connecting to ``endpoint``.

    ``stats`` is the pool's counter table: ``spawned`` and ``worker_exits`` are counted
    in it; ``emit(event, **detail)`` reports each exit.
    """

    def __init__(
        self,
        config: PoolConfig,
        endpoint: str,
        stats: dict[str, int],
        emit: Callable[..., None],
    ) -> None:
        self.config = config
        self.endpoint = endpoint
        self.stats = stats
        self.emit = emit
        self.procs: list[subprocess.Popen | None] = [None] * config.workers
        self.respawn_at = [0.0] * config.workers
        for slot in range(config.workers):
            self._spawn(slot)

    def _spawn(self, slot: int) -> None:
        cmd = [
            sys.executable,
            "-m",
            "kelly_actors.inference.worker",
            "--connect",
            self.endpoint,
            "--provider",
            self.config.provider,
            "--threads",
            str(self.config.threads),
            "--parent",
            str(os.getpid()),
        ]
        if self.config.pin:
            cmd += ["--cpu", str(slot)]
        self.procs[slot] = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        self.stats["spawned"] += 1

    def pids(self) -> list[int]:
        """Process ids of the workers running now."""
        return [p.pid for p in self.procs if p is not None and p.poll() is None]

    def watch(self, now: float) -> list[int]:
        """Restart the workers due for it; the pids of those that exited since last time.

        ``now``: monotonic seconds.
        """
        exited = []
        for slot, proc in enumerate(self.procs):
            if proc is None:
                if now >= self.respawn_at[slot]:
                    self._spawn(slot)
                continue
            code = proc.poll()
            if code is None:
                continue
            self.stats["worker_exits"] += 1
            self.emit("worker_exited", pid=proc.pid, code=code)
            self.procs[slot] = None
            self.respawn_at[slot] = now + RESPAWN_DELAY_S
            exited.append(proc.pid)
        return exited

    def close(self) -> None:
        """Terminate every worker; kill those still there after :data:`STOP_TIMEOUT_S`."""
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in self.procs:
            if proc is None:
                continue
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
