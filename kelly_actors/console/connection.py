"""Where a performance is, and the two sockets the console talks to it through.

A performance publishes status and events on a PUB socket and takes
commands on a ROUTER socket (see ``docs/protocol.md``). Locally both
endpoints come from the run directory's ``supervisor.json``. With
``--connect ipc:///…/control.sock`` the status endpoint is the
``status.sock`` beside it (the supervisor binds both in its run directory).

Remotely, ``--connect tcp://HOST:PORT --keys DIR`` reaches a supervisor that
serves ``remote_control`` / ``remote_status`` with CurveZMQ: the console asks
the control endpoint (``ping``) where the status PUB is, and both sockets
authenticate with the keys. A tcp:// endpoint without keys is refused.
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq

from kelly_actors.bus import curve, messages, sockets
from kelly_actors.supervisor.client import NoAnswer, NotRunning, Refused
from kelly_actors.supervisor.rundir import RunDir

__all__ = [
    "ConnectError",
    "Connection",
    "Endpoints",
    "NoAnswer",
    "NotRunning",
    "Refused",
    "StatusFeed",
    "resolve",
]

#: Events kept in memory for the console's log pane.
EVENT_HISTORY = 200


class ConnectError(ValueError):
    """A ``--connect`` endpoint the console cannot use; the message says why."""


@dataclass(frozen=True)
class Endpoints:
    """Control (ROUTER) and status (PUB) endpoints of one performance.

    Attributes:
        control: ``ipc://…/control.sock``.
        status: ``ipc://…/status.sock``.
        config: the config the run was started with ("default" or a path; "" unknown).
        where: a human description for messages.
    """

    control: str
    status: str
    config: str
    where: str
    keys: Path | None = None


def resolve(run_dir: Path, connect: str | None, keys: Path | None = None) -> Endpoints:
    """The endpoints of the run in ``run_dir``, or of ``connect`` when given.

    Raises:
        NotRunning: nothing runs in ``run_dir``.
        ConnectError: ``connect`` is not a usable ``ipc://`` control endpoint.
    """
    if connect is None:
        info = RunDir(run_dir).running()
        if info is None:
            raise NotRunning(f"no performance is running in {run_dir}")
        return Endpoints(info.control, info.status, info.config, f"pid {info.pid} in {run_dir}")
    scheme, sep, rest = connect.partition("://")
    if not sep:
        raise ConnectError(
            f"--connect wants an endpoint like ipc:///path/control.sock, got {connect!r}"
        )
    if scheme == "tcp":
        return _remote(connect, rest, keys)
    if scheme != "ipc":
        raise ConnectError(f"unsupported endpoint scheme {scheme!r}; use ipc:///…/control.sock")
    control = Path(rest)
    if control.name != "control.sock":
        raise ConnectError(f"--connect wants the run's control.sock, got {rest!r}")
    if not control.exists():
        raise NotRunning(f"nothing listens at {connect} (no such socket)")
    status = control.with_name("status.sock")
    return Endpoints(connect, f"ipc://{status}", "", connect)


def _remote(connect: str, host_port: str, keys: Path | None) -> Endpoints:
    if keys is None:
        raise ConnectError("a tcp:// endpoint needs --keys DIR: TCP is never used without keys")
    probe = Endpoints(connect, "", "", connect, keys)
    connection = Connection(probe)
    try:
        status = connection.request("ping").get("remote_status", "")
    finally:
        connection.close()
    if not status:
        raise ConnectError(f"{connect} serves no remote status endpoint (remote_status)")
    # The supervisor may bind 0.0.0.0 or *: reach its PUB on the host we reached it on.
    host = host_port.rpartition(":")[0]
    port = status.rpartition(":")[2]
    return Endpoints(connect, f"tcp://{host}:{port}", "", connect, keys)


def _socket(ctx: zmq.Context, kind: int, endpoints: Endpoints) -> zmq.Socket:
    """A socket for ``endpoints``: CURVE client when they come with keys (tcp://)."""
    try:
        return sockets.make(ctx, kind, curve_client=endpoints.keys)
    except curve.KeyError_ as exc:
        raise ConnectError(str(exc)) from None


class Connection:
    """A DEALER on the control endpoint: one request at a time, with a timeout.

    Not thread-safe: the TUI sends from one worker thread at a time.
    """

    def __init__(self, endpoints: Endpoints, timeout: float = 5.0) -> None:
        self.endpoints = endpoints
        self.timeout = timeout
        self._ctx = zmq.Context()
        self._sock = _socket(self._ctx, zmq.DEALER, endpoints)
        self._sock.connect(endpoints.control)

    def request(self, cmd: str, **args: Any) -> dict[str, Any]:
        """Send ``cmd`` and return its result; raise :class:`Refused` or :class:`NoAnswer`."""
        request_id = uuid.uuid4().hex
        self._sock.send_multipart(
            messages.encode(messages.make("request", id=request_id, cmd=cmd, args=args))
        )
        while self._sock.poll(int(self.timeout * 1000)):
            reply = messages.decode(self._sock.recv_multipart())
            if reply.type != "reply" or reply["id"] not in (request_id, ""):
                continue  # a late answer to an earlier, timed-out request
            if reply["ok"]:
                return reply.get("result") or {}
            error = reply.get("error") or {}
            raise Refused(error.get("code", "error"), error.get("message", "refused"))
        raise NoAnswer(
            f"the performance ({self.endpoints.where}) did not answer in {self.timeout:g} s"
        )

    def call(self, actor: str, method: str, **args: Any) -> dict[str, Any]:
        """An actor ``call`` through the supervisor."""
        return self.request("call", actor=actor, method=method, args=args)

    def close(self) -> None:
        self._sock.close(linger=0)
        self._ctx.term()


class StatusFeed:
    """A SUB on the status endpoint, topics ``status`` and ``event``.

    :meth:`drain` takes whatever has arrived without waiting: the newest
    snapshot replaces :attr:`snapshot`, events append to :attr:`events`.
    A message that fails validation is counted in :attr:`bad_messages` and
    skipped.
    """

    def __init__(self, endpoints: Endpoints) -> None:
        self._ctx = zmq.Context()
        self._sock = _socket(self._ctx, zmq.SUB, endpoints)
        self._sock.setsockopt(zmq.SUBSCRIBE, b"status")
        self._sock.setsockopt(zmq.SUBSCRIBE, b"event")
        self._sock.connect(endpoints.status)
        self.snapshot: dict[str, Any] | None = None
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENT_HISTORY)
        self.snapshots = 0
        self.bad_messages = 0

    def drain(self, wait_s: float = 0.0) -> int:
        """Read every message waiting (waiting up to ``wait_s`` for the first).

        Returns the number of new snapshots.
        """
        fresh = 0
        timeout = int(wait_s * 1000)
        while self._sock.poll(timeout):
            timeout = 0
            frames = self._sock.recv_multipart()
            try:
                msg = messages.decode(frames[1:])
            except messages.ProtocolError:
                self.bad_messages += 1
                continue
            if frames[0] == b"status" and msg.type == "status":
                self.snapshot = msg["snapshot"]
                self.snapshots += 1
                fresh += 1
            elif frames[0] == b"event" and msg.type == "log":
                self.events.append(
                    {"time": msg["time"], "event": msg["event"], "detail": msg.get("detail") or {}}
                )
        return fresh

    def close(self) -> None:
        self._sock.close(linger=0)
        self._ctx.term()
