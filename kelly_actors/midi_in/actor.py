"""The MIDI input actor: a performer's keyboard or controller into a running performance
(docs/midi.md).

One process, one loop, no threads of its own. Every ``poll_s`` (5 ms) a step takes what
the port queued (:mod:`.port`, at most ``max_bytes_per_step`` bytes, so a flood waits
for later steps and heartbeats and commands keep flowing), parses it
(:mod:`kelly_actors.symbolic.wire`: running status taken, SysEx, truncated, stray and
undefined bytes counted), and

* hands notes to the tracker (:mod:`kelly_actors.symbolic.notes`: a note-off with no
  note-on counted, a note held past ``stuck_s`` closed and counted);
* hands controllers to the mapper (:mod:`.cc`): an axis becomes ``set_emotion`` on that
  axis, a pedal a ``panic`` / ``lock`` / ``unlock`` / ``restart``, each sent through the
  supervisor like ``kelly ctl`` (:mod:`.control`);
* every ``publish_s`` while the playing changes, writes the symbolic listener's estimate
  (:mod:`kelly_actors.symbolic.listener`) on the ``midi_in`` ring for the composer.

A port that cannot be opened (no JACK server, no source matching ``connect``) leaves the
actor *degraded* with the reason, trying again every ``retry_s``; the performance goes on.
Nothing a sender writes can raise out of :meth:`MidiInActor.step`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import zmq

from kelly_actors.actor.base import Actor, Waitable
from kelly_actors.config.typed import ConfigError
from kelly_actors.midi_in.cc import CcMapper, Command
from kelly_actors.midi_in.config import MidiInConfig
from kelly_actors.midi_in.control import Control, control_endpoint
from kelly_actors.midi_in.port import InputPort
from kelly_actors.symbolic import listener, wire
from kelly_actors.symbolic.notes import NoteTracker
from kelly_actors.symbolic.reading import ROW_DTYPE, ROW_SHAPE, Reading

#: Controllers that silence the performer's own notes (all sound off, all notes off).
SILENCING_CCS = (120, 123)
#: Seconds between two looks at what is connected to the port.
CONNECTIONS_S = 1.0


class MidiInActor(Actor):
    """Reads a MIDI input port: notes to the listener, controllers to the control plane."""

    Config = MidiInConfig
    deadline = 0.05

    @classmethod
    def preflight(cls, config: MidiInConfig, rings: dict[str, Any]) -> None:
        """The listener needs its ring: this actor writing float64 rows of the reading's
        shape."""
        if not config.ring:
            return
        ring = rings.get(config.ring)
        if ring is None or tuple(ring.shape) != ROW_SHAPE or str(ring.dtype) != ROW_DTYPE:
            raise ConfigError(
                f"the MIDI input's listener needs a ring {config.ring!r} written by this "
                f"actor and read by the composer, shape {list(ROW_SHAPE)}, dtype "
                f'{ROW_DTYPE!r} (examples/midi-in.toml; or ring = "" for CCs only)'
            )

    def on_start(self) -> None:
        cfg: MidiInConfig = self.config
        self.parser = wire.MidiParser()
        self.notes = NoteTracker(cfg.listener.stuck_s)
        self.cc = CcMapper(cfg.cc, cfg.composer)
        self.writer = self.ctx.writer(cfg.ring) if cfg.ring else None
        self.row = np.zeros(ROW_SHAPE, ROW_DTYPE)
        self.port = InputPort(cfg.api, cfg.client, cfg.port, cfg.connect, cfg.queue_size)
        self.control = Control(
            zmq.Context.instance(), control_endpoint(self.ctx.launch.endpoint), cfg.reply_timeout_s
        )
        self.problem = ""
        self.connections: list[str] | None = []
        self.estimate: listener.Estimate | None = None
        self.dirty = False
        self.written = 0
        self.unwritten = 0
        self.controls = 0
        now = time.monotonic()
        self.next_retry = self.next_publish = self.next_axis = self.next_look = now
        self._open(now)

    def on_stop(self) -> None:
        self.port.close()
        self.control.close()

    def on_failure(self, exc: BaseException) -> None:
        self.port.close()

    def _open(self, now: float) -> None:
        why = self.port.open()
        if why:
            if not self.problem:  # once per outage: the reason's source list may change
                self.ctx.emit("midi_in_unavailable", reason=why)
            self.problem = why
            self.ctx.set_degraded(f"{why}; trying again every {self.config.retry_s:g} s")
            self.next_retry = now + self.config.retry_s
            return
        self.problem = ""
        self.ctx.set_healthy()
        self.ctx.emit("midi_in_open", api=self.config.api, port=self.port.name)
        self.connections = self.port.connections()

    # -- the loop ------------------------------------------------------------------

    def wait_on(self) -> list[Waitable]:
        return [self.control.bell()]

    def next_wakeup(self) -> float | None:
        now = time.monotonic()
        if not self.port.is_open:
            return self.next_retry
        due = now + self.config.poll_s
        deadline = self.control.next_deadline()
        return due if deadline is None else min(due, deadline)

    def step(self) -> None:
        now = time.monotonic()
        if not self.port.is_open and now >= self.next_retry:
            self._open(now)
        for data in self.port.messages(self.config.max_bytes_per_step):
            for event in self.parser.feed(data):
                self._event(event, now)
        if self.notes.expire(now):
            self.dirty = True
        if self.cc.axes and now >= self.next_axis:
            self._send(self.cc.axis_request(), now)
            self.next_axis = now + self.config.axis_interval_s
        self.control.poll(now)
        if self.dirty and now >= self.next_publish:
            self._publish(now)
        if self.port.is_open and now >= self.next_look:
            self.connections = self.port.connections()
            self.next_look = now + CONNECTIONS_S

    def _event(self, event: wire.Event, now: float) -> None:
        if event.status == wire.NOTE_ON_STATUS:
            self.notes.note_on(event.channel, event.a, event.b, now)
            self.dirty = True
        elif event.status == wire.NOTE_OFF_STATUS:
            self.notes.note_off(event.channel, event.a, now)
            self.dirty = True
        else:
            self.controls += 1
            if event.a in SILENCING_CCS:
                self.notes.all_off(now)
            for command in self.cc.take(event.channel, event.a, event.b):
                self._send(command, now)

    def _send(self, command: Command | None, now: float) -> None:
        if command is not None:
            self.control.send(command.verb, command.cmd, command.args, now)

    def _publish(self, now: float) -> None:
        """The listener's estimate of the window, on the ring."""
        self.dirty = False
        self.next_publish = now + self.config.publish_s
        settings = self.config.listener
        self.estimate = listener.estimate(self.notes.recent(now, settings.window_s), now, settings)
        if self.estimate is None or self.writer is None:
            return
        Reading.of(self.estimate, self.notes.last_onset, settings).write(self.row)
        if self.writer.write(self.row):
            self.written += 1
        else:
            self.unwritten += 1

    # -- status --------------------------------------------------------------------

    def on_call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "get":  # the telemetry now, not at the last heartbeat
            return self.telemetry()
        return super().on_call(method, args)

    def telemetry(self) -> dict[str, Any]:
        port, notes, est = self.port, self.notes, self.estimate
        connections = self.connections
        heard = None
        if est is not None:
            stamp = notes.last_onset
            reading = Reading.of(est, stamp, self.config.listener)
            heard = {**reading.to_dict(time.monotonic()), "key": est.cues.key}
        return {
            "input": {
                "api": self.config.api,
                "port": port.name or f"{self.config.client}:{self.config.port}",
                "open": port.is_open,
                "connect": self.config.connect,
                "connections": connections,
                "connected": None if connections is None else bool(connections),
                "error": self.problem,
            },
            "messages": self.parser.messages,
            "notes": notes.note_ons,
            "held": len(notes.held),
            "controls": self.controls,
            "parser": dict(self.parser.counts),
            "refused": {
                "truncated": self.parser.counts["truncated"],
                "stray_bytes": self.parser.counts["stray_bytes"],
                "undefined": self.parser.counts["undefined"],
                "orphan_note_offs": notes.orphan_note_offs,
            },
            "stuck_notes": notes.stuck_notes,
            "retriggers": notes.retriggers,
            "port_errors": port.errors,
            "listener": heard,
            "readings": self.written,
            "unwritten": self.unwritten,
            "cc": {"mapped": self.cc.mapped, "unmapped": self.cc.unmapped},
            "commands": self.control.telemetry(),
        }


__all__ = ["MidiInActor", "MidiInConfig"]
