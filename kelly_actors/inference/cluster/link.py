"""The inference actor's side of the Ray backend: it starts the bridge process
(:mod:`~kelly_actors.inference.cluster.bridge`), starts it again ``reconnect_s`` after it
exits (the local pool serves meanwhile) and reads the figures it writes.

Nothing here talks to Ray or waits: the actor's loop calls :meth:`BridgeLink.watch`, which
only polls the process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kelly_actors.inference.cluster.config import ClusterConfig

#: Seconds close() waits for the bridge before killing it.
STOP_TIMEOUT_S = 2.0
#: A stats file older than this says nothing about the cluster now.
STALE_S = 3.0


class BridgeLink:
    """One bridge process serving the pool at ``endpoint``; its stderr goes to
    ``<run dir>/cluster-<actor>.log``, its figures to ``cluster-<actor>.json``.
    ``emit(event, **detail)``: ``cluster_bridge_started``, ``cluster_unreachable`` (with
    the bridge's last line: why)."""

    def __init__(
        self,
        config: ClusterConfig,
        endpoint: str,
        run_dir: Path,
        name: str,
        emit: Callable[..., None],
    ) -> None:
        self.config = config
        self.endpoint = endpoint
        self.log_path = run_dir / f"cluster-{name}.log"
        self.stats_path = run_dir / f"cluster-{name}.json"
        self.emit = emit
        self.proc: subprocess.Popen | None = None
        self.log = None
        self.start_at = 0.0
        self.starts = 0
        self.exits = 0
        self.reason = ""
        self._spawn()

    def _spawn(self) -> None:
        self.stats_path.unlink(missing_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "kelly_actors.inference.cluster.bridge",
            "--connect",
            self.endpoint,
            "--config",
            json.dumps(dataclasses.asdict(self.config)),
            "--stats",
            str(self.stats_path),
            "--parent",
            str(os.getpid()),
        ]
        self.log = open(self.log_path, "ab")  # noqa: SIM115 — kept open while it runs
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=self.log)
        self.starts += 1
        self.emit("cluster_bridge_started", pid=self.proc.pid, attempt=self.starts)

    def watch(self, now: float) -> int | None:
        """Start the bridge again when it is due; the pid of one that exited since the
        last call (its slots' requests are then the pool's to retry), else None."""
        if self.proc is None:
            if now >= self.start_at:
                self._spawn()
            return None
        code = self.proc.poll()
        if code is None:
            return None
        pid = self.proc.pid
        self.proc = None
        self.log.close()
        self.exits += 1
        self.reason = _last_line(self.log_path) or f"the bridge exited with code {code}"
        self.start_at = now + self.config.reconnect_s
        self.emit("cluster_unreachable", pid=pid, code=code, reason=self.reason)
        return pid

    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def telemetry(self) -> dict[str, Any]:
        """The bridge's figures (address, replicas with batch sizes and latency, round
        trip) while they are fresh, and whether it runs, how often it started, why it
        last stopped."""
        out: dict[str, Any] = {
            "bridge_pid": self.pid(),
            "starts": self.starts,
            "exits": self.exits,
            "last_problem": self.reason,
        }
        try:
            stats = json.loads(self.stats_path.read_text())
        except (OSError, ValueError):
            stats = None
        out["connected"] = bool(
            stats and self.pid() is not None and time.time() - stats.get("time", 0) < STALE_S
        )
        if stats:
            out.update({k: v for k, v in stats.items() if k not in ("pid", "time")})
        return out

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None and not self.log.closed:
            self.log.close()


def _last_line(path: Path) -> str:
    try:
        lines = [x for x in path.read_text(errors="replace").splitlines() if x.strip()]
    except OSError:
        return ""
    return lines[-1].strip()[:300] if lines else ""
