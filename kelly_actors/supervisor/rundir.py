"""The run directory: how other commands find a running performance.

``supervisor.json`` holds the supervisor's pid, the run tag and its ZeroMQ
endpoints; ``events.jsonl`` the run's event log. A run counts as alive while
the lock on its tag is held (see :mod:`kelly_actors.bus.namespace`), which a
pid alone cannot tell once pids are reused.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from kelly_actors.actor.launch import SUPERVISOR_INFO
from kelly_actors.bus import namespace
from kelly_actors.files import atomic_write, private_dir

ENV_RUN_DIR = "KELLY_RUN_DIR"
# sockaddr_un.sun_path holds 108 bytes including the NUL.
_MAX_IPC_PATH = 107


def default_run_dir() -> Path:
    """``$KELLY_RUN_DIR``, else ``$XDG_RUNTIME_DIR/kelly`` (a per-user directory the login
    session owns), else ``<tmp>/kelly-<uid>``."""
    env = os.environ.get(ENV_RUN_DIR)
    if env:
        return Path(env)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        return Path(runtime) / "kelly"
    return Path(tempfile.gettempdir()) / f"kelly-{os.getuid()}"


@dataclass(frozen=True)
class RunInfo:
    """What ``supervisor.json`` says about a run."""

    pid: int
    tag: str
    control: str
    status: str
    actors: str
    started: float
    config: str


class RunDir:
    """A directory owned by at most one live performance."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def info_path(self) -> Path:
        return self.path / SUPERVISOR_INFO

    @property
    def events_path(self) -> Path:
        return self.path / "events.jsonl"

    def ipc_endpoint(self, name: str) -> str:
        sock = self.path.resolve() / f"{name}.sock"
        if len(str(sock)) > _MAX_IPC_PATH:
            raise ValueError(f"run directory path too long for an ipc socket: {sock}")
        return f"ipc://{sock}"

    def read(self) -> RunInfo | None:
        """The recorded run, or None when there is none or it is unreadable."""
        try:
            data = json.loads(self.info_path.read_text())
            return RunInfo(**data)
        except (OSError, ValueError, TypeError):
            return None

    def running(self) -> RunInfo | None:
        """The recorded run if it is alive."""
        info = self.read()
        if info is None or namespace.run_is_dead(info.tag):
            return None
        return info

    def publish(self, info: RunInfo) -> None:
        """Write ``supervisor.json`` atomically (0600, in the private run directory)."""
        private_dir(self.path)
        atomic_write(self.info_path, json.dumps(asdict(info), indent=2), mode=0o600)

    def retract(self, tag: str) -> None:
        """Remove ``supervisor.json`` if it still describes run ``tag``."""
        info = self.read()
        if info is not None and info.tag == tag:
            self.info_path.unlink(missing_ok=True)
        for name in ("control", "status", "actors"):
            (self.path / f"{name}.sock").unlink(missing_ok=True)
