"""Requests from clients to the supervisor, and calls from the supervisor to actors.

A client request (``kelly ctl``, ``kelly top``) arrives on a control ROUTER and is served by
the verb of its ``cmd`` (the table the supervisor was started with: :mod:`kelly_actors.verbs`).
A ``call`` verb forwards a method to one actor over the actor ROUTER; the actor's reply goes
back to the client that asked, and the same call goes on to the actor's standbys
(``twin_of``) with the primary's result, so they act on the same sample. A call that gets no
answer within :data:`CALL_TIMEOUT` is answered ``timeout``.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import zmq

from kelly_actors.bus import messages
from kelly_actors.config import performance
from kelly_actors.config.performance import PerformanceConfig
from kelly_actors.supervisor import child as cs
from kelly_actors.supervisor.child import Child
from kelly_actors.supervisor.refusal import CommandError

#: Seconds an actor has to answer a call.
CALL_TIMEOUT = 5.0


@dataclass(frozen=True)
class Route:
    """Where a reply goes: the socket a request came in on and its routing frames."""

    socket: zmq.Socket
    frames: list[bytes]


@dataclass
class PendingCall:
    """A call forwarded to an actor. ``client`` is None for the copy a standby gets
    (nobody waits for it); ``method``/``args`` go to the actor's standbys once the
    actor has answered."""

    client: Route | None
    request_id: str
    actor: str
    deadline: float
    method: str = ""
    args: dict[str, Any] | None = None


#: Serves one request: ``(cmd, args, route, request_id)`` → the result, or None when the
#: answer comes later (a forwarded call); raises :class:`CommandError` to refuse.
Serve = Callable[[str, dict[str, Any], Route, str], "dict[str, Any] | None"]


class CallRouter:
    """Client requests in, actor calls out, replies back to whoever waits for them."""

    def __init__(
        self,
        config: PerformanceConfig,
        children: dict[str, Child],
        serve: Serve,
        log: Callable[..., None],
    ) -> None:
        self.config = config
        self.children = children
        self.serve = serve
        self.log = log
        #: The actor ROUTER, set once the supervisor's sockets are bound.
        self.actor_socket: zmq.Socket | None = None
        self.pending: dict[str, PendingCall] = {}
        #: Requests that did not decode (the snapshot's ``dropped_messages`` adds them).
        self.dropped = 0

    # ------------------------------------------------------------ client side
    def drain_requests(self, sock: zmq.Socket) -> None:
        while True:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            # DEALER clients send [id, payload…]; REQ clients add an empty delimiter.
            split = 2 if len(frames) > 1 and frames[1] == b"" else 1
            self._on_request(Route(sock, frames[:split]), frames[split:])

    def _on_request(self, route: Route, payload: list[bytes]) -> None:
        try:
            msg = messages.decode(payload)
            if msg.type != "request":
                raise messages.ProtocolError("invalid", f"expected a request, got {msg.type!r}")
        except messages.ProtocolError as exc:
            self.dropped += 1
            self.reply(route, messages.error_reply("", exc))
            return
        args = msg.get("args") or {}
        self.log("command", cmd=msg["cmd"], args=args)
        try:
            result = self.serve(msg["cmd"], args, route, msg["id"])
        except CommandError as exc:
            self.reply(route, messages.error_reply(msg["id"], exc.as_error()))
            return
        if result is not None:
            self.reply(route, messages.ok_reply(msg["id"], result))

    def reply(self, route: Route, msg: messages.Message) -> None:
        # A client that went away must not stall the supervisor: drop what cannot go now.
        with contextlib.suppress(zmq.ZMQError):
            route.socket.send_multipart([*route.frames, *messages.encode(msg)], flags=zmq.NOBLOCK)

    # ------------------------------------------------------------- actor side
    def forward_call(
        self,
        actor: str,
        method: str,
        args: dict[str, Any],
        route: Route | None,
        request_id: str,
    ) -> None:
        """Send ``method`` to ``actor``; its reply goes back to the client on ``route``
        (None: to nobody), and the same call to its standbys (``twin_of``) with the
        actor's result as ``args["primary_result"]``, so they act on the same sample."""
        assert self.actor_socket is not None
        child = self.children[actor]
        call_id = uuid.uuid4().hex
        self.pending[call_id] = PendingCall(
            route, request_id, actor, time.monotonic() + CALL_TIMEOUT, method, args
        )
        identity = f"{actor}:{child.incarnation}".encode()
        call = messages.make("call", id=call_id, method=method, args=args)
        self.actor_socket.send_multipart([identity, *messages.encode(call)], flags=zmq.NOBLOCK)

    def on_actor_reply(self, msg: messages.Message) -> None:
        """An actor answered a call: to its client, then on to its standbys."""
        pending = self.pending.pop(msg["id"], None)
        if pending is None:
            return  # timed out already
        if pending.client is None:  # a standby's copy
            if not msg["ok"]:
                error = msg.get("error") or {}
                self.log("standby_call_failed", actor=pending.actor, error=error.get("message"))
            return
        self.reply(
            pending.client, messages.Message("reply", dict(msg.fields, id=pending.request_id))
        )
        if not msg["ok"]:
            return
        for twin in performance.twins(self.config, pending.actor):
            if self.children[twin].state in (cs.READY, cs.DEGRADED):
                args = {**(pending.args or {}), "primary_result": msg.get("result") or {}}
                self.forward_call(twin, pending.method, args, None, "")

    def expire(self, now: float) -> None:
        """Answer ``timeout`` for every call past its deadline."""
        for call_id, pending in list(self.pending.items()):
            if now <= pending.deadline:
                continue
            del self.pending[call_id]
            err = {"code": "timeout", "message": f"{pending.actor} did not answer in time"}
            if pending.client is None:
                self.log("standby_call_failed", actor=pending.actor, error=err["message"])
            else:
                self.reply(pending.client, messages.error_reply(pending.request_id, err))
