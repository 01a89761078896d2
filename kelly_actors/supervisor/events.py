"""The run's event log: one JSON object per line in ``events.jsonl``, rotated by size.

When a write would take ``events.jsonl`` past ``max_bytes``, the log rotates first:
``events.jsonl.N-1`` becomes ``.N`` (the oldest, ``.keep``, is replaced), …, ``events.jsonl``
becomes ``.1``, and a fresh ``events.jsonl`` takes the event. Every step is one
``rename``, so a supervisor killed mid-rotation leaves whole files under their names (at
worst one number missing) and its successor, which reopens the log in append mode, simply
goes on: the run has one writer at a time, the successor starting only after its
predecessor is dead. Readers (``kelly log``) read ``.N`` … ``.1`` then ``events.jsonl``:
:func:`rotated_paths`.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

#: Rotate when a write would take the log past this size (bytes): 16 MiB is about 80 000
#: events, days of a performance's usual traffic.
MAX_BYTES = 16 * 1024 * 1024
#: Rotated files kept (``events.jsonl.1`` … ``.5``); the oldest beyond is deleted.
KEEP = 5
#: The log and its rotated files are the user's alone: a session's events say what the
#: performer felt.
MODE = 0o600


def rotated_path(path: Path, number: int) -> Path:
    """The ``number``-th rotated file of ``path`` (1 is the newest)."""
    return path.with_name(f"{path.name}.{number}")


def rotated_paths(path: Path) -> list[Path]:
    """The rotated files of ``path`` that exist, oldest first (whatever ``keep`` wrote them)."""
    pattern = re.compile(re.escape(path.name) + r"\.([1-9][0-9]*)")
    found = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    for name in names:
        match = pattern.fullmatch(name)
        if match:
            found.append((int(match.group(1)), path.parent / name))
    return [p for _, p in sorted(found, reverse=True)]


class EventLog:
    """Appends events, each with one ``write(2)``, so the log survives a SIGKILL whole;
    rotates at ``max_bytes`` (bytes), keeping ``keep`` old files. All files are 0600."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, keep: int = KEEP) -> None:
        if max_bytes <= 0 or keep < 0:
            raise ValueError("need max_bytes > 0 and keep >= 0")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.keep = keep
        self._fd = -1
        self._size = 0
        self._open()

    def _open(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, MODE)
        os.fchmod(fd, MODE)  # a log left by an older version may be 0644
        self._fd = fd
        # The predecessor's events count: a successor appends after them.
        self._size = os.fstat(fd).st_size

    def write(self, event: str, **detail: Any) -> dict[str, Any]:
        """Append ``event`` with ``detail``; return the record written."""
        record = {"time": time.time(), "event": event, "detail": detail}
        self.append(record)
        return record

    def append(self, record: dict[str, Any]) -> None:
        """Append a record made elsewhere (the take's copy of the run's log, with the same
        time)."""
        data = (json.dumps(record, default=str) + "\n").encode()
        if self._size and self._size + len(data) > self.max_bytes:
            self.rotate()
        view = memoryview(data)
        while view:  # a regular file takes it whole; the loop is for the rule, not the case
            written = os.write(self._fd, view)
            view = view[written:]
        self._size += len(data)

    def rotate(self) -> None:
        """Shift ``.N-1`` → ``.N`` … ``events.jsonl`` → ``.1`` and start a fresh file."""
        os.close(self._fd)
        self._fd = -1
        if self.keep == 0:
            self.path.unlink(missing_ok=True)
        else:
            for number in range(self.keep - 1, 0, -1):
                older = rotated_path(self.path, number)
                if older.exists():  # a number may be missing after a kill mid-rotation
                    os.replace(older, rotated_path(self.path, number + 1))
            if self.path.exists():
                os.replace(self.path, rotated_path(self.path, 1))
        self._open()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
