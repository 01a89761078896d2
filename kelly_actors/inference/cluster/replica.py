"""A model replica on the Ray cluster: the emotion model, batched across streams, and the
transformer's bar variations.

:class:`Replica` is a plain class; :mod:`~kelly_actors.inference.cluster.deploy` makes it an
async Ray actor. Each :meth:`Replica.infer` call is one stream's request (frames, h, c: the
stream's LSTM state travels with it, as with the ZeroMQ workers). Calls that arrive within
``batch_wait_ms`` of each other — from any stream of any performance — are run as **one**
model call: requests with the same model and frame count are stacked along the batch axis
B of the ONNX graph (``features`` (T, B, 128), ``h``/``c`` (1, B, 128)); each stream's
estimates and new state are the matching column of the outputs.

Models arrive as ONNX bytes (:meth:`add_model`, :meth:`add_transformer`) and are checked by
the same loaders as the workers'; a file that fails raises :class:`ModelError` with the
reason, which the caller reports.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections import deque
from typing import Any

import numpy as np

from kelly_actors.bus.frames import N_FEATURES, STATE_SIZE
from kelly_actors.inference.model import EmotionModel, ModelError
from kelly_actors.transformer import request as variation
from kelly_actors.transformer.generate import Generator
from kelly_actors.transformer.session import ModelError as TransformerError
from kelly_actors.transformer.session import StepSession

#: Models a replica keeps (performances may run different versions; a hot swap needs two).
MAX_MODELS = 4
#: Model-call times kept for the latency percentiles.
WINDOW = 512


class BadRequest(ValueError):
    """A request a replica refuses; the message says why."""


def check_request(frames: Any, h: Any, c: Any) -> int:
    """The frame count of a well-formed request; :class:`BadRequest` otherwise.

    frames float32 (n, N_FEATURES) with 1 ≤ n ≤ 4096; h and c float32 (1, 1, STATE_SIZE).
    """
    for name, array in (("frames", frames), ("h", h), ("c", c)):
        if not isinstance(array, np.ndarray) or array.dtype != np.float32:
            raise BadRequest(f"{name} must be a float32 array")
        if not np.isfinite(array).all():
            raise BadRequest(f"{name} holds NaN or infinity")
    if frames.ndim != 2 or frames.shape[1] != N_FEATURES or not 1 <= frames.shape[0] <= 4096:
        raise BadRequest(f"frames must be (1…4096, {N_FEATURES}), got {frames.shape}")
    if h.shape != (1, 1, STATE_SIZE) or c.shape != (1, 1, STATE_SIZE):
        raise BadRequest(f"h and c must be (1, 1, {STATE_SIZE}), got {h.shape} and {c.shape}")
    return int(frames.shape[0])


class Replica:
    """One replica. ``max_batch``: most streams per model call; ``batch_wait_ms``: how long
    the first request of a batch waits for others."""

    def __init__(
        self,
        name: str,
        provider: str,
        threads: int,
        max_batch: int,
        batch_wait_ms: float,
    ) -> None:
        self.name = name
        self.provider = provider
        self.threads = threads
        self.max_batch = max_batch
        self.wait_s = batch_wait_ms / 1000.0
        self.models: dict[str, EmotionModel] = {}
        self.transformers: dict[str, Generator] = {}
        self.queue: deque[tuple[str, np.ndarray, np.ndarray, np.ndarray, asyncio.Future]] = deque()
        self.batching: asyncio.Task | None = None
        self.call_ms: deque[float] = deque(maxlen=WINDOW)
        self.sizes: deque[int] = deque(maxlen=WINDOW)
        self.counts = dict.fromkeys(("calls", "requests", "frames", "bars", "refused"), 0)

    # -- models -------------------------------------------------------------------------

    def add_model(self, version: str, data: bytes) -> str:
        """Load and check an emotion model (ONNX bytes); its version, or ModelError."""
        if version not in self.models:
            model = EmotionModel(data, self.provider, self.threads, source=f"model {version}")
            if model.version != version:
                raise ModelError(f"model {version}: the file says it is {model.version}")
            self.models[version] = model
            while len(self.models) > MAX_MODELS:
                self.models.pop(next(iter(self.models)))
        return version

    def add_transformer(self, version: str, data: bytes) -> str:
        """Load and check the transformer step model; its id, or ModelError."""
        if version not in self.transformers:
            try:
                session = StepSession(data, self.threads, name=version)
            except TransformerError as exc:
                raise ModelError(str(exc)) from None
            self.transformers[version] = Generator(session)
            while len(self.transformers) > MAX_MODELS:
                self.transformers.pop(next(iter(self.transformers)))
        return version

    def has(self) -> dict[str, list[str]]:
        """The loaded models' versions: ``{"emotion": [...], "transformer": [...]}``."""
        return {"emotion": list(self.models), "transformer": list(self.transformers)}

    # -- requests -----------------------------------------------------------------------

    async def infer(
        self, version: str, frames: np.ndarray, h: np.ndarray, c: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One stream's frames float32 (n, 128) and state h, c (1, 1, 128) → estimates
        float32 (n, 4) and the new h, c. BadRequest or ModelError (not loaded) with why."""
        try:
            check_request(frames, h, c)
            if version not in self.models:
                raise BadRequest(f"model {version} is not loaded on {self.name}")
        except BadRequest:
            self.counts["refused"] += 1
            raise
        future = asyncio.get_running_loop().create_future()
        self.queue.append((version, frames, h, c, future))
        if self.batching is None or self.batching.done():
            self.batching = asyncio.get_running_loop().create_task(self._batches())
        return await future

    async def infer_many(
        self, requests: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray] | str]:
        """Several streams' requests (version, frames, h, c) in one Ray call (what a bridge
        took in at once); each one's answer as :meth:`infer`'s, or why it failed."""

        async def one(request: tuple) -> tuple | str:
            try:
                return await self.infer(*request)
            except (BadRequest, ModelError) as exc:
                return f"{type(exc).__name__}: {exc}"

        return list(await asyncio.gather(*(one(r) for r in requests)))

    async def _batches(self) -> None:
        """Run what queued up; a model call holds the loop, so requests arriving
        meanwhile gather for the next one (dynamic batching)."""
        while self.queue:
            if self.wait_s > 0 and len(self.queue) < self.max_batch:
                await asyncio.sleep(self.wait_s)
            batch = [self.queue.popleft() for _ in range(min(self.max_batch, len(self.queue)))]
            groups: dict[tuple[str, int], list] = {}
            for item in batch:
                groups.setdefault((item[0], len(item[1])), []).append(item)
            for (version, _n), items in groups.items():
                model = self.models.get(version)
                if model is None:  # swapped out since it was queued
                    for *_, future in items:
                        future.set_exception(BadRequest(f"model {version} was unloaded"))
                    continue
                self._run(model, items)
            await asyncio.sleep(0)  # let new requests in before the next batch

    def _run(self, model: EmotionModel, items: list) -> None:
        features = np.stack([frames for _, frames, _, _, _ in items], axis=1)  # (n, B, 128)
        h = np.concatenate([h for _, _, h, _, _ in items], axis=1)
        c = np.concatenate([c for _, _, _, c, _ in items], axis=1)
        start = time.perf_counter()
        try:
            emotion, h_out, c_out = model.run(features, h, c)
        except Exception as exc:  # onnxruntime's errors have no common base
            for *_, future in items:
                if not future.done():
                    future.set_exception(ModelError(f"{self.name}: the model call failed: {exc}"))
            return
        self.call_ms.append((time.perf_counter() - start) * 1000)
        self.sizes.append(len(items))
        self.counts["calls"] += 1
        self.counts["requests"] += len(items)
        self.counts["frames"] += features.shape[0] * len(items)
        for b, (*_, future) in enumerate(items):
            if not future.done():  # the caller may have been cancelled
                future.set_result(
                    (emotion[:, b, :], h_out[:, b : b + 1, :], c_out[:, b : b + 1, :])
                )

    async def vary(self, version: str, payload: bytes) -> bytes:
        """One bar's variation: a VariationRequest as JSON → the notes as JSON."""
        generator = self.transformers.get(version)
        if generator is None:
            raise BadRequest(f"transformer {version} is not loaded on {self.name}")
        try:
            request = variation.VariationRequest.from_bytes(payload)
        except variation.RequestError as exc:
            self.counts["refused"] += 1
            raise BadRequest(f"bad variation request: {exc}") from None
        # In a thread (onnxruntime lets go of the GIL): emotion batches keep flowing.
        notes = await asyncio.get_running_loop().run_in_executor(
            None, variation.serve, generator, request
        )
        self.counts["bars"] += 1
        return variation.notes_to_bytes(notes)

    def stats(self) -> dict[str, Any]:
        """Where it runs and how it serves: batch sizes (streams per model call) and the
        model call's time in ms (p50, p99) over the last :data:`WINDOW` calls."""
        ms = np.array(self.call_ms) if self.call_ms else np.zeros(1)
        sizes = np.array(self.sizes) if self.sizes else np.zeros(1)
        return {
            "name": self.name,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "provider": self.provider,
            **self.counts,
            "batch_mean": round(float(sizes.mean()), 2),
            "batch_max": int(sizes.max()),
            "call_ms_p50": round(float(np.percentile(ms, 50)), 3),
            "call_ms_p99": round(float(np.percentile(ms, 99)), 3),
            "queued": len(self.queue),
            "models": self.has(),
        }

    def ping(self) -> int:
        return os.getpid()
