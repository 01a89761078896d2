"""``kelly run``'s watchdog: the process that starts the supervisor, and a successor when it dies.

The supervisor is the one process whose death used to stop the music. Under the watchdog it
no longer does: the watchdog forks the supervisor and waits. When the supervisor is killed
(a signal, or an uncaught exception: exit :data:`EXIT_SUPERVISOR_CRASHED`), its actors play
on for ``adoption_grace`` seconds (:mod:`kelly_actors.actor.supervisor_watch`) while the
watchdog forks a successor, which adopts the run (:mod:`.succession`). Any other exit of the
supervisor is the run's end, and its exit code is ``kelly run``'s.

The watchdog is a child subreaper: actors whose forkserver died with their supervisor become
its children, so it reaps them, and when no successor can take over (too many supervisor
deaths in a row, a stop asked for) it waits for them to stop by themselves, kills what is left
after the grace period and sweeps the run's shared memory: nothing outlives ``kelly run``.
A recorded run it gave up on still gets its ``run.json``, written by the watchdog from the
last supervisor's ``supervision.json`` (:func:`.status.write_abandoned_summary`).
It does nothing else: no sockets, no threads, one ``select`` on a signal self-pipe. Under
systemd it says ``READY=1`` once the supervisor publishes the run and ``WATCHDOG=1`` while a
supervisor lives (:mod:`.notify`). ``SIGSTOP`` of the watchdog stops none of the music.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import psutil

from kelly_actors.actor.pids import alive, become_subreaper
from kelly_actors.bus.namespace import RunNamespace, sweep_dead_runs
from kelly_actors.supervisor import notify
from kelly_actors.supervisor.rundir import RunDir
from kelly_actors.supervisor.status import write_abandoned_summary
from kelly_actors.supervisor.succession import RECORD_NAME

#: The supervisor process's exit code after an uncaught exception (``EX_SOFTWARE``).
EXIT_SUPERVISOR_CRASHED = 70
EXIT_GAVE_UP = 1
#: Supervisor deaths within :data:`RESTART_WINDOW` seconds after which no successor starts.
MAX_SUCCESSIONS = 5
RESTART_WINDOW = 60.0
#: Seconds the watchdog waits for descendants at the end beyond the grace period.
REAP_MARGIN = 2.0
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

#: Runs one supervisor in the forked process: ``start(successor_of)`` → its exit code, where
#: ``successor_of`` says how the previous supervisor ended (None for the first one).
StartSupervisor = Callable[[str | None], int]


def describe_status(status: int) -> str:
    """A ``waitpid`` status in words."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(sig).name}"
        return f"killed by signal {sig}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


