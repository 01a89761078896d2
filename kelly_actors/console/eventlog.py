"""``kelly log``: the run's ``events.jsonl`` printed one readable line per event.

``12:04:31.207  actor_exited      meter  reason=killed by SIGKILL commanded=false``

The rotated files (``events.jsonl.N`` … ``.1``, see :mod:`kelly_actors.supervisor.events`)
come first, oldest first. With ``--follow`` the log is read as it grows, across rotations,
until the run writes ``run_stopped`` (or Ctrl-C). A line that is not a JSON event record is
printed as ``?? <the line>`` and reading goes on: a log cut short by a crash still shows
everything before the cut.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from kelly_actors.supervisor.events import rotated_paths

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


#: How long a reader tries for a listing of the log's files that no rotation changed (s).
SNAPSHOT_S = 1.0


def _snapshot(path: Path) -> list[tuple[IO[bytes], int]]:
    """The log's files, oldest first, each opened (with its inode), as they were at one
    moment: the listing is taken again until two agree, because the writer may rotate
    while the names are being read. Open files keep their inodes from being reused, so
    the comparison is sound. At any moment of a rotation the names are in time order."""
    deadline = time.monotonic() + SNAPSHOT_S
    while True:
        opened = []
        for name in [*rotated_paths(path), path]:
            try:
                file = name.open("rb")
            except FileNotFoundError:
                continue  # rotated away between the listing and the open
            opened.append((name, file, os.fstat(file.fileno()).st_ino))
        again = [(name, _inode(name)) for name in [*rotated_paths(path), path]]
        if [(n, i) for n, i in again if i >= 0] == [(n, i) for n, _, i in opened]:
            return [(file, ino) for _, file, ino in opened]
        if time.monotonic() > deadline:  # rotating without pause: take what was opened
            unique = {ino: file for _, file, ino in reversed(opened)}
            return [(file, ino) for _, file, ino in opened if unique[ino] is file]
        for _, file, _ in opened:
            file.close()


class _Chain:
    """The log's files in order, ``events.jsonl.N`` … ``.1`` then ``events.jsonl``, read as
    one stream of lines; it moves on to the next file when the writer rotates the log.

    Files are told apart by inode, which cannot be reused while this reader holds the file
    open; so a file already read is never read again, whatever name it has since taken."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: list[tuple[IO[bytes], int]] = _snapshot(path)
        self.current: IO[bytes] | None = None
        self.current_ino = -1

    def _advance(self) -> bool:
        """Make the next queued file current (closing the one read); False when none."""
        if self.current is not None:
            self.current.close()
            self.current = None
        if not self.files:
            return False
        self.current, self.current_ino = self.files.pop(0)
        return True

    def read_line(self) -> bytes:
        """The next chunk of the current file (a line, or a line's start the writer is
        still writing), moving on through queued files; b"" at the end of the last."""
        while True:
            if self.current is None and not self._advance():
                return b""
            assert self.current is not None
            chunk = self.current.readline()
            if not self.files:
                return chunk  # the newest file: a line without its end is still being written
            if chunk:
                # An older file is finished: a line cut short there (a crash) ends with it
                # rather than swallowing the next file's first line.
                return chunk if chunk.endswith(b"\n") else chunk + b"\n"
            self._advance()

    def follow_rotation(self) -> bool:
        """At the end of the newest file: when the writer has rotated the log (``events.jsonl``
        is another inode) queue the files written since; when it was truncated, read it
        again from the start. True when there is something new to read."""
        try:
            st = os.stat(self.path)  # once: inode and size must describe the same file
        except FileNotFoundError:
            return False  # mid-rotation: the fresh file is not there yet
        if self.current is None:
            self.files = _snapshot(self.path)
            return bool(self.files)
        if st.st_ino == self.current_ino:
            if st.st_size < self.current.tell():
                self.current.seek(0)
                return True
            return False
        # Rotated. The writer may have added lines to the current file before renaming it,
        # so it stays current and is read to its end first; then the files after it. When
        # it is no longer listed it was rotated out of the log: every listed file is newer.
        files = _snapshot(self.path)
        inodes = [ino for _, ino in files]
        start = inodes.index(self.current_ino) + 1 if self.current_ino in inodes else 0
        for file, _ in files[:start]:
            file.close()
        self.files = files[start:]
        return True

    def close(self) -> None:
        for file, _ in self.files:
            file.close()
        if self.current is not None:
            self.current.close()


def _inode(path: Path) -> int:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return -1


def _text(chunk: bytes) -> str:
    return chunk.decode("utf-8", errors="replace")


def follow_lines(
    path: Path, keep_going: Callable[[], bool], poll_s: float = FOLLOW_POLL_S
) -> Iterator[str]:
    """Complete lines of the log at ``path`` (its rotated files first) as they are written,
    across rotations, until ``run_stopped`` is the last line in the log, or ``keep_going()``
    is false while no new line is waiting. An earlier run's ``run_stopped`` in the same log
    is not the end: more lines follow it."""
    chain = _Chain(path)
    partial = b""
    stopped = False
    try:
        while True:
            chunk = chain.read_line()
            if chunk:
                partial += chunk
                if not partial.endswith(b"\n"):
                    continue  # the writer is mid-line; the rest comes with the next read
                line, partial = _text(partial), b""
                yield line
                stopped = _is_stop(line)
            elif chain.follow_rotation():
                continue
            elif stopped:
                return
            elif keep_going():
                time.sleep(poll_s)  # a file offers nothing to wait on portably; poll it
            else:
                if partial:
                    yield _text(partial)  # a line cut short by a crash: shown, not dropped
                return
    finally:
        chain.close()


def read_lines(path: Path) -> Iterator[str]:
    """Every line of the log at ``path``, its rotated files oldest first."""
    chain = _Chain(path)
    try:
        while chunk := chain.read_line():
            yield _text(chunk)
    finally:
        chain.close()


def print_log(path: Path, follow: bool, out: IO[str], keep_going: Callable[[], bool]) -> None:
    """Print every event in the log at ``path`` (``events.jsonl.N`` … ``.1``, then
    ``events.jsonl``); with ``follow``, keep printing new ones, across rotations."""
    lines = follow_lines(path, keep_going) if follow else read_lines(path)
    for line in lines:
        if line.strip():
            out.write(format_line(line) + "\n")
            if follow:
                out.flush()
