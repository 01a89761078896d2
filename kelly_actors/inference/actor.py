"""The inference actor: feature frames → emotion estimates on ZeroMQ, for the composer.

Reads every frame of the ``frames`` ring, runs the emotion model (in this process when
``workers = 0``, else through a :class:`~kelly_actors.inference.pool.WorkerPool`), gates and
smooths the estimates (:mod:`~kelly_actors.inference.estimates`) and publishes one
``estimate`` message per frame on a PUB socket in the run directory
(``ipc://<run dir>/estimates.sock``, topic ``estimate``).

The ``frames`` ring carries one stream (float32 (128,)) or an ensemble's N (float32
(N, 128), row k = performer k; :mod:`~kelly_actors.inference.streams`). Each stream's
LSTM state lives here and travels with each request of that stream. Only one request of a
stream is in flight at a time (frame t+1 needs frame t's state); frames that arrive
meanwhile are sent together in the next request (up to ``max_batch``). Streams are
independent: each has its own pool stream id (so the pool and the Ray replicas batch them
together), its own late and lost counts, its own estimates (``stream`` in the message).

Without a usable model (missing, corrupt, incompatible) the actor is *degraded*: it says why
in its status and estimates with :mod:`~kelly_actors.inference.heuristic`, marked
``degraded``; the performance goes on. ``load_model`` (``kelly ctl load-model emotion
PATH``) checks a new file first, then swaps between two frames. See docs/inference.md.

The actor also serves the composer's transformer variations on ``variations.sock``
(:mod:`~kelly_actors.inference.variations`), through the same workers.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import zmq

from kelly_actors.actor.base import Actor, CallError, Waitable
from kelly_actors.bus import curve
from kelly_actors.bus.frames import LOUDNESS_DB, streams_of
from kelly_actors.config.typed import ConfigError
from kelly_actors.inference.cluster.link import BridgeLink
from kelly_actors.inference.config import InferenceConfig
from kelly_actors.inference.estimates import EstimatePublisher
from kelly_actors.inference.model import EmotionModel, ModelError, check_provider, load_model
from kelly_actors.inference.pool import WorkerPool
from kelly_actors.inference.requests import Result
from kelly_actors.inference.streams import Stream, batch_groups, per_stream, totals
from kelly_actors.inference.variations import VariationService

#: While this process's thread works on a variation the loop looks every this many s.
VARIATION_POLL_S = 0.002
#: Seconds on_start waits for the first local worker.
WORKER_START_S = 12.0


class InferenceActor(Actor):
    Config = InferenceConfig
    deadline = 0.02

    @classmethod
    def preflight(cls, config: InferenceConfig, rings: dict[str, Any]) -> None:
        ring = rings.get(config.frames_ring)
        if ring is None or ring.dtype != "float32":
            raise ConfigError(
                f"ring {config.frames_ring!r} must be float32[128] read by this actor"
            )
        try:
            streams_of(ring.shape)
        except ValueError as exc:
            raise ConfigError(f"ring {config.frames_ring!r}: {exc}") from None
        try:
            check_provider(config.provider)
        except ModelError as exc:
            raise ConfigError(str(exc)) from None
        if config.backend == "ray":
            try:
                config.cluster.resolved_address()
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        if config.remote_endpoint:
            try:
                curve.server_keys(Path(config.keys_dir))
                curve.authorized_clients(Path(config.keys_dir))
            except curve.KeyError_ as exc:
                raise ConfigError(str(exc)) from None

    def on_start(self) -> None:
        cfg: InferenceConfig = self.config
        self.reader = self.ctx.reader(cfg.frames_ring)
        self.reader.seek_latest()  # frames queued while we were away are stale
        self.slot = np.empty(self.reader.spec.shape, np.float32)
        count = streams_of(self.slot.shape)
        self.rows = self.slot.reshape(count, -1)
        self.streams = [Stream(k) for k in range(count)]
        self.model: EmotionModel | None = None
        self.problem = ""
        self.swap: EmotionModel | None = None
        self.swap_path = ""
        self.swaps = 0

        self.zctx = zmq.Context()
        self.estimates = EstimatePublisher(
            self.zctx,
            f"ipc://{self.ctx.run_dir / cfg.publish}",
            cfg.smoothing,
            cfg.confidence_gate,
            count,
        )
        self.pool: WorkerPool | None = None
        if cfg.workers > 0 or cfg.remote_endpoint:
            self.pool = WorkerPool(
                cfg.pool(), self.ctx.run_dir / f"workers-{self.ctx.name}.sock", self.ctx.emit
            )
        self.bridge: BridgeLink | None = None
        if cfg.backend == "ray":
            # The cluster's driver runs in a process of its own (it may die with the
            # cluster); its slots join the pool like workers and are served first.
            self.bridge = BridgeLink(
                cfg.cluster, self.pool.ipc, self.ctx.run_dir, self.ctx.name, self.ctx.emit
            )
        self.variations: VariationService | None = None
        if cfg.variations:
            self.variations = VariationService(
                self.zctx,
                f"ipc://{self.ctx.run_dir / cfg.variations}",
                cfg.transformer_model,
                self.pool,
                self.ctx.emit,
            )
        restored = self.ctx.restored_state.get("model")
        path = restored if isinstance(restored, str) and restored else cfg.model
        self.model_path = path
        if path:
            try:
                self._install(load_model(path, cfg.provider, cfg.threads), path)
            except ModelError as exc:
                self._degrade(str(exc))
        else:
            self._degrade("no model configured")
        self.ctx.publish_state({"model": self.model_path})
        if self.pool is not None and self.model is not None and cfg.workers > 0:
            self._wait_for_workers(WORKER_START_S)

    def _wait_for_workers(self, timeout: float) -> None:
        """Be ready only once a local worker has the model, so the first frames have
        somewhere to go (a worker process imports onnxruntime: ~0.5 s)."""
        deadline = time.monotonic() + timeout
        while self.pool.ready_workers() == 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no inference worker was ready within {timeout:g} s")
            self.pool.poll(time.monotonic())
            time.sleep(0.01)

    def _degrade(self, reason: str) -> None:
        self.problem = reason
        self.ctx.set_degraded(f"{reason}; heuristic estimates (energy, tempo, mode)")
        self.ctx.emit("model_unavailable", reason=reason)

    def _install(self, model: EmotionModel, path: str) -> None:
        """Use ``model`` from the next frame on; every stream's state starts afresh."""
        self.model, self.model_path, self.problem = model, path, ""
        for stream in self.streams:
            stream.reset_state()
        self.estimates.restart()
        if self.pool is not None:
            self.pool.set_model(model.version, model.data)
        self.ctx.set_healthy()
        self.ctx.emit("model_loaded", path=path, version=model.version)

    def on_stop(self) -> None:
        if self.variations is not None:
            self.variations.close()
        if self.bridge is not None:
            self.bridge.close()
        if self.pool is not None:
            self.pool.close()
        self.estimates.close()
        self.zctx.term()

    def wait_on(self) -> list[Waitable]:
        pool = self.pool.waitables() if self.pool else []
        variations = self.variations.waitables() if self.variations else []
        return [self.reader, *pool, *variations]

    def next_wakeup(self) -> float | None:
        if self.variations is not None and self.variations.waiting_locally:
            return time.monotonic() + VARIATION_POLL_S
        # Workers are watched (deaths, silent requests, deadlines) at least every 10 ms.
        return time.monotonic() + 0.01 if self.pool is not None else None

    # -- the loop ---------------------------------------------------------------------

    def step(self) -> None:
        now = time.monotonic()
        reader = self.reader
        while reader.available() > 0 and reader.read_into(self.slot):
            for stream, row in zip(self.streams, self.rows, strict=True):
                stream.offer(reader.last_sample_time, row, now)
        if self.swap is not None and not self._in_flight():
            # Between two frames: nothing of any stream is in flight.
            model, self.swap = self.swap, None
            self._install(model, self.swap_path)
            self.swaps += 1
        if self.bridge is not None:
            gone = self.bridge.watch(now)
            if gone is not None:  # the cluster went away: its requests go to local workers
                self.pool.lose_process(gone)
        results = self.pool.poll(now) if self.pool is not None else []
        if self.variations is not None:
            self.variations.poll(now)
            for result in results:
                if result.request.kind == "vary":
                    self.variations.answer(result)
        if self.model is None:
            self._heuristic()
        elif self.pool is None:
            self._inline()
        else:
            self._pooled(now, [r for r in results if r.request.kind == "infer"])

    def _in_flight(self) -> bool:
        """Whether a request of any stream is queued or out in the pool."""
        if self.pool is None:
            return False
        busy = self.pool.busy_streams()
        return any(stream.index in busy for stream in self.streams)

    def _heuristic(self) -> None:
        for stream in self.streams:
            while stream.pending:
                sample, frame, read_at, evidence = stream.pending.popleft()
                v, a, d, confidence = stream.heuristic.update(frame)
                raw = (v, a, d, confidence * evidence)
                loud = float(frame[LOUDNESS_DB])
                self._publish(stream.index, sample, raw, loud, read_at, degraded=True)

    def _inline(self) -> None:
        """Each group of streams with as many frames waiting runs in one model call:
        features float32 (T, B, 128) with the B streams' states stacked (1, B, 128)."""
        most = self.config.max_batch
        while groups := batch_groups(self.streams):
            for group in groups:
                taken = [stream.take(most) for stream in group]
                frames = np.stack([t[1] for t in taken], axis=1)
                h = np.concatenate([s.h for s in group], axis=1)
                c = np.concatenate([s.c for s in group], axis=1)
                emotion, h, c = self.model.run(frames, h, c)
                for b, (stream, (samples, _, read_at, evidence)) in enumerate(
                    zip(group, taken, strict=True)
                ):
                    stream.h, stream.c = h[:, b : b + 1].copy(), c[:, b : b + 1].copy()
                    loudness = frames[:, b, LOUDNESS_DB]
                    rows = emotion[:, b, :]
                    self._publish_rows(stream.index, samples, rows, loudness, read_at, evidence)

    def _pooled(self, now: float, results: list[Result]) -> None:
        pool = self.pool
        for result in results:
            index, samples, read_at, evidence = result.request.tag
            stream = self.streams[index]
            if result.reason == "expired":
                # Nothing came back in time: those frames are lost; the stream goes on
                # from the last state we have.
                stream.counts["lost"] += len(samples)
                continue
            stream.h, stream.c = result.h, result.c
            if not result.ok:
                stream.counts["late"] += len(samples)
                continue
            loudness = result.request.frames[:, LOUDNESS_DB]
            self._publish_rows(index, samples, result.emotion, loudness, read_at, evidence)
        busy = pool.busy_streams()
        ready = [s for s in self.streams if s.pending and s.index not in busy]
        for stream in ready:
            samples, frames, read_at, evidence = stream.take(self.config.max_batch)
            deadline = read_at + self.config.deadline_s
            tag = (stream.index, samples, read_at, evidence)
            pool.submit(stream.index, frames, stream.h.copy(), stream.c.copy(), deadline, tag)
        if ready:
            pool.dispatch(now)

    def _publish_rows(
        self,
        stream: int,
        samples: list[int],
        emotion: np.ndarray,
        loudness: np.ndarray,
        read_at: float,
        evidence: np.ndarray,
    ) -> None:
        """One estimate per row of ``emotion`` float32 (n, 4), ``loudness`` dB (n,); each
        confidence scaled by that frame's ``evidence`` of music (n,)."""
        for sample, row, loud, seen in zip(samples, emotion, loudness, evidence, strict=True):
            raw = (float(row[0]), float(row[1]), float(row[2]), float(row[3] * seen))
            self._publish(stream, sample, raw, float(loud), read_at, False)

    def _publish(
        self,
        stream: int,
        sample: int,
        raw: tuple[float, float, float, float],
        loudness_db: float,
        read_at: float,
        degraded: bool,
    ) -> None:
        version = self.model.version if self.model and not degraded else "heuristic"
        self.estimates.publish(sample, raw, loudness_db, read_at, version, degraded, stream)

    # -- commands ---------------------------------------------------------------------

    def on_call(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "load_model":
            return self._load_model(args)
        if method == "get":
            return self.telemetry()
        return super().on_call(method, args)

    def _load_model(self, args: dict[str, Any]) -> dict[str, Any]:
        path = args.get("path")
        if not isinstance(path, str) or not path:
            raise CallError("load_model needs a path")
        try:
            model = load_model(path, self.config.provider, self.config.threads)
        except ModelError as exc:
            self.ctx.emit("model_refused", path=path, reason=str(exc))
            running = self.model.version if self.model else "heuristic"
            raise CallError(f"{exc}; still running {running}") from None
        self.swap, self.swap_path = model, path
        self.ctx.publish_state({"model": path})
        return {"path": path, "version": model.version, "swap": "at the next frame"}

    def telemetry(self) -> dict[str, Any]:
        published = self.estimates.telemetry()
        figures = published.pop("streams", None)
        out: dict[str, Any] = {
            **totals(self.streams),
            "swaps": self.swaps,
            **published,
            "pending": sum(len(s.pending) for s in self.streams),
            "model": self.model.version if self.model else None,
            "model_path": self.model_path,
            "degraded": self.model is None,
            "problem": self.problem,
        }
        if self.pool is not None:
            out["pool"] = {
                **self.pool.stats,
                "workers": len(self.pool.workers),
                "ready": self.pool.ready_workers(),
                "pids": self.pool.worker_pids(),
            }
            if self.pool.remote is not None:
                out["pool"]["tcp"] = self.pool.tcp_endpoint
        out["backend"] = self.config.backend
        if self.bridge is not None:
            out["cluster"] = {
                **self.bridge.telemetry(),
                "ready_slots": self.pool.ready_workers(provider="ray"),
            }
        if self.variations is not None:
            out["variations"] = self.variations.telemetry()
        if figures is not None:
            out["streams"] = per_stream(self.streams, figures)
        return out
