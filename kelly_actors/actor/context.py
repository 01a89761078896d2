"""Runtime services an actor uses: its rings, the transport, state and events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import zmq

from kelly_actors.actor.launch import Launch
from kelly_actors.bus import messages
from kelly_actors.bus.ring import RingReader, RingWriter
from kelly_actors.bus.transport import Transport


class ActorContext:
    """What one incarnation of an actor may touch.

    Rings and the transport are attached lazily and closed by the runtime.
    """

    def __init__(self, launch: Launch, socket: zmq.Socket) -> None:
        self.launch = launch
        self.name = launch.name
        self.incarnation = launch.incarnation
        self.restored_state: dict[str, Any] = dict(launch.restored_state or {})
        self._socket = socket
        self._writers: dict[str, RingWriter] = {}
        self._readers: dict[str, RingReader] = {}
        self._transport: Transport | None = None
        self.degraded_reason: str | None = None
        self.record_dir: Path | None = Path(launch.record_dir) if launch.record_dir else None
        self.run_dir = Path(launch.run_dir)
        #: Messages dropped because the queue to the supervisor was full.
        self.unsent = 0

    def writer(self, ring: str) -> RingWriter:
        """The writer end of ``ring`` (declared with ``writer = <this actor>``)."""
        if ring not in self._writers:
            att = self.launch.writes.get(ring)
            if att is None:
                raise KeyError(f"{self.name} does not write ring {ring!r}")
            self._writers[ring] = RingWriter.attach(att.segment, ring)
        return self._writers[ring]

    def reader(self, ring: str) -> RingReader:
        """This actor's reader position on ``ring``."""
        if ring not in self._readers:
            att = self.launch.reads.get(ring)
            if att is None:
                raise KeyError(f"{self.name} does not read ring {ring!r}")
            self._readers[ring] = RingReader.attach(att.segment, att.slot, ring)
        return self._readers[ring]

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            self._transport = Transport.attach(self.launch.transport)
        return self._transport

    def _send(self, type_: str, **fields: Any) -> None:
        msg = messages.make(type_, actor=self.name, incarnation=self.incarnation, **fields)
        try:
            self._socket.send_multipart(messages.encode(msg), flags=zmq.NOBLOCK)
        except zmq.Again:
            # No supervisor to take it (it died; a successor is not there yet) and the
            # queue is full: heartbeats and events are dropped, never waited for.
            self.unsent += 1

    def publish_state(self, state: dict[str, Any]) -> None:
        """Tell the supervisor the control state a replacement should start from."""
        self._send("state", state=state)

    def set_degraded(self, reason: str) -> None:
        """Mark this actor degraded (working, but not as configured)."""
        if self.degraded_reason != reason:
            self.degraded_reason = reason
            self._send("health", degraded=True, reason=reason)

    def set_healthy(self) -> None:
        if self.degraded_reason is not None:
            self.degraded_reason = None
            self._send("health", degraded=False, reason="")

    def request_replace(self, ring: str, reason: str) -> None:
        """Ask the supervisor to restart the writer of ``ring`` (this actor reads it)."""
        self._send("replace", ring=ring, reason=reason)

    def emit(self, event: str, **detail: Any) -> None:
        """Log an event in the run's event stream."""
        self._send("event", event=event, detail=detail)

    def close(self) -> None:
        for ring in [*self._writers.values(), *self._readers.values()]:
            ring.close()
        self._writers.clear()
        self._readers.clear()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
