"""The MIDI input's line to the supervisor: a DEALER on the control ROUTER, as ``kelly ctl``.

A mapped controller becomes the very request ``kelly ctl`` sends for the same verb
(``docs/protocol.md``): ``call composer set_emotion {"arousal": 0.7}``, ``call composer
panic``, ``call composer lock {"axis": …}``, ``restart {"actor": …}``. The supervisor
executes it as it does any console's, so there is one implementation of each verb. The
actor never waits for a reply: replies are read when they come, counted ``ok`` or
``failed`` by verb (the last failure's reason kept for status), and a request unanswered
within the timeout counts as failed.
"""

from __future__ import annotations

import itertools
from typing import Any

import zmq

from kelly_actors.bus import messages, sockets

#: Requests in flight at most; more are refused (counted ``busy``).
MAX_PENDING = 64


def control_endpoint(actors_endpoint: str) -> str:
    """``ipc://DIR/actors.sock`` → ``ipc://DIR/control.sock`` (the supervisor binds its
    sockets side by side in the run directory)."""
    head, sep, _ = actors_endpoint.rpartition("/")
    if not sep:
        raise ValueError(f"not an ipc endpoint in a directory: {actors_endpoint!r}")
    return f"{head}/control.sock"


def call(actor: str, method: str, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The supervisor request that forwards ``method`` to ``actor`` (``kelly ctl``'s)."""
    return "call", {"actor": actor, "method": method, "args": args}


class Control:
    """Requests to the supervisor in flight, and what became of them."""

    def __init__(self, zctx: zmq.Context, endpoint: str, timeout_s: float) -> None:
        self.socket = sockets.make(zctx, zmq.DEALER)
        self.socket.connect(endpoint)
        self.timeout_s = timeout_s
        self._ids = itertools.count(1)
        self._pending: dict[str, tuple[float, str]] = {}
        self.ok: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        self.last_failure = ""
        #: The reply of the newest request that succeeded, by verb (for status).
        self.last_result: dict[str, dict[str, Any]] = {}

    def send(self, verb: str, cmd: str, args: dict[str, Any], now: float) -> bool:
        """Send one request named ``verb`` for the counts; False (counted) if not sent."""
        if len(self._pending) >= MAX_PENDING:
            self._fail(verb, "busy: too many requests waiting for the supervisor")
            return False
        request_id = f"midi-{next(self._ids)}"
        try:
            frames = messages.frames_of("request", id=request_id, cmd=cmd, args=args)
            self.socket.send_multipart(frames, flags=zmq.NOBLOCK)
        except zmq.Again:
            self._fail(verb, "unavailable: no supervisor to take it")
            return False
        self._pending[request_id] = (now + self.timeout_s, verb)
        return True

    def _fail(self, verb: str, why: str) -> None:
        self.failed[verb] = self.failed.get(verb, 0) + 1
        self.last_failure = f"{verb}: {why}"

    def poll(self, now: float) -> None:
        """Read every reply that came; count requests past their deadline as failed."""
        while True:
            try:
                frames = self.socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            try:
                msg = messages.decode(frames)
            except messages.ProtocolError:
                continue
            pending = self._pending.pop(msg.get("id", ""), None) if msg.type == "reply" else None
            if pending is None:
                continue  # late (already counted failed) or not ours
            verb = pending[1]
            if msg["ok"]:
                self.ok[verb] = self.ok.get(verb, 0) + 1
                self.last_result[verb] = msg.get("result") or {}
            else:
                error = msg.get("error") or {}
                self._fail(verb, f"{error.get('code', 'error')}: {error.get('message', '')}")
        late = [rid for rid, (deadline, _) in self._pending.items() if deadline <= now]
        for rid in late:
            _, verb = self._pending.pop(rid)
            self._fail(verb, f"the supervisor did not answer within {self.timeout_s:g} s")

    @property
    def pending(self) -> int:
        return len(self._pending)

    def next_deadline(self) -> float | None:
        return min((d for d, _ in self._pending.values()), default=None)

    def bell(self) -> sockets.SocketBell:
        return sockets.SocketBell(self.socket)

    def telemetry(self) -> dict[str, Any]:
        return {
            "ok": dict(self.ok),
            "failed": dict(self.failed),
            "last_failure": self.last_failure,
            "last_result": dict(self.last_result),
            "pending": self.pending,
        }

    def close(self) -> None:
        self.socket.close(linger=0)
