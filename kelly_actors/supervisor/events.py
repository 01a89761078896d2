"""The run's event log: one JSON object per line in ``events.jsonl``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


class EventLog:
    """Appends events and flushes each, so the log survives a SIGKILL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("a", encoding="utf-8")

    def write(self, event: str, **detail: Any) -> dict[str, Any]:
        """Append ``event`` with ``detail``; return the record written."""
        record = {"time": time.time(), "event": event, "detail": detail}
        self._file.write(json.dumps(record, default=str) + "\n")
        self._file.flush()
        return record

    def close(self) -> None:
        self._file.close()
