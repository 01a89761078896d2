"""What actors tell the supervisor on the actor ROUTER (docs/protocol.md, "Actor → supervisor").

``ready``, ``heartbeat``, ``state`` and ``health`` update the actor's :class:`Child` record;
``event`` goes to the event log; ``replace`` asks for a commanded restart of a ring's writer;
``reply`` answers a call and goes to the :class:`CallRouter`. A message that does not decode,
or whose identity does not match the incarnation it claims, is dropped and counted; a
previous incarnation's last words are ignored.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import zmq

from kelly_actors.bus import messages
from kelly_actors.config.performance import PerformanceConfig
from kelly_actors.supervisor import child as cs
from kelly_actors.supervisor.child import Child
from kelly_actors.supervisor.routing import CallRouter


class ActorInbox:
    """Reads the actor ROUTER and applies each message."""

    def __init__(
        self,
        config: PerformanceConfig,
        children: dict[str, Child],
        router: CallRouter,
        restart_actor: Callable[[str], None],
        log: Callable[..., None],
    ) -> None:
        self.config = config
        self.children = children
        self.router = router
        self.restart_actor = restart_actor
        self.log = log
        #: Messages dropped as undecodable, misaddressed or of an unknown type.
        self.dropped = 0

    def drain(self, sock: zmq.Socket) -> None:
        while True:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            identity, payload = frames[0], frames[1:]
            try:
                msg = messages.decode(payload)
            except messages.ProtocolError as exc:
                self.dropped += 1
                self.log(
                    "bad_actor_message", identity=identity.decode(errors="replace"), error=str(exc)
                )
                continue
            self.on_message(identity, msg)

    def on_message(self, identity: bytes, msg: messages.Message) -> None:
        if msg.type == "reply":
            self.router.on_actor_reply(msg)
            return
        name, _, inc = identity.decode(errors="replace").rpartition(":")
        child = self.children.get(name)
        if child is None or msg.get("actor") != name or str(msg.get("incarnation")) != inc:
            self.dropped += 1
            return
        if msg["incarnation"] != child.incarnation:
            return  # a previous incarnation's last words
        now = time.monotonic()
        if msg.type == "ready":
            child.state = cs.DEGRADED if child.degraded_reason else cs.READY
            child.ready_at = child.last_heartbeat = now
            self.log("actor_ready", actor=name, pid=msg["pid"], incarnation=child.incarnation)
        elif msg.type == "heartbeat":
            if child.state == cs.STARTING:
                # An actor beats only after it said ``ready``; that word went to a
                # supervisor that died before reading it (this one adopted the actor).
                child.state = cs.DEGRADED if child.degraded_reason else cs.READY
                child.ready_at = now
                self.log("actor_ready", actor=name, incarnation=child.incarnation, late=True)
            child.last_heartbeat = now
            child.telemetry = msg["telemetry"]
        elif msg.type == "state":
            child.saved_state = msg["state"]
        elif msg.type == "health":
            child.degraded_reason = msg["reason"] if msg["degraded"] else ""
            if child.state in (cs.READY, cs.DEGRADED):
                child.state = cs.DEGRADED if msg["degraded"] else cs.READY
            self.log("actor_health", actor=name, degraded=msg["degraded"], reason=msg["reason"])
        elif msg.type == "event":
            self.log(msg["event"], actor=name, **(msg.get("detail") or {}))
        elif msg.type == "replace":
            self._replace_writer(name, msg["ring"], msg["reason"])
        else:
            self.dropped += 1

    def _replace_writer(self, asker: str, ring: str, reason: str) -> None:
        """``asker`` found the writer of ``ring`` unfit (a standby whose blocks diverge):
        a commanded restart of that writer, never of the asker itself."""
        decl = next((r for r in self.config.rings if r.name == ring), None)
        if decl is None or asker not in decl.readers or decl.writer == asker:
            self.log("bad_replace_request", actor=asker, ring=ring)
            return
        self.log("replace_requested", actor=decl.writer, by=asker, ring=ring, reason=reason)
        self.restart_actor(decl.writer)
