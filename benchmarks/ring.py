"""Ring vs ZeroMQ PUSH/PULL (ipc) vs multiprocessing.Queue between two processes.

2 KiB blocks (256 frames × 2 channels float32). Throughput: blocks per second
from "go" until the reader has the last block, the median of 3 interleaved
rounds. Wake-up latency: a writer that publishes one time-stamped block every
~1 ms to a reader blocked waiting;
latency = reader wake time − publish time (both CLOCK_MONOTONIC).

    python benchmarks/ring.py [--quick]

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import zmq

from kelly_actors.bus.namespace import RunNamespace
from kelly_actors.bus.ring import Ring, RingReader, RingSpec, RingWriter

SHAPE = (256, 2)
CTX = mp.get_context("spawn")
ROUNDS = 3


# ---------------------------------------------------------------- transports
class RingEnds:
    def __init__(self, segment: str) -> None:
        self.segment = segment

    def writer(self):
        w = RingWriter.attach(self.segment)

        def send(block: np.ndarray) -> None:
            # A full ring refuses the write; wait for the reader, then retry.
            while not w.write(block):
                w.wait_free(1.0)

        return send

    def reader(self):
        r = RingReader.attach(self.segment, 0)
        out = np.empty(SHAPE, np.float32)

        def recv() -> np.ndarray:
            while not r.read_into(out):
                r.wait(1.0)
            return out

        return recv


class ZmqEnds:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def writer(self):
        sock = zmq.Context.instance().socket(zmq.PUSH)
        sock.setsockopt(zmq.LINGER, -1)
        sock.connect(self.endpoint)
        return lambda block: sock.send(block, copy=True)

    def reader(self):
        sock = zmq.Context.instance().socket(zmq.PULL)
        sock.bind(self.endpoint)

        def recv() -> np.ndarray:
            return np.frombuffer(sock.recv(), np.float32).reshape(SHAPE)

        return recv


class QueueEnds:
    def __init__(self, q) -> None:
        self.q = q

    def writer(self):
        return self.q.put

    def reader(self):
        return self.q.get


# ------------------------------------------------------------------- workers
def throughput_writer(ends, count: int, ready, go) -> None:
    send = ends.writer()
    block = np.zeros(SHAPE, np.float32)
    ready.set()
    go.wait()
    for i in range(count):
        block[0, 0] = i
        send(block)
    time.sleep(0.5)  # let ZeroMQ flush before the socket goes


def throughput_reader(ends, count: int, ready, conn) -> None:
    recv = ends.reader()
    ready.set()
    for _ in range(count):
        recv()
    conn.send(time.perf_counter())


def latency_writer(ends, count: int, ready, go) -> None:
    send = ends.writer()
    block = np.zeros(SHAPE, np.float32)
    stamp = block.reshape(-1).view(np.float64)
    rng = random.Random(1)
    ready.set()
    go.wait()
    for _ in range(count):
        time.sleep(0.0008 + rng.random() * 0.0004)  # the reader is asleep again by now
        stamp[0] = time.perf_counter()
        send(block)
    time.sleep(0.5)


def latency_reader(ends, count: int, ready, conn) -> None:
    recv = ends.reader()
    ready.set()
    lat = []
    for _ in range(count):
        block = recv()
        now = time.perf_counter()
        lat.append(now - float(np.asarray(block).reshape(-1).view(np.float64)[0]))
    conn.send(lat)


def run_pair(ends, writer_fn, reader_fn, count: int):
    parent, child = CTX.Pipe(duplex=False)
    r_ready, w_ready, go = CTX.Event(), CTX.Event(), CTX.Event()
    reader = CTX.Process(target=reader_fn, args=(ends, count, r_ready, child))
    reader.start()
    r_ready.wait(60)
    writer = CTX.Process(target=writer_fn, args=(ends, count, w_ready, go))
    writer.start()
    w_ready.wait(60)
    time.sleep(0.2)  # ZeroMQ connects asynchronously
    t0 = time.perf_counter()
    go.set()
    result = parent.recv()
    writer.join(30)
    reader.join(30)
    return t0, result


def throughput(make_ends, count: int) -> float:
    t0, t_end = run_pair(make_ends(), throughput_writer, throughput_reader, count)
    return count / (t_end - t0)


def wake_latency(name: str, make_ends, lat_count: int) -> dict[str, float]:
    _, lat = run_pair(make_ends(), latency_writer, latency_reader, lat_count)
    lat_us = np.array(lat) * 1e6
    return {
        f"{name}_wake_p50_us": round(float(np.percentile(lat_us, 50)), 1),
        f"{name}_wake_p99_us": round(float(np.percentile(lat_us, 99)), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer blocks (under a minute)")
    args = parser.parse_args()
    count = 100_000 if args.quick else 1_000_000
    q_count = count // 5
    lat_count = 500 if args.quick else 3000

    ns = RunNamespace.create()
    tmp = Path(tempfile.mkdtemp(prefix="kb-", dir="/tmp"))
    rings: list[Ring] = []
    try:

        def ring_ends() -> RingEnds:
            n = len(rings)
            name = ns.segment_name(f"bench{n}")
            rings.append(
                Ring.create(name, RingSpec(f"bench{n}", SHAPE, "float32", 256, policy="drop"))
            )
            return RingEnds(name)

        counter = iter(range(100))
        transports = {
            "ring": (ring_ends, count),
            "zmq": (lambda: ZmqEnds(f"ipc://{tmp}/z{next(counter)}"), count),
            "mpqueue": (lambda: QueueEnds(CTX.Queue(1024)), q_count),
        }
        # The machine is shared: rounds interleave the transports so a noisy
        # moment hits all of them, and each figure is the median of its rounds.
        rates: dict[str, list[float]] = {name: [] for name in transports}
        for _ in range(ROUNDS):
            for name, (make, n) in transports.items():
                rates[name].append(throughput(make, n))
        figures: dict[str, float] = {
            f"{name}_blocks_per_s": round(float(np.median(r))) for name, r in rates.items()
        }
        for name, (make, _) in transports.items():
            figures |= wake_latency(name, make, lat_count)
    finally:
        for r in rings:
            r.close()
        ns.release()
        for p in tmp.iterdir():
            p.unlink()
        tmp.rmdir()
    figures["ratio_vs_zmq"] = round(figures["ring_blocks_per_s"] / figures["zmq_blocks_per_s"], 2)
    figures["ratio_vs_mpqueue"] = round(
        figures["ring_blocks_per_s"] / figures["mpqueue_blocks_per_s"], 2
    )
    figures["wake_p99_ratio_vs_zmq"] = round(
        figures["ring_wake_p99_us"] / figures["zmq_wake_p99_us"], 2
    )
    figures["blocks"] = count
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
