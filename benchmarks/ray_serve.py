"""Our Ray actor replicas against a Ray Serve deployment, in one run on one local cluster.

Issue 15 asked for Ray Serve deployments, or Ray actors where they serve better; this
measures it. One local Ray cluster (two 1-CPU nodes on loopback,
:class:`~kelly_actors.inference.cluster.local.LocalCluster`) holds both sides at once:

* **actors**: two replicas deployed by :func:`~kelly_actors.inference.cluster.deploy.deploy`
  (the code ``kelly cluster serve`` runs: :class:`~kelly_actors.inference.cluster.replica.Replica`,
  ``max_batch`` 256, 1 ms wait, 0.5 CPU each), called as ``replica.infer.remote(...)``
  round robin;
* **serve**: a Serve deployment of two replicas, 0.5 CPU each, ``max_ongoing_requests``
  4096 (the actors' ``max_concurrency``; Serve's default of 5 would cap a batch at 5), whose
  ``infer`` is ``@serve.batch(max_batch_size=256, batch_wait_timeout_s=0.001)`` and stacks
  the batch along the model's batch axis as the replica does; called through a
  ``DeploymentHandle`` (no HTTP: Serve's proxy is off, ``proxy_location="Disabled"``).

Both load ``models/emotion.onnx`` with :class:`~kelly_actors.inference.model.EmotionModel`
(CPU, one thread), take one frame (1, 128) and the stream's LSTM state h, c (1, 1, 128) per
request and return the estimates and the new state, which the stream sends with its next
frame. Both are driven from this process (one Ray driver, asyncio), point by point in turn.

* ``{actors,serve}_rtt_p50_ms``/``_p99_ms``: one frame of one stream, call to answer,
  sequentially; ``serve_rtt_p50_ratio``: Serve's p50 over the actors'.
* ``{actors,serve}_fps_N`` for N = 64 and 256 streams, each sending its next frame when its
  last is answered, ``--seconds`` a point; ``serve_fps_N_ratio``: Serve's over the actors'.
* ``actors_deploy_s``: :func:`deploy` of two replicas with the model, until they answer;
  ``serve_start_s``: ``serve.start`` (the controller); ``serve_deploy_s``: ``serve.run``.
* ``serve_processes``/``serve_rss_mb``: the processes ``serve.start`` added to the cluster
  and their RSS; ``serve_controller_cpu_pct``: the controller's CPU over the measurement;
  ``serve_listen``: the addresses those processes listen on (``ray_listen``: the addresses
  the cluster listened on before); ``{actors,serve}_replica_rss_mb``:
  the replicas' RSS; ``serve_driver_rss_mb``: what Serve's handle added to this process.
* ``max_abs_diff``: the two sides' answers to the same request (should be ~0).

Needs ``ray[serve]==2.60.0`` (``pip install 'kelly-actors[cluster-serve]'``; only this
benchmark uses it). The run shares the machine's cores between the cluster and itself:
compare the columns of one run. Usage: ``python benchmarks/ray_serve.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ.setdefault("RAY_AUTH_MODE", "token")

from kelly_actors.inference.cluster import deploy  # noqa: E402
from kelly_actors.inference.cluster.config import ClusterConfig  # noqa: E402
from kelly_actors.inference.cluster.local import LocalCluster  # noqa: E402
from kelly_actors.inference.config import DEFAULT_MODEL  # noqa: E402
from kelly_actors.inference.model import EmotionModel, read_model  # noqa: E402

REPLICAS = 2
CPUS = 0.5
MAX_BATCH = 256
WAIT_S = 0.001
MAX_ONGOING = deploy.MAX_CONCURRENCY
STREAMS = (64, 256)


def serve_app(serve, data: bytes):
    """The Serve deployment, bound to the model's bytes."""

    @serve.deployment(
        num_replicas=REPLICAS,
        ray_actor_options={"num_cpus": CPUS},
        max_ongoing_requests=MAX_ONGOING,
    )
    class Emotion:
        def __init__(self, model: bytes) -> None:
            from kelly_actors.inference.model import EmotionModel

            self.model = EmotionModel(model, "cpu", 1)

        @serve.batch(max_batch_size=MAX_BATCH, batch_wait_timeout_s=WAIT_S)
        async def infer(self, requests: list[tuple]) -> list[tuple]:
            # As Replica._run: one model call per frame count, streams along the batch axis.
            out: list = [None] * len(requests)
            groups: dict[int, list[int]] = {}
            for i, (frames, _h, _c) in enumerate(requests):
                groups.setdefault(len(frames), []).append(i)
            for idx in groups.values():
                features = np.stack([requests[i][0] for i in idx], axis=1)
                h = np.concatenate([requests[i][1] for i in idx], axis=1)
                c = np.concatenate([requests[i][2] for i in idx], axis=1)
                emotion, h_out, c_out = self.model.run(features, h, c)
                for b, i in enumerate(idx):
                    out[i] = (emotion[:, b, :], h_out[:, b : b + 1, :], c_out[:, b : b + 1, :])
            return out

        def pid(self) -> int:
            return os.getpid()

    return Emotion.bind(data)


