"""The OSC actor's line to the supervisor: a DEALER on the control ROUTER, as ``kelly ctl``.

The actor is a control client like any console: it sends ``request`` messages
(``docs/protocol.md``) and reads ``reply`` messages, never waiting for one. Each request
remembers whom to answer (an OSC sender and the address it used); a reply that does not
come within the timeout is answered ``timeout`` by :meth:`Control.expired`. The socket is
``ipc://<run dir>/control.sock``, the sibling of the actors' socket the actor was
started with, so it stays right when a successor supervisor binds the same paths again
(ZeroMQ reconnects by itself).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import zmq

from kelly_actors.bus import messages, sockets

#: Where the answer goes: the OSC sender (host, port) and the address it sent.
ReplyTo = tuple[tuple[str, int], str]


@dataclass(frozen=True)
class Answer:
    """A finished request: ``ok`` with ``result``, or ``code`` and ``message``."""

    reply_to: ReplyTo
    ok: bool
    result: dict[str, Any]
    code: str = ""
    message: str = ""


def sibling_endpoint(actors_endpoint: str, name: str) -> str:
    """``ipc://DIR/actors.sock`` → ``ipc://DIR/NAME.sock`` (the supervisor binds its
    sockets side by side in the run directory)."""
    head, sep, _ = actors_endpoint.rpartition("/")
    if not sep:
        raise ValueError(f"not an ipc endpoint in a directory: {actors_endpoint!r}")
    return f"{head}/{name}.sock"


class Control:
    """Requests to the supervisor in flight, by id."""

    def __init__(self, zctx: zmq.Context, endpoint: str, timeout_s: float, limit: int) -> None:
        self.socket = sockets.make(zctx, zmq.DEALER)
        self.socket.connect(endpoint)
        self.timeout_s = timeout_s
        self.limit = limit
        self._ids = itertools.count(1)
        self._pending: dict[str, tuple[float, ReplyTo]] = {}
        self.sent = 0
        self.bad_replies = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    def send(self, cmd: str, args: dict[str, Any], reply_to: ReplyTo, now: float) -> str:
        """Send one request; "" when sent, else why not (``busy``, ``unavailable``,
        ``invalid``)."""
        if len(self._pending) >= self.limit:
            return "busy"
        request_id = f"osc-{next(self._ids)}"
        try:
            frames = messages.frames_of("request", id=request_id, cmd=cmd, args=args)
            self.socket.send_multipart(frames, flags=zmq.NOBLOCK)
        except zmq.Again:
            return "unavailable"  # no supervisor to take it (between two supervisors)
        except (messages.ProtocolError, ValueError):
            return "invalid"  # cannot be framed (over 64 KiB); commands checks first
        self._pending[request_id] = (now + self.timeout_s, reply_to)
        self.sent += 1
        return ""

    def answers(self) -> list[Answer]:
        """Every reply that has arrived, matched to its request."""
        out: list[Answer] = []
        while True:
            try:
                frames = self.socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return out
            try:
                msg = messages.decode(frames)
            except messages.ProtocolError:
                self.bad_replies += 1
                continue
            pending = self._pending.pop(msg.get("id", ""), None) if msg.type == "reply" else None
            if pending is None:
                self.bad_replies += msg.type != "reply"
                continue  # late (already answered timeout) or not ours
            if msg["ok"]:
                out.append(Answer(pending[1], True, msg.get("result") or {}))
            else:
                error = msg.get("error") or {}
                code, text = str(error.get("code", "error")), str(error.get("message", ""))
                out.append(Answer(pending[1], False, {}, code, text))

    def expired(self, now: float) -> list[Answer]:
        """Requests past their deadline, answered ``timeout`` and forgotten."""
        late = [rid for rid, (deadline, _) in self._pending.items() if deadline <= now]
        out = []
        for rid in late:
            _, reply_to = self._pending.pop(rid)
            message = f"the supervisor did not answer within {self.timeout_s:g} s"
            out.append(Answer(reply_to, False, {}, "timeout", message))
        return out

    def next_deadline(self) -> float | None:
        return min((d for d, _ in self._pending.values()), default=None)

    def bell(self) -> sockets.SocketBell:
        return sockets.SocketBell(self.socket)

    def close(self) -> None:
        self.socket.close(linger=0)
