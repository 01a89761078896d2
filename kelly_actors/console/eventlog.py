"""``kelly log``: the run's ``events.jsonl`` printed one readable line per event.

``12:04:31.207  actor_exited      meter  reason=killed by SIGKILL commanded=false``

With ``--follow`` the file is read as it grows until the run writes
``run_stopped`` (or Ctrl-C). A line that is not a JSON event record is
printed as ``?? <the line>`` and reading goes on: a log cut short by a
crash still shows everything before the cut.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

#: How often ``--follow`` looks for new lines (s).
FOLLOW_POLL_S = 0.1
#: Detail values longer than this are cut (tracebacks), with the length shown.
MAX_VALUE_CHARS = 160


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text.replace("\n", "⏎")
    if len(text) > MAX_VALUE_CHARS:
        return f"{text[:MAX_VALUE_CHARS]}… ({len(text)} chars)"
    return text


def format_event(record: dict[str, Any]) -> str:
    """One line: local time with ms, the event name, its actor, the other details."""
    stamp = datetime.fromtimestamp(float(record.get("time", 0.0))).strftime("%H:%M:%S.%f")[:-3]
    detail = dict(record.get("detail") or {})
    actor = detail.pop("actor", "")
    rest = " ".join(f"{k}={_value(v)}" for k, v in detail.items())
    return f"{stamp}  {record.get('event', '?'):<18} {actor:<10} {rest}".rstrip()


def format_line(line: str) -> str:
    """A raw ``events.jsonl`` line, formatted; ``?? line`` when it is not a record."""
    try:
        record = json.loads(line)
    except ValueError:
        return f"?? {line.rstrip()}"
    if not isinstance(record, dict) or "event" not in record:
        return f"?? {line.rstrip()}"
    try:
        return format_event(record)
    except (TypeError, ValueError, OverflowError):
        return f"?? {line.rstrip()}"


def _is_stop(line: str) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and record.get("event") == "run_stopped"


def follow_lines(
    file: IO[str], keep_going: Callable[[], bool], poll_s: float = FOLLOW_POLL_S
) -> Iterator[str]:
    """Complete lines of ``file`` as they are written, until ``run_stopped`` or
    ``keep_going()`` is false while no new line is waiting."""
    partial = ""
    while True:
        chunk = file.readline()
        if chunk:
            partial += chunk
            if not partial.endswith("\n"):
                continue  # the writer is mid-line; the rest comes with the next read
            line, partial = partial, ""
            yield line
            if _is_stop(line):
                return
        elif keep_going():
            time.sleep(poll_s)  # a file offers nothing to wait on portably; poll it
        else:
            return


def print_log(path: Path, follow: bool, out: IO[str], keep_going: Callable[[], bool]) -> None:
    """Print every event in ``path``; with ``follow``, keep printing new ones."""
    with path.open(encoding="utf-8", errors="replace") as file:
        if not follow:
            for line in file:
                if line.strip():
                    out.write(format_line(line) + "\n")
            return
        for line in follow_lines(file, keep_going):
            if line.strip():
                out.write(format_line(line) + "\n")
                out.flush()