async def rtt(call, n: int) -> tuple[float, float]:
    h = np.zeros((1, 1, 128), np.float32)
    frame = np.ones((1, 128), np.float32)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        await call(frame, h, h)
        times.append(time.perf_counter() - t)
    ms = np.array(times[n // 10 :]) * 1000
    return round(float(np.percentile(ms, 50)), 3), round(float(np.percentile(ms, 99)), 3)


async def fps(call, streams: int, seconds: float) -> float:
    rng = np.random.default_rng(streams)
    frames = (rng.standard_normal((streams, 1, 128)) * 5).astype(np.float32)
    count = [0]
    start = time.perf_counter()
    stop = start + seconds

    async def stream(s: int) -> None:
        h = c = np.zeros((1, 1, 128), np.float32)
        while time.perf_counter() < stop:
            _e, h, c = await call(frames[s], h, c)
            count[0] += 1

    await asyncio.gather(*(stream(s) for s in range(streams)))
    return count[0] / (time.perf_counter() - start)


def cluster_procs(cluster: LocalCluster) -> dict[int, psutil.Process]:
    cluster.remember()
    return {pid: p for pid, p in cluster.tree.items() if p.is_running()}


def rss_mb(procs) -> float:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return round(total / 2**20, 1)


def title(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())[:60].strip()
    except psutil.Error:
        return "?"


def listening(procs, ports: bool = False) -> list[str]:
    out = set()
    for p in procs:
        try:
            for conn in p.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN:
                    out.add(f"{conn.laddr.ip}:{conn.laddr.port}" if ports else conn.laddr.ip)
        except psutil.Error:
            continue
    return sorted(out)


async def measure(ray, serve, cluster: LocalCluster, args, out: dict) -> None:
    seconds = args.seconds or (1.0 if args.quick else 3.0)
    out["seconds_per_point"] = seconds
    data = read_model(DEFAULT_MODEL)
    version = EmotionModel(data, "cpu", 1).version

    config = ClusterConfig(
        address=cluster.address, node_ip="127.0.0.1", namespace="kelly-serve-bench",
        replicas=REPLICAS, num_cpus=CPUS, max_batch=MAX_BATCH, batch_wait_ms=WAIT_S * 1000,
    )  # fmt: skip
    t = time.monotonic()
    stats = deploy.deploy(ray, config, DEFAULT_MODEL, None)
    out["actors_deploy_s"] = round(time.monotonic() - t, 2)
    replicas = list(deploy.find_replicas(ray, config.namespace).values())
    out["actors_replica_rss_mb"] = rss_mb(psutil.Process(s["pid"]) for s in stats.values())
    turn = itertools.cycle(replicas)

    def actors(frames, h, c):
        return next(turn).infer.remote(version, frames, h, c)

    before = cluster_procs(cluster)
    out["ray_listen"] = listening(before.values())
    driver_before = psutil.Process().memory_info().rss
    t = time.monotonic()
    serve.start(proxy_location="Disabled")
    out["serve_start_s"] = round(time.monotonic() - t, 2)
    time.sleep(0.5)
    added = [p for pid, p in cluster_procs(cluster).items() if pid not in before]
    out["serve_processes"] = sorted(title(p) for p in added)
    out["serve_rss_mb"] = rss_mb(added)
    out["serve_listen"] = listening(added, ports=True)
    controller = [p for p in added if "ServeController" in title(p)]
    before = cluster_procs(cluster)
    t = time.monotonic()
    handle = serve.run(serve_app(serve, data), name="kelly-emotion", route_prefix=None)
    out["serve_deploy_s"] = round(time.monotonic() - t, 2)
    replica_procs = [p for pid, p in cluster_procs(cluster).items() if pid not in before]
    pids = {await handle.pid.remote() for _ in range(20)}
    replica_procs = [p for p in replica_procs if p.pid in pids] or [psutil.Process(p) for p in pids]

    async def served(frames, h, c):
        return await handle.infer.remote((frames, h, c))

    # The same request both ways: the same answer.
    frame = np.full((1, 128), 0.5, np.float32)
    h0 = np.zeros((1, 1, 128), np.float32)
    a = await actors(frame, h0, h0)
    b = await served(frame, h0, h0)
    out["max_abs_diff"] = float(max(np.abs(x - y).max() for x, y in zip(a, b, strict=True)))

    cpu0 = sum(controller[0].cpu_times()[:2]) if controller else 0.0
    t0 = time.monotonic()
    n = 200 if args.quick else 1000
    await rtt(actors, 20)
    await rtt(served, 20)  # warm both
    out["actors_rtt_p50_ms"], out["actors_rtt_p99_ms"] = await rtt(actors, n)
    out["serve_rtt_p50_ms"], out["serve_rtt_p99_ms"] = await rtt(served, n)
    for streams in STREAMS:
        out[f"actors_fps_{streams}"] = round(await fps(actors, streams, seconds))
        out[f"serve_fps_{streams}"] = round(await fps(served, streams, seconds))
    out["actors_batch_mean"] = max(
        [(await r.stats.remote())["batch_mean"] for r in replicas], default=0
    )
    if controller:
        used = sum(controller[0].cpu_times()[:2]) - cpu0
        out["serve_controller_cpu_pct"] = round(100 * used / (time.monotonic() - t0), 1)
    out["serve_replica_rss_mb"] = rss_mb(replica_procs)
    out["serve_driver_rss_mb"] = round(
        (psutil.Process().memory_info().rss - driver_before) / 2**20, 1
    )
    out["serve_rtt_p50_ratio"] = round(out["serve_rtt_p50_ms"] / out["actors_rtt_p50_ms"], 2)
    for streams in STREAMS:
        ratio = out[f"serve_fps_{streams}"] / max(1, out[f"actors_fps_{streams}"])
        out[f"serve_fps_{streams}_ratio"] = round(ratio, 2)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--seconds", type=float)
    args = p.parse_args()
    try:
        from ray import serve
    except ImportError:
        sys.exit("this benchmark needs Ray Serve: pip install 'kelly-actors[cluster-serve]'")
    out: dict[str, object] = {
        "quick": args.quick, "replicas": REPLICAS, "cpus_per_replica": CPUS,
        "max_batch": MAX_BATCH, "batch_wait_ms": WAIT_S * 1000, "proxy": "Disabled",
        "load_1min": round(os.getloadavg()[0], 2),
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="kelly-serve-bench-") as tmp_name:
        t0 = time.monotonic()
        cluster = LocalCluster(Path(tmp_name) / "ray", nodes=2, cpus=1)
        try:
            out["cluster_start_s"] = round(time.monotonic() - t0, 1)
            ray = deploy.connect(
                ClusterConfig(address=cluster.address, node_ip="127.0.0.1", namespace="bench")
            )
            try:
                asyncio.run(measure(ray, serve, cluster, args, out))
            finally:
                ray.shutdown()
        finally:
            left = cluster.stop()
            if left:
                raise RuntimeError(f"Ray processes left behind: {left}")
    out["load_1min_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