class Watchdog:
    """Starts supervisors for one run until the run ends; :meth:`run` returns its exit code."""

    def __init__(
        self,
        start: StartSupervisor,
        run_dir: RunDir,
        grace: float,
        namespace: RunNamespace | None = None,
        record_dir: Path | None = None,
        companions: tuple[int, ...] = (),
    ) -> None:
        """``namespace``: the run's lock, held here for the whole run — every supervisor
        inherits it, so the run stays locked while none lives and no other run's sweep can
        take its shared memory from the actors playing on. ``record_dir``: where a recorded
        run's ``run.json`` goes, written here when no supervisor is left to write it.
        ``companions``: children that are not the run (``kelly run``'s console, which prints
        the summary after this returns): not waited for nor killed at the end."""
        self.start = start
        self.companions = frozenset(companions)
        self.namespace = namespace
        self.run_dir = run_dir
        self.grace = grace
        self.record_dir = record_dir
        self.started = time.monotonic()
        self.successors = 0
        #: Why the run ended without a supervisor to finish it ("" while one runs it).
        self.gave_up_because = ""
        self.supervisor_pid = 0
        self.stopping = False
        self.deaths: deque[float] = deque()
        self.ready_sent = False
        #: No supervisor runs the run any more, though its actors may still play.
        self.gave_up = False
        self.wake_r = self.wake_w = -1

    def run(self) -> int:
        become_subreaper()
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in _FORWARDED}
        previous[signal.SIGCHLD] = signal.signal(signal.SIGCHLD, lambda *_: None)
        old_wakeup = signal.set_wakeup_fd(self.wake_w)
        try:
            self.supervisor_pid = self._fork(None)
            code = self._watch()
            notify.notify("STOPPING=1")
            self._reap_descendants()
            if self.gave_up and self.record_dir is not None:
                self._write_summary(code)
            return code
        finally:
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            os.close(self.wake_r)
            os.close(self.wake_w)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        if self.supervisor_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.supervisor_pid, signal.SIGTERM)

    # ------------------------------------------------------------- the loop
    def _watch(self) -> int:
        period = notify.watchdog_period()
        next_beat = time.monotonic()
        while True:
            now = time.monotonic()
            if period is not None and now >= next_beat:
                if alive(self.supervisor_pid):
                    notify.notify("WATCHDOG=1")
                next_beat = now + period
            timeout = 1.0 if period is None else max(0.0, min(1.0, next_beat - now))
            select.select([self.wake_r], [], [], timeout)
            _drain(self.wake_r)
            for pid, status in _reap_ready():
                if pid == self.supervisor_pid:
                    code = self._on_supervisor_exit(status)
                    if code is not None:
                        return code
            self._say_ready()

    def _on_supervisor_exit(self, status: int) -> int | None:
        """The run's exit code, or None when a successor was started."""
        code = os.waitstatus_to_exitcode(status)
        if os.WIFEXITED(status) and code != EXIT_SUPERVISOR_CRASHED:
            # A successor that could not adopt leaves the actors to stop by themselves.
            self.gave_up = code != 0 and bool(self.deaths)
            if self.gave_up:
                self.gave_up_because = f"a successor supervisor could not adopt the run ({code})"
            return code
        how = describe_status(status)
        gone = f"kelly run: the supervisor (pid {self.supervisor_pid}) {how}"
        if self.stopping or self.grace <= 0:
            print(f"{gone}; the run stops", file=sys.stderr)
            self.gave_up = True
            self.gave_up_because = f"the supervisor {how} while the run stopped"
            return EXIT_GAVE_UP
        now = time.monotonic()
        self.deaths.append(now)
        while now - self.deaths[0] > RESTART_WINDOW:
            self.deaths.popleft()
        if len(self.deaths) > MAX_SUCCESSIONS:
            print(
                f"{gone}, {len(self.deaths)} times within {RESTART_WINDOW:g} s; giving up: "
                f"the actors stop within {self.grace:g} s",
                file=sys.stderr,
            )
            self.gave_up = True
            self.gave_up_because = (
                f"the supervisor died {len(self.deaths)} times within {RESTART_WINDOW:g} s "
                f"(last {how}); the watchdog gave up"
            )
            return EXIT_GAVE_UP
        print(f"{gone}; a successor adopts the run", file=sys.stderr)
        self.ready_sent = False
        self.successors += 1
        self.supervisor_pid = self._fork(how)
        return None

    def _say_ready(self) -> None:
        if self.ready_sent:
            return
        info = self.run_dir.read()
        if info is not None and info.pid == self.supervisor_pid:
            notify.notify(f"READY=1\nSTATUS=performing (supervisor pid {info.pid})")
            self.ready_sent = True

    def _write_summary(self, code: int) -> None:
        assert self.record_dir is not None
        try:
            write_abandoned_summary(
                self.record_dir,
                self.run_dir.path / RECORD_NAME,
                duration_s=time.monotonic() - self.started,
                exit_code=code,
                reason=self.gave_up_because,
                successors=self.successors,
            )
        except OSError as exc:  # a full disk: say so, the run has ended either way
            print(f"kelly run: cannot write run.json in {self.record_dir}: {exc}", file=sys.stderr)

    # ------------------------------------------------------------ processes
    def _fork(self, successor_of: str | None) -> int:
        pid = os.fork()
        if pid:
            return pid
        code = EXIT_SUPERVISOR_CRASHED
        try:
            signal.set_wakeup_fd(-1)
            for sig in (*_FORWARDED, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            os.close(self.wake_r)
            os.close(self.wake_w)
            code = self.start(successor_of)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else EXIT_GAVE_UP
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def _reap_descendants(self) -> None:
        """Wait for every descendant to end (after a supervisor's death, actors stop by
        themselves within the grace period), kill what is left, then sweep what a dead run
        left in shared memory."""
        me = psutil.Process()

        def descendants() -> list[psutil.Process]:
            return [p for p in me.children(recursive=True) if p.pid not in self.companions]

        for wait, kill in ((self.grace + REAP_MARGIN if self.gave_up else REAP_MARGIN, False),
                           (REAP_MARGIN, True)):  # fmt: skip
            if kill:
                for proc in descendants():
                    with contextlib.suppress(psutil.Error):
                        proc.kill()
            deadline = time.monotonic() + wait
            while descendants() and time.monotonic() < deadline:
                select.select([self.wake_r], [], [], 0.05)
                _drain(self.wake_r)
                _reap_ready()
        if self.namespace is not None:
            self.namespace.abandon()  # the run is over: its lock goes, then its leftovers
        sweep_dead_runs()  # only runs whose owner is gone: a no-op after a clean stop


def _reap_ready() -> list[tuple[int, int]]:
    """Reap every child that has exited; return ``(pid, status)`` of each."""
    reaped = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped.append((pid, status))


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        while os.read(fd, 512):
            pass
