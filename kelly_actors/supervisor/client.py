"""A control client: how ``kelly status`` and ``kelly ctl`` talk to a performance."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import zmq

from kelly_actors.bus import curve, messages, sockets
from kelly_actors.supervisor.rundir import RunDir, RunInfo


class NotRunning(RuntimeError):
    """No live performance in the run directory."""


class Refused(RuntimeError):
    """The supervisor (or an actor) refused the command."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class NoAnswer(RuntimeError):
    """The supervisor did not answer in time."""


class ControlClient:
    """A DEALER connected to a running supervisor's control ROUTER."""

    def __init__(
        self, run_dir: RunDir, timeout: float = 5.0, connect: str = "", keys: Path | None = None
    ) -> None:
        """Connect to the performance in ``run_dir``, or to the remote control
        endpoint ``connect`` (``tcp://HOST:PORT``, CurveZMQ keys from ``keys``)."""
        self.timeout = timeout
        self.info: RunInfo | None = None  # the local run's record (None when remote)
        self._ctx = zmq.Context()
        self._sock: zmq.Socket | None = None
        try:
            self.where = self._target(run_dir, connect, keys)
        except BaseException:
            self.close()
            raise

    def _target(self, run_dir: RunDir, connect: str, keys: Path | None) -> str:
        if connect:
            if not connect.startswith("tcp://"):
                raise NotRunning(f"--connect wants tcp://HOST:PORT, got {connect!r}")
            if keys is None:
                raise NotRunning(
                    "a tcp:// endpoint needs --keys DIR: TCP is never used without keys"
                )
            try:
                self._sock = sockets.make(self._ctx, zmq.DEALER, curve_client=keys)
            except curve.KeyError_ as exc:
                raise NotRunning(str(exc)) from None
            self._sock.connect(connect)
            return connect
        info = self.info = run_dir.running()
        if info is None:
            raise NotRunning(f"no performance is running in {run_dir.path}")
        self._sock = sockets.make(self._ctx, zmq.DEALER)
        self._sock.connect(info.control)
        return f"pid {info.pid}"

    def request(self, cmd: str, **args: Any) -> dict[str, Any]:
        """Send ``cmd`` and return its result; raise Refused or NoAnswer."""
        assert self._sock is not None
        request_id = uuid.uuid4().hex
        msg = messages.make("request", id=request_id, cmd=cmd, args=args)
        self._sock.send_multipart(messages.encode(msg))
        deadline_ms = int(self.timeout * 1000)
        while self._sock.poll(deadline_ms):
            reply = messages.decode(self._sock.recv_multipart())
            if reply.type != "reply" or reply["id"] not in (request_id, ""):
                continue
            if reply["ok"]:
                return reply.get("result") or {}
            error = reply.get("error") or {}
            raise Refused(error.get("code", "error"), error.get("message", "refused"))
        raise NoAnswer(f"the performance ({self.where}) did not answer within {self.timeout:g} s")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close(linger=0)
            self._sock = None
        self._ctx.term()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
