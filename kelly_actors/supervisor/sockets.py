"""The supervisor's ZeroMQ ends and its signal self-pipe, opened together and closed together.

* control ROUTER (``control.sock``): clients' requests (``kelly ctl``, ``kelly top``);
* actor ROUTER (``actors.sock``): every actor's DEALER, identity ``NAME:INCARNATION``;
* status PUB (``status.sock``): snapshots and event-log records;
* remote twins of the control ROUTER and the status PUB on TCP, CURVE only, with the
  authenticator that checks client keys (``supervisor.remote_control``/``remote_status``);
* a self-pipe that signal handlers write to, so a signal wakes the poll at once.

Every socket comes from :func:`kelly_actors.bus.sockets.make` (linger 0, message size limit).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import zmq

from kelly_actors.bus import curve, messages, sockets
from kelly_actors.config.performance import SupervisorSettings
from kelly_actors.config.typed import ConfigError
from kelly_actors.supervisor.rundir import RunDir

#: Status snapshots queued per slow subscriber before the PUB drops the newest.
STATUS_SEND_HWM = 100


class SupervisorSockets:
    """Bound by :meth:`open`, released by :meth:`close` (safe after a partial open)."""

    def __init__(
        self,
        run_dir: RunDir,
        settings: SupervisorSettings,
        on_refused: Callable[[str, str], None],
    ) -> None:
        """``on_refused(address, reason)`` hears of every remote client the CURVE
        authenticator turns away."""
        self.settings = settings
        self.on_refused = on_refused
        self.control_endpoint = run_dir.ipc_endpoint("control")
        self.status_endpoint = run_dir.ipc_endpoint("status")
        self.actors_endpoint = run_dir.ipc_endpoint("actors")
        self.ctx: zmq.Context | None = None
        self.control: zmq.Socket | None = None
        self.actors: zmq.Socket | None = None
        self.pub: zmq.Socket | None = None
        self.control_remote: zmq.Socket | None = None
        self.pub_remote: zmq.Socket | None = None
        self.auth: curve.Authenticator | None = None
        self.wake_r = self.wake_w = -1
        self.poller = zmq.Poller()
        self._owned: list[zmq.Socket] = []

    @property
    def is_open(self) -> bool:
        return bool(self._owned)

    def open(self) -> None:
        """Bind the local sockets (and the remote twins when configured); make the pipe."""
        self.ctx = zmq.Context()
        self.control = self._make(zmq.ROUTER)
        self.actors = self._make(zmq.ROUTER)
        self.pub = self._make(zmq.PUB)
        self.pub.sndhwm = STATUS_SEND_HWM
        self.control.bind(self.control_endpoint)
        self.actors.bind(self.actors_endpoint)
        self.pub.bind(self.status_endpoint)
        if self.settings.remote_control or self.settings.remote_status:
            self._open_remote()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        for polled in (self.control, self.actors, self.control_remote):
            if polled is not None:
                self.poller.register(polled, zmq.POLLIN)
        if self.auth is not None:
            self.poller.register(self.auth.socket, zmq.POLLIN)
        self.poller.register(self.wake_r, zmq.POLLIN)

    def _make(self, kind: int, keys: Path | None = None) -> zmq.Socket:
        assert self.ctx is not None
        sock = sockets.make(self.ctx, kind, curve_server=keys)
        self._owned.append(sock)
        return sock

    def _open_remote(self) -> None:
        """CURVE-only TCP twins of the control ROUTER and the status PUB."""
        assert self.ctx is not None
        keys = Path(self.settings.keys_dir)
        try:
            self.auth = curve.Authenticator(self.ctx, keys, self.on_refused)
        except curve.KeyError_ as exc:
            raise ConfigError(f"supervisor.keys_dir: {exc}") from None
        self._owned.append(self.auth.socket)
        for endpoint, kind in (
            (self.settings.remote_control, zmq.ROUTER),
            (self.settings.remote_status, zmq.PUB),
        ):
            if not endpoint:
                continue
            sock = self._make(kind, keys)
            try:
                sock.bind(endpoint)
            except zmq.ZMQError as exc:
                raise ConfigError(f"cannot bind {endpoint}: {exc}") from None
            if kind == zmq.ROUTER:
                self.control_remote = sock
            else:
                self.pub_remote = sock

    def request_sockets(self) -> Iterable[zmq.Socket]:
        """The ROUTERs clients send requests to (local, and remote when bound)."""
        return (s for s in (self.control, self.control_remote) if s is not None)

    def poll(self, timeout_s: float, fds: Iterable[int]) -> dict[object, int]:
        """Wait up to ``timeout_s`` on the sockets, the pipe and the extra ``fds``
        (process sentinels, which change from one pass to the next); drain the pipe."""
        fds = list(fds)
        for fd in fds:
            self.poller.register(fd, zmq.POLLIN)
        try:
            events = dict(self.poller.poll(int(timeout_s * 1000)))
        finally:
            for fd in fds:
                self.poller.unregister(fd)
        if self.wake_r in events:
            with contextlib.suppress(BlockingIOError):
                os.read(self.wake_r, 512)
        if self.auth is not None and self.auth.socket in events:
            self.auth.serve()
        return events

    def publish(self, topic: str, msg: messages.Message) -> None:
        """Send on the status PUB and its remote twin; a full queue drops, never blocks."""
        frames = [topic.encode(), *messages.encode(msg)]
        for pub in (self.pub, self.pub_remote):
            if pub is not None:
                with contextlib.suppress(zmq.ZMQError):
                    pub.send_multipart(frames, flags=zmq.NOBLOCK)

    def close(self) -> None:
        for sock in self._owned:
            sock.close(linger=0)
        self._owned = []
        self.control = self.actors = self.pub = None
        self.control_remote = self.pub_remote = None
        self.auth = None
        if self.ctx is not None:
            self.ctx.term()
            self.ctx = None
        for fd in (self.wake_r, self.wake_w):
            if fd >= 0:
                os.close(fd)
        self.wake_r = self.wake_w = -1
