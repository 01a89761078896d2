"""``kelly top``: the performance's live console (a Textual app).

Panels: actors (failing ones in red, degraded in yellow), buses (ring fill
bars), audio (xruns with blame, callback load, latency budget), emotion (V/A/D,
confidence, nearest, target, sparklines of the last minutes, what the listeners hear and
how far they agree with the composer over the last bars), music (key,
tempo, bar, MIDI, models), and the event log. Status arrives on the PUB
socket at the supervisor's ``status_hz``; commands go out on a DEALER from a
worker thread so a slow answer never freezes the screen.

Keys: ``f`` type a feeling (Enter sends ``feel``), ``r`` restart the selected
actor, ``p`` panic, ``v``/``a``/``d`` lock or unlock valence/arousal/dominance,
``w`` write the session report (``kelly report``) of the running performance into its
recording's directory (the run directory when it is not recorded), ``q`` quit. Every
action's outcome shows on the message line.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import zmq
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Input, RichLog, Static

from kelly_actors.bus.messages import ProtocolError
from kelly_actors.console import ensemble, inference_backend, listening, view
from kelly_actors.console.connection import (
    Connection,
    Endpoints,
    NoAnswer,
    Refused,
    StatusFeed,
)
from kelly_actors.console.eventlog import format_event
from kelly_actors.verbs import feel, lock, panic, restart, unlock
from kelly_actors.verbs.composer_target import COMPOSER

#: How often the screen takes what the PUB socket delivered (s).
REFRESH_S = 0.1
COLUMNS = (
    ("name", "ACTOR"),
    ("state", "STATE"),
    ("pid", "PID"),
    ("restarts", "RESTARTS"),
    ("last_exit", "LAST EXIT"),
    ("uptime", "UP"),
    ("cpu", "CPU%"),
    ("rss", "RSS MiB"),
    ("heartbeat", "HB s"),
    ("misses", "MISSES"),
    ("note", "NOTE"),
)
STYLES = {"ok": "", "degraded": "black on yellow", "failing": "bold white on red"}


def _summary(method: str, result: dict[str, Any]) -> str:
    """A one-line confirmation of a command's result."""
    if method == "feel":
        desired = f" → {result['desired'][0]}" if result.get("desired") else ""
        return f"feel: {result['nearest'][0]}{desired} (from bar {result['from_bar']})"
    if method == "panic":
        return f"panic: all notes off at sample {result['sample']} (ring {result['ring']})"
    if method in ("lock", "unlock"):
        locks = ", ".join(f"{a}={v:+.2f}" for a, v in result["locks"].items()) or "none"
        return f"{method} {result['axis']}: locks now {locks}"
    if method == "restart":
        return f"restart: {result['actor']} restarting"
    return f"{method}: {result}"


