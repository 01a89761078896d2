"""The bridge: a process that serves an inference actor's pool through Ray replicas.

``python -m kelly_actors.inference.cluster.bridge --connect ipc://… --config JSON --stats
PATH --parent PID``. It joins the cluster as a Ray driver, finds the replicas
``kelly cluster serve`` deployed, and connects ``slots`` DEALER sockets to the pool's
ROUTER, each saying ``hello`` with provider ``ray`` — to the pool it is that many workers,
which the pool prefers to its local ones. The ``infer`` requests it takes in at once go to a
replica in one Ray call (round robin; split across the replicas past :data:`SPLIT`
streams), each ``vary`` in a call of its own; the replicas batch what arrives from every
stream and every performance. Ray's calls wake the loop through a pipe when they finish.
Everything on the ZeroMQ side is the project's message format (no pickle); what Ray
pickles stays between this process and the cluster.

Ray's driver lives here, not in the actor, so a cluster that goes away can take down only
this process: the actor's pool serves locally meanwhile and starts a new bridge later.
The bridge exits (code 3, the reason on stderr) when no replica answers a health check for
``lost_s``; a replica that dies mid-request costs only a retry of that request (``failed``
→ the pool sends it to another worker at once). Every second it writes its figures and the
replicas' (batch sizes, model-call latency) as JSON to ``--stats``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from typing import Any

import numpy as np
import zmq

from kelly_actors.actor.pids import die_with_parent
from kelly_actors.bus import messages, sockets
from kelly_actors.bus.frames import N_FEATURES
from kelly_actors.files import atomic_write
from kelly_actors.inference.cluster import deploy
from kelly_actors.inference.cluster.config import ClusterConfig

#: Exit code: the cluster could not be reached, had no replica, or was lost.
UNREACHABLE = 3
HEALTH_S = 0.2
STATS_S = 1.0
DISCOVER_S = 2.0
#: A replica whose call failed is skipped this long (Ray may be restarting it).
SUSPECT_S = 0.5
#: Past ``lost_s`` by this much (s) with no answer, the loop is held in Ray: exit anyway.
HELD_S = 2.0
#: Streams per Ray call before a batch is split across the replicas.
SPLIT = 32


class Unreachable(RuntimeError):
    pass


def _give_up(where: str, config: ClusterConfig) -> None:
    print(
        f"kelly bridge: the Ray cluster at {where} did not answer within "
        f"{config.connect_timeout_s:g} s",
        file=sys.stderr,
        flush=True,
    )
    os._exit(UNREACHABLE)


class Bridge:
    def __init__(self, endpoint: str, config: ClusterConfig, stats_path: str) -> None:
        self.config = config
        self.stats_path = stats_path
        # ray.init can wait for a long time on a wrong address, inside Ray's C++ code where
        # no Python signal handler runs: a timer thread ends the process instead.
        where = config.address or "the environment's address"
        timer = threading.Timer(config.connect_timeout_s, _give_up, (where, config))
        timer.daemon = True
        timer.start()
        try:
            self.ray = deploy.connect(config)
            self.replicas = deploy.find_replicas(self.ray, config.namespace)
            if not self.replicas:
                raise Unreachable(
                    f"no replicas in Ray namespace {config.namespace!r} at "
                    f"{config.resolved_address()} (kelly cluster serve deploys them)"
                )
            self.replicas = self._answering(self.replicas)
        finally:
            timer.cancel()
        self.address = config.resolved_address()
        self.order = itertools.cycle(list(self.replicas))
        self.suspect: dict[str, float] = {}
        self.pending: dict[Any, tuple[list[tuple[int, int]], str, str, float]] = {}
        self.health: dict[Any, str] = {}
        # Ray calls say they are done from Ray's thread: into this queue, and a byte in the
        # pipe wakes the loop (no polling of Ray while calls are out).
        self.done: queue.SimpleQueue = queue.SimpleQueue()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.last_answer = time.monotonic()
        self.stat_refs: dict[Any, str] = {}
        self.replica_stats: dict[str, dict[str, Any]] = {}
        self.emotion: dict[str, bytes] = {}
        self.transformer: dict[str, bytes] = {}
        self.rtt: deque[float] = deque(maxlen=512)
        self.counts = dict.fromkeys(
            ("served", "failed", "bad_messages", "replica_errors", "dropped"), 0
        )
        self.ctx = zmq.Context()
        self.slots = []
        for _ in range(config.slots):
            s = sockets.make(self.ctx, zmq.DEALER, sockets.WORKER_MAX_BYTES)
            s.connect(endpoint)
            s.send_multipart(messages.frames_of("hello", pid=os.getpid(), provider="ray"))
            self.slots.append(s)

    def _answering(self, replicas: dict[str, Any]) -> dict[str, Any]:
        """The replicas that answer a ping (a name Ray still lists may be a dead one)."""
        alive = {}
        for name, handle in replicas.items():
            try:
                self.ray.get(handle.ping.remote(), timeout=self.config.connect_timeout_s)
            except self.ray.exceptions.RayError:
                continue
            alive[name] = handle
        if not alive:
            raise Unreachable(f"none of the replicas {sorted(replicas)} answers")
        return alive

    # -- the pool's messages ------------------------------------------------------------

    def _send(self, slot: int, type_: str, body: Any = None, **fields: Any) -> None:
        try:
            self.slots[slot].send_multipart(messages.frames_of(type_, body, **fields), zmq.NOBLOCK)
        except zmq.Again:  # the pool is not reading (its actor is going): drop it
            self.counts["dropped"] += 1

    def handle(self, slot: int, frames: list[bytes], now: float, infers: list) -> None:
        """One message from the pool; ``infer`` requests are gathered in ``infers`` and
        sent together by :meth:`send_infers`."""
        try:
            msg = messages.decode(frames)
        except messages.ProtocolError as exc:
            self.counts["bad_messages"] += 1
            print(f"kelly bridge: dropped a bad message: {exc}", file=sys.stderr)
            return
        if msg.type in ("model", "transformer"):
            self._load(slot, msg.type, msg["model"], msg.body)
        elif msg.type == "infer":
            rows, h, c = messages.unpack_rows(msg.array, msg["frames"], N_FEATURES)
            infers.append((slot, msg["id"], (msg["model"], rows.copy(), h.copy(), c.copy())))
        elif msg.type == "vary":
            name, handle = self._replica(now)
            ref = handle.vary.remote(msg["model"], bytes(msg.body))
            self._watch(ref, self.pending, ([(slot, msg["id"])], "vary", name, now))
        else:
            self.counts["bad_messages"] += 1
            print(f"kelly bridge: dropped a {msg.type!r} message", file=sys.stderr)

    def _load(self, slot: int, kind: str, version: str, data: bytes) -> None:
        """Every replica loads the model the pool uses (at once if it has it already)."""
        store = self.emotion if kind == "model" else self.transformer
        if version not in store:
            method = "add_model" if kind == "model" else "add_transformer"
            refs = [getattr(h, method).remote(version, bytes(data)) for h in self.replicas.values()]
            try:
                self.ray.get(refs, timeout=self.config.connect_timeout_s)
            except self.ray.exceptions.RayError as exc:
                self._send(slot, "load_failed", model=version, error=deploy.reason(exc))
                return
            store[version] = bytes(data)
        # The pool sends a model to one slot of the bridge; every slot can serve it now.
        for other in range(len(self.slots)):
            self._send(other, "loaded", model=version)

    def _replica(self, now: float) -> tuple[str, Any]:
        for _ in range(len(self.replicas)):
            name = next(self.order)
            if self.suspect.get(name, 0.0) <= now:
                return name, self.replicas[name]
        name = next(self.order)  # every one failed lately: try anyway
        return name, self.replicas[name]

    def send_infers(self, infers: list, now: float) -> None:
        """What arrived at once goes in one Ray call per replica (split evenly when there
        are more than ``SPLIT`` streams); the replica batches them with everyone else's."""
        if not infers:
            return
        parts = min(len(self.replicas), -(-len(infers) // SPLIT))
        for k in range(parts):
            chunk = infers[k::parts]
            name, handle = self._replica(now)
            ref = handle.infer_many.remote([request for _, _, request in chunk])
            ids = [(slot, ident) for slot, ident, _ in chunk]
            self._watch(ref, self.pending, (ids, "infer", name, now))

    def _watch(self, ref: Any, table: dict, entry: Any) -> None:
        table[ref] = entry
        ref.future().add_done_callback(lambda _f, r=ref: self._ring(r))

    def _ring(self, ref: Any) -> None:
        self.done.put(ref)
        try:
            os.write(self.wake_w, b"x")
        except BlockingIOError:  # the pipe is full: the loop is awake anyway
            pass

    def collect(self, now: float) -> None:
        """Answer every finished call; a failed one as ``failed`` with the reason."""
        try:
            while os.read(self.wake_r, 4096):
                pass
        except BlockingIOError:
            pass
        while not self.done.empty():
            ref = self.done.get()
            if ref in self.health:
                self._healthy(ref, now)
            elif ref in self.stat_refs:
                name = self.stat_refs.pop(ref)
                try:
                    self.replica_stats[name] = self.ray.get(ref)
                except self.ray.exceptions.RayError:
                    self.replica_stats.pop(name, None)
            else:
                self._answer(ref, now)

    def _answer(self, ref: Any, now: float) -> None:
        ids, kind, name, started = self.pending.pop(ref)
        try:
            value = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            self.counts["replica_errors"] += 1
            self.suspect[name] = now + SUSPECT_S
            value = [f"{deploy.reason(exc)}"] * len(ids)
        else:
            self.last_answer = now
            self.rtt.append((now - started) * 1000)
            if kind == "vary":
                value = [value]
        for (slot, ident), answer in zip(ids, value, strict=True):
            if isinstance(answer, str):
                self.counts["failed"] += 1
                if "not loaded" in answer:
                    self._reload(name)
                self._send(slot, "failed", id=ident, error=f"{name}: {answer}")
            elif kind == "vary":
                self.counts["served"] += 1
                self._send(slot, "varied", answer, id=ident)
            else:
                self.counts["served"] += 1
                emotion, h, c = answer
                body = messages.pack_rows(np.asarray(emotion, np.float32), h, c)
                self._send(slot, "result", body, id=ident, frames=len(emotion))

    def _reload(self, name: str) -> None:
        """A replica Ray restarted has only its deployed models: send it ours again."""
        handle = self.replicas[name]
        for version, data in self.emotion.items():
            handle.add_model.remote(version, data)
        for version, data in self.transformer.items():
            handle.add_transformer.remote(version, data)

    def _healthy(self, ref: Any, now: float) -> None:
        name = self.health.pop(ref)
        try:
            self.ray.get(ref)
            self.last_answer = now
        except self.ray.exceptions.RayError:
            self.suspect[name] = now + SUSPECT_S

    # -- upkeep -------------------------------------------------------------------------

    def check(self, now: float) -> None:
        """Health checks; Unreachable when no replica answered anything for ``lost_s``."""
        if now - self.last_answer > self.config.lost_s:
            raise Unreachable(f"no replica answered for {self.config.lost_s:g} s: cluster lost")
        if not self.health:
            for name, handle in self.replicas.items():
                self._watch(handle.ping.remote(), self.health, name)

    def discover(self) -> None:
        """Pick up replicas added since (kelly cluster serve --replicas N, autoscaling)."""
        try:
            found = deploy.find_replicas(self.ray, self.config.namespace)
        except Exception:  # the GCS is away; the health check decides
            return
        if found and set(found) != set(self.replicas):
            self.replicas = found
            self.order = itertools.cycle(list(found))

    def write_stats(self) -> None:
        for name, handle in self.replicas.items():
            if name not in self.stat_refs.values():
                self._watch(handle.stats.remote(), self.stat_refs, name)
        rtt = np.array(self.rtt) if self.rtt else np.zeros(1)
        report = {
            "address": self.address,
            "namespace": self.config.namespace,
            "pid": os.getpid(),
            "time": time.time(),
            "slots": len(self.slots),
            "in_flight": len(self.pending),
            **self.counts,
            "rtt_ms_p50": round(float(np.percentile(rtt, 50)), 3),
            "rtt_ms_p99": round(float(np.percentile(rtt, 99)), 3),
            "replicas": [self.replica_stats[n] for n in self.replicas if n in self.replica_stats],
        }
        atomic_write(self.stats_path, json.dumps(report))

    def held_for(self, now: float) -> float | None:
        """Seconds nothing answered, when that is past what :meth:`check` allows by far
        (its own ``lost_s`` and ``HELD_S`` more): the loop is held in a Ray call."""
        silent = now - self.last_answer
        return silent if silent > self.config.lost_s + HELD_S else None

    def _watch_the_loop(self) -> None:
        """The loop can be held inside Ray's C++ code, where :meth:`check` never runs: a
        call that needs the GCS (listing the replicas, a new task) waits for Ray's own
        reconnect timeout, a minute, once the cluster is gone. This thread then ends the
        process with the reason, as ``check`` would have."""
        while True:
            time.sleep(HEALTH_S)
            silent = self.held_for(time.monotonic())
            if silent is not None:
                print(
                    f"kelly bridge: no replica answered for {silent:.1f} s (held in a Ray "
                    "call): cluster lost",
                    file=sys.stderr,
                    flush=True,
                )
                os._exit(UNREACHABLE)

    def serve(self, parent: int | None) -> None:
        threading.Thread(target=self._watch_the_loop, name="bridge-watch", daemon=True).start()
        poller = zmq.Poller()
        for s in self.slots:
            poller.register(s, zmq.POLLIN)
        poller.register(self.wake_r, zmq.POLLIN)
        index = {s: i for i, s in enumerate(self.slots)}
        next_health = next_stats = next_discover = 0.0
        while True:
            events = poller.poll(HEALTH_S * 1000)
            now = time.monotonic()
            infers: list = []
            for sock, _ in events:
                if sock == self.wake_r:
                    continue
                while sock.poll(0):
                    self.handle(index[sock], sock.recv_multipart(), now, infers)
            self.send_infers(infers, now)
            self.collect(now)
            if now >= next_health:
                next_health = now + HEALTH_S
                if parent is not None and os.getppid() != parent:
                    return  # the actor is gone
                self.check(now)
            if now >= next_stats:
                next_stats = now + STATS_S
                self.write_stats()
            if now >= next_discover:
                next_discover = now + DISCOVER_S
                self.discover()

    def close(self) -> None:
        for s in self.slots:
            s.close(0)
        self.ctx.term()
        os.close(self.wake_r)
        os.close(self.wake_w)


def run(endpoint: str, config: ClusterConfig, stats: str, parent: int | None) -> int:
    if parent is not None:
        die_with_parent()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        bridge = Bridge(endpoint, config, stats)
    except (deploy.ClusterError, Unreachable) as exc:
        print(f"kelly bridge: {exc}", file=sys.stderr)
        return UNREACHABLE
    try:
        bridge.serve(parent)
    except Unreachable as exc:
        print(f"kelly bridge: {exc}", file=sys.stderr)
        return UNREACHABLE
    finally:
        bridge.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kelly_actors.inference.cluster.bridge")
    p.add_argument("--connect", required=True, help="the pool's ipc:// endpoint")
    p.add_argument("--config", required=True, help="the ClusterConfig as JSON")
    p.add_argument("--stats", required=True, help="where to write the figures (JSON)")
    p.add_argument("--parent", type=int)
    a = p.parse_args(argv)
    return run(a.connect, ClusterConfig(**json.loads(a.config)), a.stats, a.parent)


if __name__ == "__main__":
    sys.exit(main())
