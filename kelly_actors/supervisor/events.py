"""The run's event log: one JSON object per line in ``events.jsonl``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


class EventLog:
    """Appends events and flushes each, so the log survives a SIGKILL. The file is the
    user's alone (0600): a session's events say what the performer felt."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # a log left by an older version may be 0644
        self._file = os.fdopen(fd, "a", encoding="utf-8")

    def write(self, event: str, **detail: Any) -> dict[str, Any]:
        """Append ``event`` with ``detail``; return the record written."""
        record = {"time": time.time(), "event": event, "detail": detail}
        self._file.write(json.dumps(record, default=str) + "\n")
        self._file.flush()
        return record

    def close(self) -> None:
        self._file.close()
