"""An inference worker process: serves ``infer`` requests from an actor's ROUTER.

Stateless between requests: each request carries its frames *and* the LSTM state, the
reply carries the estimates and the new state, so any worker can serve any frame.
Models arrive over the socket (``model`` for the emotion model, ``transformer`` for the
step model that serves ``vary`` requests: one bar's variation, also self-contained) and
are checked before use.

Local workers are started by the actor (``python -m kelly_actors.inference.worker
--connect ipc://… --parent PID``) and exit when the actor goes; remote ones by
``kelly worker --connect tcp://HOST:PORT --keys DIR`` (CurveZMQ, keys required for TCP).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

import numpy as np
import zmq
import zmq.utils.monitor

from kelly_actors.actor.pids import die_with_parent
from kelly_actors.bus import curve, messages, sockets
from kelly_actors.bus.frames import N_FEATURES
from kelly_actors.inference.model import EmotionModel, ModelError
from kelly_actors.transformer import request as variation
from kelly_actors.transformer.generate import Generator
from kelly_actors.transformer.session import ModelError as TransformerError
from kelly_actors.transformer.session import StepSession

#: Keep at most this many models (the current one and the one being swapped out).
MAX_MODELS = 2


class WorkerError(RuntimeError):
    """The worker cannot serve (refused by the server, bad arguments)."""


def pin(cpu: int) -> None:
    """Pin this process to one core (psutil CPU affinity)."""
    import psutil

    cores = psutil.Process().cpu_affinity() or [0]
    psutil.Process().cpu_affinity([cores[cpu % len(cores)]])


class Worker:
    def __init__(self, endpoint: str, keys: Path | None, provider: str, threads: int) -> None:
        if endpoint.startswith("tcp://") and keys is None:
            raise WorkerError(
                "a tcp:// endpoint needs --keys DIR (CurveZMQ); TCP is never used without keys"
            )
        self.provider = provider
        self.threads = threads
        self.models: dict[str, EmotionModel] = {}
        self.transformers: dict[str, Generator] = {}
        self.ctx = zmq.Context()
        self.socket = sockets.make(
            self.ctx, zmq.DEALER, sockets.WORKER_MAX_BYTES, curve_client=keys
        )
        self.monitor = self.socket.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_FAILED_AUTH
            | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
            | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
            | zmq.EVENT_HANDSHAKE_SUCCEEDED
        )
        self.socket.connect(endpoint)
        self.endpoint = endpoint
        self.served = 0
        self._send("hello", pid=os.getpid(), provider=provider)

    def _send(self, type_: str, body: bytes | np.ndarray | None = None, **fields) -> None:
        self.socket.send_multipart(messages.frames_of(type_, body, **fields))

    def serve(self, parent: int | None = None) -> None:
        poller = zmq.Poller()
        poller.register(self.socket, zmq.POLLIN)
        poller.register(self.monitor, zmq.POLLIN)
        while True:
            events = dict(poller.poll(250))
            if parent is not None and os.getppid() != parent:
                return  # the actor is gone
            if self.monitor in events:
                event = zmq.utils.monitor.recv_monitor_message(self.monitor)
                if event["event"] != zmq.EVENT_HANDSHAKE_SUCCEEDED:
                    raise WorkerError(
                        f"refused by {self.endpoint}: the server did not accept our keys"
                    )
            if self.socket in events:
                self.handle(self.socket.recv_multipart())

    def handle(self, frames: list[bytes]) -> None:
        try:
            msg = messages.decode(frames)
        except messages.ProtocolError as exc:
            print(f"kelly worker: dropped a bad message: {exc}", file=sys.stderr)
            return
        if msg.type == "model":
            self._load(msg["model"], msg.body)
        elif msg.type == "transformer":
            self._load_transformer(msg["model"], msg.body)
        elif msg.type == "infer":
            self._infer(msg)
        elif msg.type == "vary":
            self._vary(msg)
        else:
            print(f"kelly worker: dropped a {msg.type!r} message", file=sys.stderr)

    def _load(self, model_id: str, data: bytes) -> None:
        try:
            model = EmotionModel(data, self.provider, self.threads, source=f"model {model_id}")
        except ModelError as exc:
            self._send("load_failed", model=model_id, error=str(exc))
            return
        self.models[model_id] = model
        while len(self.models) > MAX_MODELS:
            self.models.pop(next(iter(self.models)))
        self._send("loaded", model=model_id)

    def _load_transformer(self, model_id: str, data: bytes) -> None:
        try:
            session = StepSession(data, self.threads, name=model_id)
        except TransformerError as exc:
            self._send("load_failed", model=model_id, error=str(exc))
            return
        self.transformers[model_id] = Generator(session)
        while len(self.transformers) > MAX_MODELS:
            self.transformers.pop(next(iter(self.transformers)))
        self._send("loaded", model=model_id)

    def _vary(self, msg: messages.Message) -> None:
        fields = msg.fields
        generator = self.transformers.get(fields["model"])
        if generator is None:
            self._send("failed", id=fields["id"], error=f"model {fields['model']} not loaded")
            return
        try:
            notes = variation.serve(generator, variation.VariationRequest.from_bytes(msg.body))
        except variation.RequestError as exc:
            self._send("failed", id=fields["id"], error=f"bad variation request: {exc}")
            return
        except ValueError as exc:  # e.g. a prompt longer than the model's positions
            self._send("failed", id=fields["id"], error=f"variation failed: {exc}")
            return
        self.served += 1
        self._send("varied", variation.notes_to_bytes(notes), id=fields["id"])

    def _infer(self, msg: messages.Message) -> None:
        model = self.models.get(msg["model"])
        if model is None:
            self._send("failed", id=msg["id"], error=f"model {msg['model']} not loaded")
            return
        n = msg["frames"]
        rows, h, c = messages.unpack_rows(msg.array, n, N_FEATURES)
        emotion, h, c = model.run(rows[:, None, :], h, c)
        self.served += 1
        self._send("result", messages.pack_rows(emotion[:, 0, :], h, c), id=msg["id"], frames=n)

    def close(self) -> None:
        self.socket.disable_monitor()
        self.monitor.close(0)
        self.socket.close(0)
        self.ctx.term()


def run(
    endpoint: str,
    keys: Path | None,
    provider: str,
    threads: int,
    cpu: int | None,
    parent: int | None,
) -> int:
    if parent is not None:
        die_with_parent()  # the parent-pid check in the loop covers systems without it
    if cpu is not None:
        pin(cpu)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        worker = Worker(endpoint, keys, provider, threads)
    except (WorkerError, curve.KeyError_, ModelError) as exc:
        print(f"kelly worker: {exc}", file=sys.stderr)
        return 2
    try:
        worker.serve(parent)
    except WorkerError as exc:
        print(f"kelly worker: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        worker.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kelly_actors.inference.worker")
    p.add_argument("--connect", required=True)
    p.add_argument("--keys", type=Path)
    p.add_argument("--provider", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cpu", type=int)
    p.add_argument("--parent", type=int)
    a = p.parse_args(argv)
    return run(a.connect, a.keys, a.provider, a.threads, a.cpu, a.parent)


if __name__ == "__main__":
    sys.exit(main())