class TopApp(App[int]):
    """The console. ``endpoints`` says where the performance is."""

    TITLE = "kelly top"
    CSS = """
    #run { height: 1; background: $primary; color: $text; }
    #actors { height: auto; max-height: 14; }
    .row { height: auto; }
    .panel { border: round $secondary; height: auto; width: 1fr; padding: 0 1; }
    #events { height: 1fr; min-height: 4; border: round $secondary; }
    #message { height: 1; }
    #feel { display: none; }
    #feel.shown { display: block; }
    """
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("f", "feel", "feel"),
        Binding("r", "restart", "restart actor"),
        Binding("p", "panic", "panic"),
        Binding("v", "toggle_lock('valence')", "lock V"),
        Binding("a", "toggle_lock('arousal')", "lock A"),
        Binding("d", "toggle_lock('dominance')", "lock D"),
        Binding("w", "report", "write report"),
        Binding("q", "quit", "quit"),
        Binding("escape", "cancel_feel", "cancel", show=False),
    ]

    def __init__(self, endpoints: Endpoints, timeout: float = 5.0) -> None:
        super().__init__()
        self.endpoints = endpoints
        self.timeout = timeout
        self.feed: StatusFeed | None = None
        self.connection: Connection | None = None
        self._send_lock = threading.Lock()
        self.writers = view.ring_writers(endpoints.config)
        self.history = view.EmotionHistory()
        self.actor_names: list[str] = []
        self.events_shown = 0
        #: The last confirmation or error, as shown on the message line.
        self.message = ""
        #: Texts of the panels as last drawn (what a test or a screenshot reads).
        self.panels: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(f"kelly top — connecting to {self.endpoints.where}", id="run")
        yield DataTable(id="actors", cursor_type="row", zebra_stripes=True)
        with Horizontal(classes="row"):
            yield Static("", id="buses", classes="panel")
            yield Static("", id="audio", classes="panel")
        with Horizontal(classes="row"):
            with Vertical(classes="panel"):
                yield Static("", id="emotion")
            yield Static("", id="music", classes="panel")
        yield RichLog(id="events", max_lines=500, wrap=False)
        yield Input(placeholder="how do you feel? (Enter sends, Esc cancels)", id="feel")
        yield Static("", id="message")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#actors", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        self.feed = StatusFeed(self.endpoints)
        self.connection = Connection(self.endpoints, self.timeout)
        self.panels["buses"] = "waiting for the first status snapshot…"
        self.set_interval(REFRESH_S, self.refresh_status)

    def on_unmount(self) -> None:
        if self.feed is not None:
            self.feed.close()
        if self.connection is not None:
            with self._send_lock:
                self.connection.close()

    # -- status ------------------------------------------------------------------

    def refresh_status(self) -> None:
        assert self.feed is not None
        if not self.feed.drain():
            self._show_events()
            return
        snap = self.feed.snapshot
        assert snap is not None
        self.history.add(snap)
        run = snap["run"]
        self.query_one("#run", Static).update(
            f"kelly top — performance {run['tag']} (pid {run['pid']}), {run['config']}, "
            f"{run['strategy']}, up {run['uptime_s']:.0f} s"
            + (f", supervisor restarted {n}×" if (n := run.get("supervisor_restarts")) else "")
        )
        self._show_actors(snap)
        self._panel("buses", "BUSES\n" + "\n".join(view.ring_lines(snap, self.writers)))
        self._panel("audio", "AUDIO\n" + "\n".join(view.audio_lines(snap, self.writers)))
        width = 48
        sparks = [
            f"{axis[0].upper()} {view.sparkline(self.history.series(axis, width))}"
            for axis in ("valence", "arousal", "dominance")
        ]
        sensors = view.sensor_lines(snap)
        body = ["SENSORS", *sensors] if sensors else []
        midi_in = view.midi_in_lines(snap)
        body += ["MIDI IN", *midi_in] if midi_in else []
        body += ensemble.ensemble_lines(snap)
        body += listening.agreement_lines(snap)
        body += inference_backend.backend_lines(snap)
        self._panel("emotion", "EMOTION\n" + "\n".join([*view.emotion_lines(snap), *sparks, *body]))
        self._panel("music", "MUSIC\n" + "\n".join(view.music_lines(snap)))
        self._show_events()

    def _panel(self, name: str, text: str) -> None:
        self.panels[name] = text
        self.query_one(f"#{name}", Static).update(text)

    def _show_actors(self, snap: dict[str, Any]) -> None:
        table = self.query_one("#actors", DataTable)
        rows = view.actor_rows(snap)
        names = [r.name for r in rows]
        if names != self.actor_names:
            table.clear()
            for row in rows:
                table.add_row(*self._cells(row), key=row.name)
            self.actor_names = names
        else:
            for row in rows:
                for (key, _), cell in zip(COLUMNS, self._cells(row), strict=True):
                    table.update_cell(row.name, key, cell, update_width=True)
        self.panels["actors"] = "\n".join(
            f"{r.name} {r.state} pid={r.pid} restarts={r.restarts} {r.standing} {r.note}"
            for r in rows
        )

    @staticmethod
    def _cells(row: view.ActorRow) -> list[Text]:
        style = STYLES[row.standing]
        values = (row.name, row.state, row.pid, str(row.restarts), row.last_exit, row.uptime,
                  row.cpu, row.rss, row.heartbeat, str(row.misses), row.note)  # fmt: skip
        return [Text(v, style=style) for v in values]

    def _show_events(self) -> None:
        assert self.feed is not None
        log = self.query_one("#events", RichLog)
        events = list(self.feed.events)
        fresh = (
            events[-(len(events) - self.events_shown) :] if len(events) > self.events_shown else []
        )
        for record in fresh:
            if record.get("event") != "bar":  # one a bar: the music panel shows the bar
                log.write(format_event(record))
        self.events_shown = len(events)

    # -- actions -----------------------------------------------------------------

    def _send(self, method: str, request: Callable[[Connection], dict[str, Any]]) -> None:
        """Run ``request`` on a worker thread; show its confirmation or its error."""

        def work() -> None:
            assert self.connection is not None
            try:
                with self._send_lock:
                    result = request(self.connection)
                text, ok = f"✓ {_summary(method, result)}", True
            except Refused as exc:
                text, ok = f"✗ {method} refused ({exc.code}): {exc}", False
            except (NoAnswer, ProtocolError, zmq.ZMQError) as exc:
                text, ok = f"✗ {method}: {exc}", False
            self.call_from_thread(self._say, text, ok)

        self._say(f"… {method}", True)
        self.run_worker(work, thread=True, group="commands")

    def _say(self, text: str, ok: bool) -> None:
        self.message = text
        self.query_one("#message", Static).update(Text(text, style="" if ok else "bold red"))

    def action_feel(self) -> None:
        feel = self.query_one("#feel", Input)
        feel.add_class("shown")
        feel.focus()

    def action_cancel_feel(self) -> None:
        feel = self.query_one("#feel", Input)
        feel.value = ""
        feel.remove_class("shown")
        self.query_one("#actors", DataTable).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        self.action_cancel_feel()
        if not text:
            self._say("✗ feel: type how you feel first", False)
            return
        self._send(feel.NAME, lambda c: c.call(COMPOSER, feel.METHOD, text=text))

    def action_restart(self) -> None:
        table = self.query_one("#actors", DataTable)
        if not self.actor_names:
            self._say("✗ restart: no actors shown yet", False)
            return
        actor = self.actor_names[min(table.cursor_row, len(self.actor_names) - 1)]
        self._send(restart.NAME, lambda c: c.request(restart.NAME, actor=actor))

    def action_panic(self) -> None:
        self._send(panic.NAME, lambda c: c.call(COMPOSER, panic.METHOD))

    def action_toggle_lock(self, axis: str) -> None:
        snap = self.feed.snapshot if self.feed is not None else None
        locks = view.composer_telemetry(snap).get("locks", {}) if snap else {}
        verb = unlock if axis in locks else lock
        self._send(verb.NAME, lambda c: c.call(COMPOSER, verb.METHOD, axis=axis))

    def action_report(self) -> None:
        snap = self.feed.snapshot if self.feed is not None else None
        try:
            directory = report_dir(snap, self.endpoints.control)
        except ValueError as exc:
            self._say(f"✗ report: {exc}", False)
            return

        def work() -> None:
            from kelly_actors.report.build import MissingPlotting, build

            # A few seconds of plotting: behind the screen's refresh, never before it.
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
            try:
                built = build(directory)
                text, ok = f"✓ report: {built.html} (open it in a browser)", True
            except (MissingPlotting, OSError) as exc:
                text, ok = f"✗ report: {exc}", False
            self.call_from_thread(self._say, text, ok)

        self._say(f"… writing the report of {directory}", True)
        self.run_worker(work, thread=True, group="report", exclusive=True)

    def action_quit(self) -> None:
        self.exit(0)


def report_dir(snapshot: dict[str, Any] | None, control: str) -> Path:
    """Where ``w`` writes the report: the directory of the composer's recording, else the
    run directory of a local performance (ValueError for a remote one: its files are on
    its own machine)."""
    recording = view.composer_telemetry(snapshot).get("recording") if snapshot else None
    if recording:
        return Path(recording).parent
    if control.startswith("ipc://"):
        return Path(control.removeprefix("ipc://")).parent
    raise ValueError("a remote performance keeps its files on its own machine: run kelly "
                     "report there")  # fmt: skip


def wait_for_first_snapshot(feed: StatusFeed, timeout: float) -> bool:
    """True once a snapshot arrived within ``timeout`` s (used by ``kelly top --once``)."""
    deadline = time.monotonic() + timeout
    while feed.snapshot is None and time.monotonic() < deadline:
        feed.drain(wait_s=min(0.25, max(0.0, deadline - time.monotonic())))
    return feed.snapshot is not None
