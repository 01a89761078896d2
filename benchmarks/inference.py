"""Emotion inference cost: per-frame latency, onnxruntime vs torch, worker throughput, remote.

* ``ort_p50_ms``/``ort_p99_ms``: one streaming frame (T = B = 1, state in and out) through
  onnxruntime (1 thread) — the shipped ``models/emotion.onnx``'s architecture, with weights
  of a seeded fresh :class:`training.emotion.model.EmotionNet` exported in this run, so torch
  eager (``torch_p*_ms``, 1 thread, ``no_grad``) runs the very same model. ``ratio_vs_torch``
  = torch p50 / onnxruntime p50. ``shipped_ort_p99_ms``: the shipped file itself.
* ``workers_1_fps``/``workers_2_fps``: frames per second through a
  :class:`~kelly_actors.inference.pool.WorkerPool` with 1 and 2 local worker processes,
  8 independent streams, one frame per request (the pool's worst case: every frame a round
  trip). On a 2-core machine shared with other work the 2-worker gain is bounded.
* ``remote_overhead_p99_ms``: p99 round trip of one request through a worker over loopback
  TCP with CurveZMQ minus the same through a local ipc worker, same run.

Usage: ``python benchmarks/inference.py [--quick]``; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import zmq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kelly_actors.bus import curve  # noqa: E402
from kelly_actors.inference.config import PoolConfig  # noqa: E402
from kelly_actors.inference.model import EmotionModel, load_model  # noqa: E402
from kelly_actors.inference.pool import WorkerPool  # noqa: E402
from training.emotion.export import model_bytes  # noqa: E402
from training.emotion.model import EmotionNet  # noqa: E402


def percentiles(samples_s: list[float]) -> tuple[float, float]:
    ms = np.array(samples_s) * 1000
    return round(float(np.percentile(ms, 50)), 4), round(float(np.percentile(ms, 99)), 4)


def frames(n: int) -> np.ndarray:
    return (np.random.default_rng(0).standard_normal((n, 1, 1, 128)) * 10).astype(np.float32)


def ort_latency(model: EmotionModel, x: np.ndarray) -> list[float]:
    h = c = np.zeros((1, 1, 128), np.float32)
    times = []
    for f in x:
        t = time.perf_counter()
        _, h, c = model.run(f, h, c)
        times.append(time.perf_counter() - t)
    return times[len(times) // 10 :]  # the first tenth warms up


def torch_latency(net: EmotionNet, x: np.ndarray) -> list[float]:
    h, c = EmotionNet.zero_state(1)
    times = []
    with torch.no_grad():
        for f in torch.from_numpy(x):
            t = time.perf_counter()
            _, _, h, c = net(f, h, c)
            times.append(time.perf_counter() - t)
    return times[len(times) // 10 :]


def _wait_ready(pool: WorkerPool, n: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while pool.ready_workers() < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{n} workers were not ready within {timeout} s")
        pool.poll(time.monotonic())
        zmq.select([s for s in pool.sockets], [], [], 0.01)


def _pump(pool: WorkerPool) -> list:
    zmq.select(pool.sockets, [], [], 0.001)
    return pool.poll(time.monotonic())


def throughput(model: EmotionModel, workers: int, seconds: float, tmp: Path) -> float:
    pool = WorkerPool(
        PoolConfig(workers=workers), tmp / f"bench-{workers}.sock", lambda *a, **k: None
    )
    try:
        pool.set_model(model.version, model.data)
        _wait_ready(pool, workers)
        streams = 8
        x = frames(1)[0, 0]
        h = np.zeros((1, 1, 128), np.float32)
        done, end = 0, time.monotonic() + seconds
        for s in range(streams):
            pool.submit(s, x, h, h, end + 10)
        pool.dispatch(time.monotonic())
        start = time.monotonic()
        while time.monotonic() < end:
            for result in _pump(pool):
                done += 1
                pool.submit(result.request.stream, x, result.h, result.c, end + 10)
            pool.dispatch(time.monotonic())
        return done / (time.monotonic() - start)
    finally:
        pool.close()


def round_trips(pool: WorkerPool, n: int) -> list[float]:
    x = frames(1)[0, 0]
    h = np.zeros((1, 1, 128), np.float32)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        pool.submit(0, x, h, h, time.monotonic() + 10)
        pool.dispatch(time.monotonic())
        while not (results := _pump(pool)):
            pass
        h = results[0].h
        times.append(time.perf_counter() - t)
    return times[n // 10 :]


def remote_overhead(model: EmotionModel, n: int, tmp: Path) -> tuple[float, float]:
    local = WorkerPool(PoolConfig(workers=1), tmp / "rt-local.sock", lambda *a, **k: None)
    try:
        local.set_model(model.version, model.data)
        _wait_ready(local, 1)
        _, local_p99 = percentiles(round_trips(local, n))
    finally:
        local.close()
    keys = tmp / "keys"
    curve.generate(keys)
    cfg = PoolConfig(workers=0, tcp="tcp://127.0.0.1:*", keys=str(keys))
    remote = WorkerPool(cfg, tmp / "rt-remote.sock", lambda *a, **k: None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "kelly_actors.inference.worker", "--connect",
         remote.tcp_endpoint, "--keys", str(keys)], cwd=REPO,
    )  # fmt: skip
    try:
        remote.set_model(model.version, model.data)
        _wait_ready(remote, 1)
        _, remote_p99 = percentiles(round_trips(remote, n))
    finally:
        worker.terminate()
        worker.wait(10)
        remote.close()
    return local_p99, remote_p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short run (well under a minute)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    n = 1000 if args.quick else 5000
    seconds = 2.0 if args.quick else 8.0
    torch.manual_seed(0)
    net = EmotionNet(torch.randn(128) * 10, torch.rand(128) * 5 + 0.5).eval()
    model = EmotionModel(model_bytes(net, "bench", 1), source="bench")
    x = frames(n)
    ort_p50, ort_p99 = percentiles(ort_latency(model, x))
    torch_p50, torch_p99 = percentiles(torch_latency(net, x))
    shipped = REPO / "models" / "emotion.onnx"
    shipped_p99 = percentiles(ort_latency(load_model(shipped), x))[1] if shipped.exists() else None
    with tempfile.TemporaryDirectory(prefix="kb-", dir="/tmp") as tmp:
        w1 = throughput(model, 1, seconds, Path(tmp))
        w2 = throughput(model, 2, seconds, Path(tmp))
        local_p99, remote_p99 = remote_overhead(model, n // 2, Path(tmp))
    result = {
        "benchmark": "inference",
        "frames": n,
        "ort_p50_ms": ort_p50,
        "ort_p99_ms": ort_p99,
        "torch_p50_ms": torch_p50,
        "torch_p99_ms": torch_p99,
        "ratio_vs_torch": round(torch_p50 / ort_p50, 2),
        "shipped_ort_p99_ms": shipped_p99,
        "target_p99_ms": 0.2,
        "workers_1_fps": round(w1, 1),
        "workers_2_fps": round(w2, 1),
        "workers_speedup": round(w2 / w1, 2),
        "local_ipc_round_trip_p99_ms": local_p99,
        "remote_round_trip_p99_ms": remote_p99,
        "remote_overhead_p99_ms": round(remote_p99 - local_p99, 4),
        "quick": args.quick,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
