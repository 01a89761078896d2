"""The Ray backend beside the ZeroMQ pool, in one run on one machine.

This run starts a local Ray cluster of two nodes (``ray start``, loopback, 1 CPU each;
:class:`~kelly_actors.inference.cluster.local.LocalCluster`) and deploys replicas with
``kelly cluster serve``: two that batch (``max_batch`` 256, 1 ms wait) and two that do not
(``max_batch`` 1, no wait; namespace ``kelly-nobatch``), 0.5 CPU each. The ZeroMQ side is a
:class:`~kelly_actors.inference.pool.WorkerPool` with two local worker processes. Both
sides serve the shipped ``models/emotion.onnx`` and ``models/transformer.onnx``.

* ``ray_rtt_p50_ms``/``ray_rtt_p99_ms``, ``zmq_rtt_p50_ms``/``zmq_rtt_p99_ms``: one frame of
  one stream, submit to result, sequentially (Ray: pool → bridge → replica → back).
* ``ray_batched_fps_N``, ``ray_unbatched_fps_N``, ``zmq_fps_N`` for N = 1, 8, 64, 256
  streams: frames per second with every stream's next frame sent as soon as its last one
  is answered (one frame per request: the live case), for ``--seconds`` each;
  ``ray_batch_mean_256``: streams per model call the batching replicas reached.
* ``ray_bar_p50_ms``, ``zmq_bar_p50_ms``: one bar's transformer variation.
* ``replica_gap_ms``: the longest wait for an answer of one stream (one frame each) while
  a batching replica's process is SIGKILLed (the request is retried elsewhere);
  ``replica_lost``: frames lost to it.
* ``failover_gap_ms``: the same while the whole cluster is killed: the local worker takes
  over; ``failover_lost``: frames lost (deadline 0.5 s).

The run shares its two cores between the cluster, the bridge, the workers and itself:
compare the columns of one run, not with other machines. ``--gpus 0.25`` gives each
replica a quarter of a GPU (CUDA; four replicas share one); by default no GPU is used.
Usage: ``python benchmarks/cluster.py [--quick] [--gpus G]``; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kelly_actors.inference.cluster.config import ClusterConfig  # noqa: E402
from kelly_actors.inference.cluster.deploy import transformer_id  # noqa: E402
from kelly_actors.inference.cluster.link import BridgeLink  # noqa: E402
from kelly_actors.inference.cluster.local import LocalCluster  # noqa: E402
from kelly_actors.inference.config import DEFAULT_MODEL, PoolConfig  # noqa: E402
from kelly_actors.inference.model import load_model, read_model  # noqa: E402
from kelly_actors.inference.pool import WorkerPool  # noqa: E402
from kelly_actors.music.notes import Note  # noqa: E402
from kelly_actors.transformer import request as variation  # noqa: E402
from kelly_actors.transformer.tokens import Bar  # noqa: E402

TRANSFORMER = REPO / "models" / "transformer.onnx"
STREAMS = (1, 8, 64, 256)
DEADLINE_S = 0.5
BAR = variation.VariationRequest(
    bar=5, seed=3, tracks=("melody",), valence=0.6, arousal=0.4, mode="ionian",
    given=Bar(96.0, (Note("bass", 36, 90, 0.0, 2.0), Note("melody", 72, 100, 0.5, 0.25))),
).to_bytes()  # fmt: skip


class Side:
    """A pool (and, for Ray, its bridge) driven from this process."""

    def __init__(self, tmp: Path, name: str, workers: int, cluster: ClusterConfig | None):
        self.pool = WorkerPool(PoolConfig(workers=workers), tmp / f"{name}.sock", _quiet)
        model = load_model(DEFAULT_MODEL)
        self.pool.set_model(model.version, model.data)
        step = read_model(TRANSFORMER)
        self.pool.set_transformer(transformer_id(step), step)
        self.link = None
        if cluster is not None:
            self.link = BridgeLink(cluster, self.pool.ipc, tmp, name, _quiet)
        self.wait_ready(cluster.slots if cluster else workers, "ray" if cluster else None)

    def wait_ready(self, n: int, provider: str | None, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.pool.ready_workers(provider=provider) < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{n} {provider or 'local'} workers not ready in {timeout} s")
            self.step()
            time.sleep(0.005)

    def step(self) -> list:
        now = time.monotonic()
        if self.link is not None:
            gone = self.link.watch(now)
            if gone is not None:
                self.pool.lose_process(gone)
        return self.pool.poll(now)

    def close(self) -> None:
        if self.link is not None:
            self.link.close()
        self.pool.close()


def _quiet(_event: str, **_detail) -> None:
    pass


def drive(side: Side, streams: int, seconds: float) -> tuple[float, list[float], int]:
    """Every stream sends its next frame when the last is answered: (frames/s, the
    answers' times, frames lost)."""
    rng = np.random.default_rng(streams)
    frames = (rng.standard_normal((streams, 1, 128)) * 5).astype(np.float32)
    h = np.zeros((1, 1, 128), np.float32)
    free = list(range(streams))
    answers: list[float] = []
    lost = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        now = time.monotonic()
        for s in free:
            side.pool.submit(s, frames[s], h, h, now + DEADLINE_S, s)
        free = []
        side.pool.dispatch(now)
        side.pool.local.poll(1)
        for result in side.step():
            free.append(result.request.tag)
            if result.ok:
                answers.append(time.monotonic())
            else:
                lost += 1
    end = time.monotonic()
    while side.pool.outstanding or side.pool.queue:  # drain, so the next run starts clean
        side.step()
    return len(answers) / (end - start), answers, lost


def rtt(side: Side, n: int) -> tuple[float, float]:
    h = np.zeros((1, 1, 128), np.float32)
    frame = np.ones((1, 128), np.float32)
    times = []
    for _ in range(n):
        t = time.monotonic()
        side.pool.submit(0, frame, h, h, t + DEADLINE_S)
        while not side.step():
            side.pool.local.poll(1)  # sleep until an answer (the cores are shared)
        times.append(time.monotonic() - t)
    ms = np.array(times[n // 10 :]) * 1000
    return round(float(np.percentile(ms, 50)), 3), round(float(np.percentile(ms, 99)), 3)


def bars(side: Side, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.monotonic()
        side.pool.submit_variation(BAR, t + 5.0)
        results = []
        while not results:
            side.pool.local.poll(1)
            results = side.step()
        if not results[0].ok:
            raise RuntimeError(f"a bar failed: {results[0].reason}")
        times.append(time.monotonic() - t)
    return round(float(np.median(times)) * 1000, 2)


def gap_while(side: Side, seconds: float, act) -> tuple[float, int]:
    """One stream, one frame per request; ``act()`` halfway: (longest gap ms, lost)."""
    h = np.zeros((1, 1, 128), np.float32)
    frame = np.ones((1, 128), np.float32)
    last, worst, lost, acted = time.monotonic(), 0.0, 0, False
    start = last
    side.pool.submit(0, frame, h, h, start + DEADLINE_S)
    while time.monotonic() - start < seconds:
        if not acted and time.monotonic() - start > seconds / 3:
            # In a thread: killing and reaping a cluster takes a while; the stream goes on.
            threading.Thread(target=act, daemon=True).start()
            acted = True
        side.pool.local.poll(1)
        for result in side.step():
            now = time.monotonic()
            if result.ok:
                worst, last = max(worst, now - last), now
            else:
                lost += 1
            side.pool.submit(0, frame, h, h, now + DEADLINE_S)
    return round(worst * 1000, 1), lost


def serve(
    cluster: LocalCluster, namespace: str, max_batch: int, wait_ms: float, gpus: float
) -> None:
    cmd = [
        sys.executable, "-m", "kelly_actors.cli", "cluster", "serve", "--address",
        cluster.address, "--node-ip", "127.0.0.1", "--namespace", namespace, "--replicas", "2",
        "--num-cpus", "0.5", "--max-batch", str(max_batch), "--batch-wait-ms", str(wait_ms),
        "--transformer", str(TRANSFORMER), "--num-gpus", str(gpus),
    ]  # fmt: skip
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"kelly cluster serve failed: {done.stderr[-1000:]}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seconds", type=float)
    p.add_argument(
        "--gpus", type=float, default=0.0, help="GPUs per replica (> 0: CUDA replicas; the "
        "head node must see the GPU and onnxruntime-gpu must be installed)",
    )  # fmt: skip
    args = p.parse_args()
    seconds = args.seconds or (1.0 if args.quick else 3.0)
    out: dict[str, object] = {"quick": args.quick, "seconds_per_point": seconds}
    with tempfile.TemporaryDirectory(prefix="kelly-cluster-bench-") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.monotonic()
        cluster = LocalCluster(tmp / "ray", nodes=2, cpus=1)
        sides: list[Side] = []
        try:
            serve(cluster, "kelly", 256, 1.0, args.gpus)
            serve(cluster, "kelly-nobatch", 1, 0.0, args.gpus)
            out["replica_gpus"] = args.gpus
            out["cluster_start_s"] = round(time.monotonic() - t0, 1)
            base = {"address": cluster.address, "node_ip": "127.0.0.1", "slots": 256}
            zmq = Side(tmp, "zmq", 2, None)
            ray = Side(tmp, "ray", 1, ClusterConfig(**base, lost_s=1.0))
            flat = Side(tmp, "flat", 1, ClusterConfig(**base, namespace="kelly-nobatch"))
            sides = [zmq, ray, flat]
            n = 200 if args.quick else 1000
            out["ray_rtt_p50_ms"], out["ray_rtt_p99_ms"] = rtt(ray, n)
            out["zmq_rtt_p50_ms"], out["zmq_rtt_p99_ms"] = rtt(zmq, n)
            for streams in STREAMS:
                for name, side in (("zmq", zmq), ("ray_batched", ray), ("ray_unbatched", flat)):
                    fps, _, _ = drive(side, streams, seconds)
                    out[f"{name}_fps_{streams}"] = round(fps)
                if streams == 256:
                    time.sleep(1.2)  # the bridge writes the replicas' figures each second
                    reps = ray.link.telemetry().get("replicas", [])
                    out["ray_batch_mean_256"] = max((r["batch_mean"] for r in reps), default=0)
            out["ray_bar_p50_ms"] = bars(ray, 5 if args.quick else 20)
            out["zmq_bar_p50_ms"] = bars(zmq, 5 if args.quick else 20)
            flat.close()
            sides.remove(flat)
            victim = ray.link.telemetry()["replicas"][0]["pid"]
            out["replica_gap_ms"], out["replica_lost"] = gap_while(
                ray, 3.0, lambda: os.kill(victim, signal.SIGKILL)
            )
            out["failover_gap_ms"], out["failover_lost"] = gap_while(ray, 3.0, cluster.stop)
        finally:
            for side in sides:
                side.close()
            left = cluster.stop()
            if left:
                raise RuntimeError(f"Ray processes left behind: {left}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
