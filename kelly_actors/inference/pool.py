"""The worker pool: a ROUTER the workers connect to, load balancing, retries, deadlines.

* Local workers are processes this pool starts (:mod:`~kelly_actors.inference.local_workers`),
  each optionally pinned to its own core, restarted when they die. Remote workers connect
  over TCP with CurveZMQ (:mod:`~kelly_actors.bus.curve`).
* A worker serves one request at a time; requests go first come first served to an idle
  worker that has the request's model loaded.
* Two kinds of request (:mod:`~kelly_actors.inference.requests`): ``infer`` (emotion frames
  of a stream with its LSTM state) and ``vary`` (one bar's transformer variation).
* A request whose worker dies (process exit) or stays silent for ``retry_s`` is sent again
  to another worker — the request carries the LSTM state, so nothing is lost. It stays valid
  until its ``deadline`` (monotonic seconds); a result after that is dropped and counted
  (``late``), never queued; one for a request already answered is a ``duplicate``.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zmq
import zmq.utils.monitor

from kelly_actors.bus import curve, messages, sockets
from kelly_actors.inference.config import PoolConfig
from kelly_actors.inference.local_workers import LocalWorkers
from kelly_actors.inference.requests import (
    ANSWER,
    VARIATIONS,
    Request,
    Result,
    answered,
    request_frames,
)

#: A remote worker silent this long while holding a request is forgotten (it re-registers
#: with its next message).
REMOTE_TIMEOUT_S = 10.0
_STATS = (
    "served",
    "retried",
    "late",
    "expired",
    "duplicates",
    "worker_exits",
    "spawned",
    "refused",
    "load_failed",
)


@dataclass
class WorkerInfo:
    """A worker as the pool knows it; ``busy`` is the id of the request it serves (-1:
    silent past ``retry_s``, out of rotation until it answers)."""

    ident: bytes
    socket: zmq.Socket
    remote: bool
    models: set[str] = field(default_factory=set)
    busy: int | None = None
    pid: int = 0
    last_seen: float = 0.0
    last_sent: float = 0.0  # when it was last given a request (for fair rotation)
    provider: str = ""  # cpu | cuda | ray (a slot of the Ray bridge, served first)


class WorkerPool:
    def __init__(self, config: PoolConfig, ipc_path: Path, emit: Callable[..., None]) -> None:
        self.config = config
        self.emit = emit
        self.ctx = zmq.Context()
        self.local = self._router()
        self.ipc = f"ipc://{ipc_path}"
        self.local.bind(self.ipc)
        self.sockets = [self.local]
        self.remote: zmq.Socket | None = None
        self.auth: curve.Authenticator | None = None
        self.monitor: zmq.Socket | None = None
        if config.tcp:
            keys = Path(config.keys)
            self.auth = curve.Authenticator(self.ctx, keys, self._refused)
            self.remote = self._router(curve_server=keys)
            self.monitor = self.remote.get_monitor_socket(
                zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
            )
            self.remote.bind(config.tcp)
            self.tcp_endpoint = self.remote.getsockopt_string(zmq.LAST_ENDPOINT)
            self.sockets.append(self.remote)
        self.workers: dict[bytes, WorkerInfo] = {}
        self.queue: deque[Request] = deque()
        self.outstanding: dict[int, Request] = {}
        self.ids = itertools.count(1)
        self.model_id = ""
        self.model_data = b""
        self.transformer_id = ""
        self.transformer_data = b""
        self.stats = dict.fromkeys(_STATS, 0)
        self.processes = LocalWorkers(config, self.ipc, self.stats, emit)

    def _router(self, curve_server: Path | None = None) -> zmq.Socket:
        s = sockets.make(self.ctx, zmq.ROUTER, sockets.WORKER_MAX_BYTES, curve_server=curve_server)
        s.router_mandatory = True  # a send to a vanished worker raises instead of vanishing
        return s

    def _refused(self, address: str, reason: str) -> None:
        self.stats["refused"] += 1
        self.emit("worker_refused", address=address, reason=reason)

    def waitables(self) -> list[sockets.SocketBell]:
        extra = [
            s for s in (self.auth.socket if self.auth else None, self.monitor) if s is not None
        ]
        return [sockets.SocketBell(s) for s in [*self.sockets, *extra]]

    def worker_pids(self) -> list[int]:
        return self.processes.pids()

    def lose_process(self, pid: int) -> None:
        """A worker process (or the Ray bridge, with all its slots) exited: forget it; its
        requests go back to the front of the queue for the others."""
        for ident, info in list(self.workers.items()):
            if info.pid == pid:
                self._lose(ident)

    def _lose(self, ident: bytes) -> None:
        """Forget a worker; its request (if any) goes back to the front of the queue."""
        info = self.workers.pop(ident)
        if info.busy is not None and info.busy in self.outstanding:
            self._retry(self.outstanding.pop(info.busy))

    def _retry(self, req: Request) -> None:
        """Send ``req`` again, to the next free worker, before anything queued after it."""
        req.attempts += 1
        self.stats["retried"] += 1
        self.queue.appendleft(req)

    # -- models and requests --------------------------------------------------------

    def set_model(self, model_id: str, data: bytes) -> None:
        """From now on requests use this model; every worker is sent it."""
        self.model_id, self.model_data = model_id, data
        for ident, info in self._one_per_bridge():
            self._send(ident, info, messages.frames_of("model", data, model=model_id))

    def set_transformer(self, model_id: str, data: bytes) -> None:
        """The transformer step model for ``vary`` requests; every worker is sent it."""
        self.transformer_id, self.transformer_data = model_id, data
        for ident, info in self._one_per_bridge():
            self._send(ident, info, messages.frames_of("transformer", data, model=model_id))

    def _one_per_bridge(self) -> list[tuple[bytes, WorkerInfo]]:
        """Every worker, but one slot of each Ray bridge: a bridge that loads a model says
        ``loaded`` on all its slots (no need to send it the bytes once per slot)."""
        seen: set[int] = set()
        out = []
        for ident, info in list(self.workers.items()):
            if info.provider == "ray":
                if info.pid in seen:
                    continue
                seen.add(info.pid)
            out.append((ident, info))
        return out

    def _greet(self, ident: bytes, info: WorkerInfo) -> None:
        """Send a newly seen worker the models in use (a bridge's first slot only)."""
        if info.provider == "ray" and any(
            w is not info and w.provider == "ray" and w.pid == info.pid
            for w in self.workers.values()
        ):
            return
        if self.model_id:
            frames = messages.frames_of("model", self.model_data, model=self.model_id)
            self._send(ident, info, frames)
        if self.transformer_id:
            frames = messages.frames_of(
                "transformer", self.transformer_data, model=self.transformer_id
            )
            self._send(ident, info, frames)

    def submit(
        self,
        stream: int,
        frames: np.ndarray,
        h: np.ndarray,
        c: np.ndarray,
        deadline: float,
        tag: Any = None,
    ) -> int:
        """Queue frames float32 (n, N_FEATURES) of ``stream`` with its state h, c float32
        (1, 1, STATE_SIZE); sent by :meth:`dispatch`. ``deadline``: monotonic s."""
        req = Request(next(self.ids), stream, frames, h, c, self.model_id, deadline, tag)
        self.queue.append(req)
        return req.id

    def submit_variation(self, payload: bytes, deadline: float, tag: Any = None) -> int:
        """Queue one bar's variation request (JSON bytes) for the transformer."""
        req = Request(
            next(self.ids), VARIATIONS, None, None, None, self.transformer_id, deadline, tag,
            kind="vary", payload=payload,
        )  # fmt: skip
        self.queue.append(req)
        return req.id

    def busy_streams(self) -> set[int]:
        return {r.stream for r in self.outstanding.values()} | {r.stream for r in self.queue}

    def ready_workers(self, model: str | None = None, provider: str | None = None) -> int:
        """Workers that have ``model`` (default: the emotion model) loaded (only those of
        ``provider``, e.g. ``ray``, when given)."""
        wanted = self.model_id if model is None else model
        return sum(
            1
            for w in self.workers.values()
            if wanted in w.models and (provider is None or w.provider == provider)
        )

    def _send(self, ident: bytes, info: WorkerInfo, frames: list[bytes]) -> bool:
        try:
            info.socket.send_multipart([ident, *frames], zmq.NOBLOCK)
            return True
        except (zmq.Again, zmq.ZMQError):
            self.workers.pop(ident, None)
            return False

    # -- the loop step ----------------------------------------------------------------

    def poll(self, now: float) -> list[Result]:
        """Take in replies, watch workers, resend and expire requests, dispatch; results."""
        results: list[Result] = []
        if self.auth is not None:
            self.auth.serve()
        if self.monitor is not None:
            while self.monitor.poll(0):
                event = zmq.utils.monitor.recv_monitor_message(self.monitor)
                self._refused(
                    str(event.get("endpoint", b""), "utf-8", "replace"),
                    f"handshake failed (ZMQ event {event['event']})",
                )
        for sock in self.sockets:
            while sock.poll(0):
                ident, *frames = sock.recv_multipart()
                self._receive(sock, ident, frames, now, results)
        for pid in self.processes.watch(now):
            self.lose_process(pid)
        for ident, info in list(self.workers.items()):
            req = self.outstanding.get(info.busy) if info.busy is not None else None
            if req is not None and now - req.sent_at > self.config.retry_s:
                # Silent too long (hung, or a remote host gone): serve it elsewhere.
                self._retry(self.outstanding.pop(req.id))
                info.busy = -1  # stays out of rotation until it answers
                if info.provider == "ray":  # the cluster is slow or gone: all its slots
                    self._bench_bridge(info.pid)
            elif info.remote and info.busy is not None and now - info.last_seen > REMOTE_TIMEOUT_S:
                self.workers.pop(ident)
        self._expire(now, results)
        self.dispatch(now)
        return results

    def _expire(self, now: float, results: list[Result]) -> None:
        for req in [r for r in self.queue if r.deadline < now]:
            self.queue.remove(req)
            self.stats["expired"] += 1
            results.append(Result(req, False, "expired"))
        for req in [r for r in self.outstanding.values() if r.deadline < now]:
            del self.outstanding[req.id]
            self.stats["expired"] += 1
            results.append(Result(req, False, "expired"))

    def dispatch(self, now: float) -> None:
        # The Ray bridge's slots first (backend = "ray": the cluster serves, the local
        # workers stand by); then least recently used first: every worker keeps serving,
        # so a hung or lost one is found (and retried around) within retry_s.
        idle = sorted(
            ((i, w) for i, w in self.workers.items() if w.busy is None),
            key=lambda item: (item[1].provider != "ray", item[1].last_sent),
        )
        while self.queue and idle:
            req = self.queue[0]
            pick = next(((i, w) for i, w in idle if req.model in w.models), None)
            if pick is None:
                return
            ident, info = pick
            idle.remove(pick)
            if self._send(ident, info, request_frames(req)):
                self.queue.popleft()
                req.sent_at = now
                info.last_sent = now
                info.busy = req.id
                self.outstanding[req.id] = req

    def _receive(
        self, sock: zmq.Socket, ident: bytes, frames: list[bytes], now: float, results: list[Result]
    ) -> None:
        try:
            msg = messages.decode(frames)
        except messages.ProtocolError as exc:
            self.emit("worker_bad_message", error=str(exc))
            return
        info = self.workers.get(ident)
        new = info is None
        if info is None:
            info = WorkerInfo(ident, sock, remote=sock is not self.local)
            self.workers[ident] = info
        info.last_seen = now
        if msg.type == "hello":
            info.pid, info.provider = msg["pid"], msg["provider"]
            if info.provider != "ray":  # the bridge's slots are announced by the link
                self.emit("worker_joined", pid=msg["pid"], remote=info.remote)
        if new:  # after its hello: a bridge's second slot needs no copy of the models
            self._greet(ident, info)
        elif msg.type == "loaded":
            info.models.add(msg["model"])
        elif msg.type == "load_failed":
            self.stats["load_failed"] += 1
            self.emit("worker_load_failed", pid=info.pid, error=msg["error"])
        elif msg.type in ("result", "varied", "failed"):
            self._answer(info, msg, now, results)
        else:
            self.emit("worker_bad_message", error=f"{msg.type} is not a worker's message")

    def _bench_bridge(self, pid: int) -> None:
        """Take every idle slot of the Ray bridge ``pid`` out of rotation (a retried
        request must not go to another slot of the same silent cluster)."""
        for w in self.workers.values():
            if w.provider == "ray" and w.pid == pid and w.busy is None:
                w.busy = -1

    def _answer(
        self, info: WorkerInfo, msg: messages.Message, now: float, results: list[Result]
    ) -> None:
        if info.provider == "ray" and info.busy == -1:  # the cluster answers again
            for w in self.workers.values():
                if w.provider == "ray" and w.pid == info.pid and w.busy == -1:
                    w.busy = None
        info.busy = None
        req = self.outstanding.pop(msg["id"], None)
        if req is None:
            self.stats["duplicates"] += 1
        elif msg.type == "failed":
            self._retry(req)
        elif msg.type != ANSWER[req.kind]:
            # An answer of the wrong kind: that worker is confused; serve it elsewhere.
            self.emit("worker_bad_message", error=f"{msg.type} for a {req.kind} request")
            self._retry(req)
        else:
            late = now > req.deadline
            self.stats["late" if late else "served"] += 1
            results.append(answered(req, msg, late))

    def close(self) -> None:
        self.processes.close()
        if self.remote is not None:
            self.remote.disable_monitor()
        for s in [*self.sockets, self.monitor]:
            if s is not None:
                s.close(0)
        if self.auth is not None:
            self.auth.close()
        self.ctx.term()
