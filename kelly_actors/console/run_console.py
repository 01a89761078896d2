"""``kelly run``'s voice: a small process beside the watchdog that says what the run does.

``kelly run`` starts it (:func:`start`) unless ``--quiet`` or its stdout is ``/dev/null``.
It reads the run's event records from ``events.jsonl`` (a file has no slow joiner: the first
actors' ``actor_ready`` is never missed; ``kelly run`` opens the log at its end and hands the
descriptor over, so no earlier run's record shows) and status snapshots from the
supervisor's status PUB (:class:`~kelly_actors.console.connection.StatusFeed`, as
``kelly top``), and prints (:mod:`.run_lines`): the start, one line per notable event, and
in a terminal one live status line redrawn in place (rich); elsewhere the same lines,
plain, without the status line. At the end ``kelly run`` writes one JSON line to its stdin,
``{"exit_code": N, "reason": "…"}``; it prints the summary — ``run.json`` when the run was
recorded, else the same facts from the last snapshot — and exits.

The watchdog never waits on it, except :data:`SUMMARY_WAIT_S` at the very end: a stalled
terminal, a closed pipe or this process's death cost the music nothing. It ignores SIGINT
(Ctrl-C stops the run through the watchdog; this stays to print the summary) and leaves by
itself when ``kelly run`` dies.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from kelly_actors.console.connection import Endpoints, StatusFeed
from kelly_actors.console.run_lines import (
    Line,
    RunFacts,
    all_ready_line,
    clock,
    event_line,
    not_ready_line,
    opening_line,
    ready_line,
    stamp,
    start_lines,
    status_line,
    summary_from_snapshot,
    summary_lines,
)
from kelly_actors.supervisor.rundir import RunDir

#: What ``python -m`` runs.
MODULE = "kelly_actors.console.run_console"
#: How often the console looks at its inputs (s); also the status line's slowest redraw.
POLL_S = 0.1
#: The status line is redrawn at most this often (s).
REDRAW_S = 0.25
#: After this long without every actor ready (s), say who is missing and go on.
START_WAIT_S = 60.0
#: After every actor is ready, wait this long (s) for a snapshot with the audio figures.
FACTS_WAIT_S = 10.0
#: How long ``kelly run`` waits at the end for the summary to be printed (s).
SUMMARY_WAIT_S = 5.0
#: The console is not real-time: it yields the CPU to the actors.
NICENESS = 10


class EventTail:
    """New records of the run's ``events.jsonl``, across a rotation.

    ``fd``: the log as ``kelly run`` found it, positioned at its end (None: there was no
    log; the file that appears is read from its start)."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self.file: IO[bytes] | None = os.fdopen(fd, "rb") if fd is not None else None
        self.partial = b""
        self.bad_lines = 0

    def _inode(self) -> int:
        try:
            return os.stat(self.path).st_ino
        except FileNotFoundError:
            return -1

    def read(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        while True:
            if self.file is None:
                try:
                    self.file = self.path.open("rb")
                except FileNotFoundError:
                    return records
            records.extend(self._parse(self.file.read()))
            inode = self._inode()
            if inode in (-1, os.fstat(self.file.fileno()).st_ino):
                return records
            # Rotated: the old file is read to its end above; the new one from its start.
            self.file.close()
            self.file = None
            self.partial = b""

    def _parse(self, data: bytes) -> list[dict[str, Any]]:
        if not data:
            return []
        *lines, self.partial = (self.partial + data).split(b"\n")
        records = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                self.bad_lines += 1
                continue
            if isinstance(record, dict) and "event" in record:
                records.append(record)
        return records

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class PlainOut:
    """Lines for a log or a pipe: one per event, with the time; no status line."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def line(self, line: Line, when: float | None = None) -> None:
        prefix = f"{stamp(when)} " if when is not None else ""
        self.stream.write(prefix + line.text + "\n")
        self.stream.flush()

    def status(self, text: str) -> None:
        pass  # a log wants events, not a line redrawn four times a second

    def close(self) -> None:
        pass


class TerminalOut:
    """A terminal: lines scroll above one live status line that rich redraws in place."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text

        self.text = Text
        # The terminal's own size, followed as it is resized; not a COLUMNS someone exported.
        for name in ("COLUMNS", "LINES"):
            os.environ.pop(name, None)
        self.console = Console(highlight=False)
        self.live = Live(
            Text(""),
            console=self.console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.live.start()

    def line(self, line: Line, when: float | None = None) -> None:
        text = self.text()
        if when is not None:
            text.append(f"{stamp(when)} ", style="dim")
        text.append(line.text, style=line.style or "")
        self.console.print(text)

    def status(self, text: str) -> None:
        self.live.update(self.text(text, no_wrap=True, overflow="ellipsis"), refresh=True)

    def close(self) -> None:
        self.live.stop()


class RunConsole:
    """Follows one run from its start to its summary; :meth:`run` returns when it ends."""

    def __init__(self, facts: RunFacts, out: PlainOut | TerminalOut, tail: EventTail) -> None:
        self.facts = facts
        self.out = out
        self.tail = tail
        self.run_dir = RunDir(Path(facts.run_dir))
        self.feed: StatusFeed | None = None
        self.snapshot: dict[str, Any] | None = None
        self.spawned: dict[str, float] = {}
        self.ready: set[str] = set()
        #: starting → facts (every actor ready, waiting for the figures) → playing.
        self.phase = "starting"
        self.facts_due = 0.0
        self.seen_run = False
        self.stop_reason = ""
        self.end: dict[str, Any] | None = None
        self.control = b""
        self.redrawn = 0.0

    def run(self) -> None:
        self.out.line(opening_line(self.facts))
        try:
            while self.end is None:
                if os.getppid() != self.facts.watchdog_pid:
                    return  # kelly run is gone: nobody is left to tell us how it ended
                self._step()
            self._events()
            self._snapshots()
        finally:
            self.out.close()
            if self.feed is not None:
                self.feed.close()
            self.tail.close()
        self._summary()

    # ------------------------------------------------------------ inputs
    def _step(self) -> None:
        ready, _, _ = select.select([sys.stdin.fileno()], [], [], POLL_S)
        if ready:
            self._read_control()
        self._events()
        self._connect()
        self._snapshots()
        now = time.monotonic()
        if self.phase == "starting" and time.time() - self.facts.started > START_WAIT_S:
            waiting = [a for a in self.facts.actors if a not in self.ready]
            self.out.line(not_ready_line(waiting, time.time() - self.facts.started))
            self._all_ready(now)
        if self.phase == "facts" and now >= self.facts_due:
            self._say_facts()
        if now - self.redrawn > REDRAW_S:
            self._redraw()
            self.redrawn = now

    def _redraw(self) -> None:
        elapsed = time.time() - self.facts.started
        if self.phase == "playing" and self.snapshot is not None:
            self.out.status(status_line(self.snapshot, elapsed))
        elif self.phase == "starting":
            count = f"{len(self.ready)}/{len(self.facts.actors)}"
            self.out.status(f"starting: {count} actors ready · {clock(elapsed)}")

    def _read_control(self) -> None:
        data = os.read(sys.stdin.fileno(), 4096)
        if not data:  # kelly run closed it without a word: it is ending
            self.end = {"exit_code": None, "reason": ""}
            return
        self.control += data
        if b"\n" in self.control:
            line = self.control.split(b"\n", 1)[0]
            try:
                self.end = json.loads(line)
            except ValueError:
                self.end = {"exit_code": None, "reason": ""}

    def _connect(self) -> None:
        """Subscribe to the status of this run's supervisor, once it has published it
        (a successor replaces it: the feed is made again after ``supervisor_adopted``)."""
        if self.feed is not None:
            return
        info = self.run_dir.read()
        if info is None or info.tag != self.facts.tag:
            return  # another run's record, or our supervisor not published yet
        self.feed = StatusFeed(Endpoints(info.control, info.status, info.config, str(info.pid)))

    def _snapshots(self) -> None:
        if self.feed is None:
            return
        if self.feed.drain():
            self.snapshot = self.feed.snapshot
            if self.phase == "facts" and self._figures_in(self.snapshot):
                self._say_facts()

    @staticmethod
    def _figures_in(snapshot: dict[str, Any] | None) -> bool:
        actors = (snapshot or {}).get("actors") or []
        return any("period_ms" in (a.get("telemetry") or {}) for a in actors) and all(
            a.get("telemetry") for a in actors if a.get("state") in ("ready", "degraded")
        )

    # ------------------------------------------------------------ events
    def _events(self) -> None:
        for record in self.tail.read():
            self._on_event(record)

    def _on_event(self, record: dict[str, Any]) -> None:
        event = record.get("event")
        detail = record.get("detail") or {}
        when = float(record.get("time") or time.time())
        actor = str(detail.get("actor", ""))
        if not self.seen_run:
            # Until our supervisor opens the log, what is written there is another run's:
            # one that already plays in this run directory (ours then stops at once).
            self.seen_run = event == "run_started" and detail.get("tag") == self.facts.tag
            return
        if event == "actor_spawned":
            self.spawned.setdefault(actor, when)
        elif event == "actor_ready":
            self._on_ready(actor, detail, when)
            return
        elif event == "supervisor_adopted" and self.feed is not None:
            self.feed.close()
            self.feed = None
        elif event == "run_stopped":
            self.stop_reason = str(detail.get("reason", ""))
        line = event_line(record)
        if line is not None:
            self.out.line(line, when)

    def _on_ready(self, actor: str, detail: dict[str, Any], when: float) -> None:
        if self.phase == "starting" and actor not in self.ready:
            spawned = self.spawned.get(actor)
            self.out.line(ready_line(actor, None if spawned is None else when - spawned), when)
            self.ready.add(actor)
            if self.ready >= set(self.facts.actors):
                self.out.line(all_ready_line(len(self.ready), when - self.facts.started), when)
                self._all_ready(time.monotonic())
        elif not detail.get("late"):  # late: adopted by a successor, it never stopped
            incarnation = detail.get("incarnation", "?")
            self.out.line(Line(f"✓ {actor} ready again (incarnation {incarnation})", "green"), when)

    def _all_ready(self, now: float) -> None:
        self.phase = "facts"
        self.facts_due = now + FACTS_WAIT_S
        if self._figures_in(self.snapshot):
            self._say_facts()

    def _say_facts(self) -> None:
        for line in start_lines(self.facts, self.snapshot):
            self.out.line(line)
        self.phase = "playing"

    # ------------------------------------------------------------ the end
    def _summary(self) -> None:
        end = self.end or {}
        code = end.get("exit_code")
        reason = str(end.get("reason") or self.stop_reason)
        summary, from_json = self._run_json(), True
        if summary is None:
            from_json = False
            if self.snapshot is None:
                if self.seen_run:
                    self.out.line(Line(f"stopped: {reason or 'ended'} (exit code {code})", "bold"))
                return  # never started (bad config, another run here): stderr said why
            summary = summary_from_snapshot(self.snapshot, code, reason)
        if code is not None:
            summary["exit_code"] = code
        for line in summary_lines(summary, self.facts, from_json):
            self.out.line(line)

    def _run_json(self) -> dict[str, Any] | None:
        """This run's ``run.json`` (not an earlier run's in the same directory), or None."""
        if not self.facts.record_dir:
            return None
        path = Path(self.facts.record_dir) / "run.json"
        try:
            if path.stat().st_mtime < self.facts.started:
                return None
            summary = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return summary if isinstance(summary, dict) else None


# ---------------------------------------------------------------- kelly run's side
def argv(facts: RunFacts, events_fd: int | None) -> list[str]:
    """The console's command line: ``events_fd`` is the event log at its end (or None)."""
    fd = -1 if events_fd is None else events_fd
    return [sys.executable, "-m", MODULE, json.dumps(facts.to_dict()), str(fd)]


def start(facts: RunFacts) -> subprocess.Popen[bytes] | None:
    """Start the console for a run (None when it could not start: the run goes on).

    The event log's descriptor goes with it, at the log's current end."""
    events = Path(facts.run_dir) / "events.jsonl"
    fd = None
    with contextlib.suppress(OSError):
        fd = os.open(events, os.O_RDONLY | os.O_CLOEXEC)
        os.lseek(fd, 0, os.SEEK_END)
    try:
        return subprocess.Popen(
            argv(facts, fd), stdin=subprocess.PIPE, pass_fds=(fd,) if fd is not None else ()
        )
    except OSError as exc:
        print(f"kelly run: no console output ({exc}); the run goes on", file=sys.stderr)
        return None
    finally:
        if fd is not None:
            os.close(fd)


def finish(proc: subprocess.Popen[bytes], exit_code: int, reason: str) -> None:
    """Tell the console how the run ended; give it :data:`SUMMARY_WAIT_S` to say so."""
    assert proc.stdin is not None
    with contextlib.suppress(OSError):  # it left already (a closed stdout): nothing to say
        proc.stdin.write(json.dumps({"exit_code": exit_code, "reason": reason}).encode() + b"\n")
        proc.stdin.close()
    try:
        proc.wait(SUMMARY_WAIT_S)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):  # a stalled terminal; a 2nd Ctrl-C
        proc.kill()
        proc.wait()


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A log in a legacy encoding gets "?" for ✓ and ♪ rather than a dead console.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    facts = RunFacts.from_dict(json.loads(argv[0]))
    fd = int(argv[1])
    tail = EventTail(Path(facts.run_dir) / "events.jsonl", fd if fd >= 0 else None)
    try:
        out = TerminalOut() if sys.stdout.isatty() else PlainOut(sys.stdout)
        RunConsole(facts, out, tail).run()
    except BrokenPipeError:
        # The reader left (`kelly run | head`): the run goes on without us.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
