"""Rings between real processes: stress, SIGKILLed writers, attachers that exit."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import ring_workers
from performance import env_with_support, wait_until

from kelly_actors.bus.namespace import RunNamespace
from kelly_actors.bus.ring import Ring, RingReader, RingSpec, RingWriter
from kelly_actors.bus.shm import SHM_DIR

MP = multiprocessing.get_context("spawn")


@pytest.fixture
def ring():
    ns = RunNamespace.create()
    name = ns.segment_name("stress")
    owner = Ring.create(name, RingSpec("stress", ring_workers.SHAPE, "float32", 64, policy="drop"))
    yield name, owner
    owner.close()
    ns.release()


def _reap(proc) -> None:
    if proc.is_alive():
        proc.kill()
    proc.join(10)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_million_blocks_cross_processes_without_loss_duplication_reordering_or_corruption(ring):
    name, owner = ring
    count = 1_000_000
    parent_conn, child_conn = MP.Pipe(duplex=False)
    reader = MP.Process(target=ring_workers.run_reader, args=(name, count, child_conn))
    writer = MP.Process(target=ring_workers.run_writer, args=(name, count))
    reader.start()
    writer.start()
    try:
        assert parent_conn.poll(240), "reader did not finish"
        result = parent_conn.recv()
        writer.join(30)
        assert writer.exitcode == 0
    finally:
        _reap(writer)
        _reap(reader)
    assert result == {"received": count, "lost": 0, "duplicated": 0, "reordered": 0, "corrupt": 0}
    stats = owner.stats()
    assert stats.written == count
    assert stats.overruns == 0
    assert stats.torn == 0


def test_a_writer_killed_mid_block_never_makes_the_reader_accept_the_partial_block(ring):
    name, _ = ring
    mid_write = MP.Event()
    writer = MP.Process(target=ring_workers.write_then_hang_mid_block, args=(name, 5, mid_write))
    writer.start()
    try:
        assert mid_write.wait(30)
        os.kill(writer.pid, signal.SIGKILL)
        writer.join(10)
    finally:
        _reap(writer)
    reader = RingReader.attach(name, 0)
    block = np.empty(ring_workers.SHAPE, np.float32)
    seen = []
    while reader.read_into(block):
        seq, intact = ring_workers.check_block(block)
        assert intact
        seen.append(seq)
    assert seen == [0, 1, 2, 3, 4]
    # The replacement writer resumes at the published index and rewrites the slot whole.
    replacement = RingWriter.attach(name)
    assert replacement.index == 5
    ring_workers.fill_block(block, 5)
    assert replacement.write(block)
    assert reader.read_into(block)
    assert ring_workers.check_block(block) == (5, True)
    replacement.close()
    reader.close()


@pytest.mark.slow
def test_writers_killed_at_random_moments_lose_and_corrupt_nothing(ring):
    name, owner = ring
    # Each writer is killed a random moment after it has begun writing, not after it was
    # started: on a loaded machine a writer could spend its whole life starting up, and the
    # old 200k blocks took over 120 s (33 s idle). 100k blocks see 14 kills here.
    count = 100_000
    parent_conn, child_conn = MP.Pipe(duplex=False)
    reader = MP.Process(target=ring_workers.run_reader, args=(name, count, child_conn))
    reader.start()
    rng = np.random.default_rng(3)
    kills = 0
    try:
        while owner.stats().written < count:
            before = owner.stats().written
            writer = MP.Process(target=ring_workers.run_writer, args=(name, count))
            writer.start()
            wait_until(
                lambda: owner.stats().written > before or not writer.is_alive(),  # noqa: B023
                30,
                "the new writer writing",
            )
            time.sleep(float(rng.uniform(0.02, 0.2)))  # a random moment, not a wait for a condition
            if writer.is_alive():
                os.kill(writer.pid, signal.SIGKILL)
                kills += 1
            writer.join(10)
        assert parent_conn.poll(120), "reader did not finish"
        result = parent_conn.recv()
    finally:
        _reap(reader)
    assert kills >= 3, kills
    assert result == {"received": count, "lost": 0, "duplicated": 0, "reordered": 0, "corrupt": 0}


def test_a_process_that_attaches_and_exits_leaves_the_segment_intact_and_says_nothing(ring):
    name, owner = ring
    writer = RingWriter.attach(name)
    block = np.empty(ring_workers.SHAPE, np.float32)
    code = (
        "import sys, numpy as np, os\n"
        "from kelly_actors.bus.ring import RingReader, RingWriter\n"
        f"r = RingReader.attach({name!r}, 0)\n"
        "b = np.empty((256, 2), np.float32)\n"
        "assert r.read_into(b)\n"
        f"w = RingWriter.attach({name!r})\n"
        "os._exit(0) if sys.argv[1] == 'abrupt' else None\n"
    )
    for seq, how in enumerate(("clean", "abrupt")):
        ring_workers.fill_block(block, seq)
        writer.write(block)
        done = subprocess.run(
            [sys.executable, "-W", "error", "-c", code, how],
            env=env_with_support(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        assert (SHM_DIR / name).exists()
    # Still usable: the reader position the child advanced is kept.
    assert owner.stats().written == 2
    reader = RingReader.attach(name, 0)
    assert reader.available() == 0
    reader.close()
    writer.close()
