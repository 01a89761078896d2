"""The ring behaves like a bounded deque per reader (model-based, hypothesis)."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kelly_actors.bus.namespace import RunNamespace
from kelly_actors.bus.ring import Ring, RingError, RingReader, RingSpec, RingWriter

CAPACITY = 5


class RingAgainstDeque(RuleBasedStateMachine):
    """Two readers on a ``drop`` ring, and the same on deques of ``CAPACITY``."""

    def __init__(self) -> None:
        super().__init__()
        self.ns = RunNamespace.create()
        self.name = self.ns.segment_name("model")
        spec = RingSpec("model", (3,), "int64", CAPACITY, readers=2, policy="drop")
        self.owner = Ring.create(self.name, spec)
        self.writer = RingWriter.attach(self.name)
        self.readers = [RingReader.attach(self.name, k) for k in range(2)]
        self.models: list[deque[int]] = [deque(), deque()]
        self.next_value = 0
        self.drops = 0
        self.underruns = 0
        self.out = np.zeros(3, np.int64)

    @rule()
    def write(self) -> None:
        value = self.next_value
        full = any(len(m) >= CAPACITY for m in self.models)
        accepted = self.writer.write(np.full(3, value, np.int64), sample_time=value * 10)
        assert accepted == (not full)
        if accepted:
            for m in self.models:
                m.append(value)
            self.next_value += 1
        else:
            self.drops += 1

    @rule(k=st.integers(0, 1))
    def read(self, k: int) -> None:
        got = self.readers[k].read_into(self.out)
        model = self.models[k]
        if not model:
            assert not got
            self.underruns += 1
            return
        expected = model.popleft()
        assert got
        assert self.out.tolist() == [expected] * 3
        assert self.readers[k].last_sample_time == expected * 10

    @rule(k=st.integers(0, 1))
    def reattach_reader(self, k: int) -> None:
        """A restarted reader resumes exactly where the old one stopped."""
        self.readers[k].close()
        self.readers[k] = RingReader.attach(self.name, k)

    @rule()
    def reattach_writer(self) -> None:
        self.writer.close()
        self.writer = RingWriter.attach(self.name)

    @invariant()
    def counters_match(self) -> None:
        stats = self.owner.stats()
        assert stats.overruns == self.drops
        assert stats.underruns == self.underruns
        assert stats.used == max(len(m) for m in self.models)
        assert stats.peak_used <= CAPACITY
        for k in range(2):
            # available() is a cheap lower bound that is never 0 while frames wait.
            available = self.readers[k].available()
            assert (available > 0) == bool(self.models[k])
            assert available <= len(self.models[k])

    def teardown(self) -> None:
        for r in self.readers:
            r.close()
        self.writer.close()
        self.owner.close()
        self.ns.release()


TestRingAgainstDeque = RingAgainstDeque.TestCase
TestRingAgainstDeque.settings = settings(max_examples=60, stateful_step_count=60, deadline=None)


def test_lapped_reader_of_an_overwrite_ring_skips_to_intact_frames_and_counts_overruns() -> None:
    ns = RunNamespace.create()
    try:
        name = ns.segment_name("lap")
        owner = Ring.create(name, RingSpec("lap", (1,), "int64", 4, policy="overwrite"))
        writer, reader = RingWriter.attach(name), RingReader.attach(name, 0)
        for v in range(10):
            assert writer.write(np.array([v]))
        out = np.zeros(1, np.int64)
        got = []
        while reader.read_into(out):
            got.append(int(out[0]))
        # Frames 7, 8, 9 are intact; 6's slot is the one the writer would reuse next.
        assert got == [7, 8, 9]
        assert owner.stats().overruns == 7
        for ring in (writer, reader, owner):
            ring.close()
    finally:
        ns.release()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shape": ()}, "shape"),
        ({"shape": (4,), "dtype": "nonsense"}, "dtype"),
        ({"shape": (4,), "capacity": 1}, "capacity"),
        ({"shape": (4,), "readers": 9}, "readers"),
        ({"shape": (4,), "policy": "block"}, "policy"),
    ],
)
def test_a_wrongly_declared_ring_is_refused_with_the_reason(kwargs: dict, message: str) -> None:
    with pytest.raises(RingError, match=message):
        RingSpec("bad", **kwargs)


def test_attaching_a_segment_that_is_not_a_ring_is_refused() -> None:
    from kelly_actors.bus.shm import Segment

    ns = RunNamespace.create()
    try:
        seg = Segment.create(ns.segment_name("junk"), 4096)
        with pytest.raises(RingError, match="not a ring"):
            RingReader.attach(ns.segment_name("junk"))
        seg.close()
    finally:
        ns.release()


def test_peeking_a_lapped_overwrite_ring_moves_to_the_oldest_intact_frame() -> None:
    ns = RunNamespace.create()
    try:
        name = ns.segment_name("peek")
        owner = Ring.create(name, RingSpec("peek", (1,), "int64", 4, policy="overwrite"))
        writer, reader = RingWriter.attach(name), RingReader.attach(name, 0)
        assert reader.peek_sample_time() is None
        for v in range(10):
            writer.write(np.array([v]), sample_time=100 + v)
        assert reader.peek_sample_time() == 107
        reader.skip()
        out = np.zeros(1, np.int64)
        assert reader.read_into(out) and out[0] == 8
        for ring in (writer, reader, owner):
            ring.close()
    finally:
        ns.release()


def test_free_counts_the_room_readers_made_since_the_writer_last_looked() -> None:
    ns = RunNamespace.create()
    try:
        name = ns.segment_name("room")
        owner = Ring.create(name, RingSpec("room", (1,), "int64", 8, policy="overwrite"))
        writer, reader = RingWriter.attach(name), RingReader.attach(name, 0)
        out = np.zeros(1, np.int64)
        for v in range(20):  # the reader keeps up, frame by frame
            assert writer.write(np.array([v]))
            assert reader.read_into(out) and int(out[0]) == v
        # The ring is empty: a writer needing most of it must be told so.
        assert writer.free() == 8
        for ring in (writer, reader, owner):
            ring.close()
    finally:
        ns.release()
