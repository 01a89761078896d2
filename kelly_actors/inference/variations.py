"""The transformer's variations, served to the composer by the inference actor.

The composer sends ``ask`` {id, deadline_ms} + a
:class:`~kelly_actors.transformer.request.VariationRequest` to a ROUTER in
the run directory (``variations.sock``); the answer is ``varied`` {id} + the
notes, or ``failed`` {id, error} (:mod:`kelly_actors.bus.messages`). With workers
the request goes through the :class:`~kelly_actors.inference.pool.WorkerPool` like
any frame (retried on another worker if one dies, dropped at its deadline); without
workers a thread of this process serves it
(:class:`~kelly_actors.transformer.local.LocalTransformer`). An answer after the
deadline is never sent as notes: the composer has played the rules' bar by then and
is told ``late``.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq

from kelly_actors.bus import messages, sockets
from kelly_actors.inference.pool import WorkerPool
from kelly_actors.inference.requests import Result
from kelly_actors.transformer import request as variation
from kelly_actors.transformer.generate import Generator
from kelly_actors.transformer.local import LocalTransformer
from kelly_actors.transformer.session import ModelError, StepSession, resolve

#: Most requests waiting at once (a composer asks for one bar at a time).
MAX_WAITING = 16


@dataclass
class _Local:
    """A request served by this process's thread."""

    client: bytes
    id: int
    deadline: float
    future: Future


class VariationService:
    """Counts ``asked``, ``served``, ``late`` (answered after the deadline),
    ``expired`` (nothing in time), ``failed`` and ``bad`` (malformed asks)."""

    def __init__(
        self,
        zctx: zmq.Context,
        endpoint: str,
        model: str,
        pool: WorkerPool | None,
        emit: Any,
    ) -> None:
        self.emit = emit
        self.pool = pool
        self.socket = sockets.make(zctx, zmq.ROUTER, sockets.VARIATIONS_MAX_BYTES)
        self.socket.bind(endpoint)
        self.stats = dict.fromkeys(("asked", "served", "late", "expired", "failed", "bad"), 0)
        self.model_id = ""
        self.problem = ""
        self.thread: LocalTransformer | None = None
        self.local: list[_Local] = []
        self._load(model)

    def _load(self, model: str) -> None:
        if not model:
            self.problem = "no transformer model configured"
            return
        path = resolve(model)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            self._unavailable(f"transformer model not found: {path} ({exc.strerror})")
            return
        self.model_id = f"transformer-{hashlib.sha256(data).hexdigest()[:12]}"
        try:
            # Checked here even when workers serve: a bad file is refused once, clearly.
            session = StepSession(data, name=path.name)
        except ModelError as exc:
            self.model_id = ""
            self._unavailable(str(exc).replace(path.name, str(path), 1))
            return
        if self.pool is not None:
            self.pool.set_transformer(self.model_id, data)
        else:
            self.thread = LocalTransformer(Generator(session), "variations")
        self.emit("transformer_loaded", path=str(path), version=self.model_id)

    def _unavailable(self, reason: str) -> None:
        self.problem = reason
        self.emit("transformer_unavailable", reason=reason)

    def waitables(self) -> list[sockets.SocketBell]:
        return [sockets.SocketBell(self.socket)]

    @property
    def waiting_locally(self) -> bool:
        return bool(self.local)

    # -- the loop step -----------------------------------------------------------

    def poll(self, now: float) -> None:
        """Take in asks; answer what this process's thread finished."""
        while self.socket.poll(0):
            client, *frames = self.socket.recv_multipart()
            self._ask(client, frames, now)
        for job in [j for j in self.local if j.future.done() or j.deadline < now]:
            self.local.remove(job)
            self._finish_local(job, now)

    def _ask(self, client: bytes, frames: list[bytes], now: float) -> None:
        try:
            msg = messages.decode(frames)
            if msg.type != "ask":
                raise messages.ProtocolError("invalid", f"expected ask, got {msg.type}")
        except messages.ProtocolError as exc:
            self._refuse(f"{exc}")  # no id to answer to
            return
        fields, payload = msg.fields, msg.body
        try:
            request = variation.VariationRequest.from_bytes(payload)  # here, not in a worker
        except variation.RequestError as exc:
            self._refuse(str(exc))
            self._reply(client, "failed", id=fields["id"], error=f"bad request: {exc}")
            return
        self.stats["asked"] += 1
        ident = fields["id"]
        if not self.model_id:
            self.stats["failed"] += 1
            self._reply(client, "failed", id=ident, error=self.problem)
            return
        deadline = now + max(0.0, fields["deadline_ms"]) / 1000.0
        if self.pool is not None:
            self.pool.submit_variation(payload, deadline, (client, ident))
            self.pool.dispatch(now)
        elif len(self.local) >= MAX_WAITING:
            self.stats["failed"] += 1
            self._reply(client, "failed", id=ident, error="too many variations waiting")
        else:
            future = self.thread.submit(request)
            self.local.append(_Local(client, ident, deadline, future))

    def _refuse(self, error: str) -> None:
        self.stats["bad"] += 1
        self.emit("variation_refused", error=error)

    def _finish_local(self, job: _Local, now: float) -> None:
        if not job.future.done() or now > job.deadline:
            done = job.future.done()
            # Not started yet: the thread drops it instead of serving a bar nobody will
            # play (so asks the thread cannot keep up with never pile up in its queue).
            job.future.cancel()
            self._late(job.client, job.id, "late" if done else "expired")
            return
        error = job.future.exception()
        if error is not None:
            self.stats["failed"] += 1
            self._reply(job.client, "failed", id=job.id, error=f"variation failed: {error!r}")
            return
        self.stats["served"] += 1
        self._reply(job.client, "varied", variation.notes_to_bytes(job.future.result()), id=job.id)

    def answer(self, result: Result) -> None:
        """A pool result of a ``vary`` request: pass it on to the composer that asked."""
        client, ident = result.request.tag
        if result.ok:
            self.stats["served"] += 1
            self._reply(client, "varied", result.payload, id=ident)
        else:
            self._late(client, ident, result.reason)

    def _late(self, client: bytes, ident: int, reason: str) -> None:
        self.stats["late" if reason == "late" else "expired"] += 1
        self._reply(client, "failed", id=ident, error=f"{reason}: past the deadline")

    def _reply(self, client: bytes, type_: str, body: bytes | None = None, **fields) -> None:
        try:
            frames = messages.frames_of(type_, body, **fields)
            self.socket.send_multipart([client, *frames], zmq.NOBLOCK)
        except zmq.ZMQError:
            pass  # the composer went away; it asks again when it is back

    def telemetry(self) -> dict[str, Any]:
        return {"model": self.model_id or None, "problem": self.problem, **self.stats}

    def close(self) -> None:
        if self.thread is not None:
            self.thread.close()
        self.socket.close(0)
