"""``RingReader.retained``: frames a reader already took, read again while the ring holds them."""

from __future__ import annotations

import numpy as np
import pytest

from kelly_actors.bus.namespace import RunNamespace
from kelly_actors.bus.ring import Ring, RingReader, RingSpec, RingWriter
from kelly_actors.bus.ring_layout import _HEADER_BYTES

CAPACITY = 8


@pytest.fixture
def ring():
    """A ``drop`` ring of CAPACITY int64[3] frames: (name, owner, writer, reader)."""
    ns = RunNamespace.create()
    name = ns.segment_name("retained")
    owner = Ring.create(name, RingSpec("retained", (3,), "int64", CAPACITY, policy="drop"))
    writer = RingWriter.attach(name)
    reader = RingReader.attach(name)
    yield name, owner, writer, reader
    reader.close()
    writer.close()
    owner.close()
    ns.release()


def _write(writer: RingWriter, values: range) -> None:
    for v in values:
        assert writer.write(np.full(3, v, np.int64), sample_time=1000 + v)


def _read(reader: RingReader, count: int) -> None:
    out = np.zeros(3, np.int64)
    for _ in range(count):
        assert reader.read_into(out)


def test_a_fresh_reader_has_nothing_retained(ring) -> None:
    _, _, writer, reader = ring
    _write(writer, range(3))
    frames, indices, times = reader.retained(CAPACITY)
    assert frames.shape == (0, 3) and indices.size == 0 and times.size == 0


def test_consumed_frames_come_back_oldest_first_with_indices_and_sample_times(ring) -> None:
    _, _, writer, reader = ring
    _write(writer, range(5))
    _read(reader, 4)
    frames, indices, times = reader.retained(CAPACITY)
    assert indices.tolist() == [0, 1, 2, 3]
    assert times.tolist() == [1000, 1001, 1002, 1003]
    assert frames[:, 0].tolist() == [0, 1, 2, 3] and frames.dtype == np.int64
    # A read-only look: the unread frame is still next, and no counter moved.
    before = reader.stats()
    out = np.zeros(3, np.int64)
    assert reader.read_into(out) and out[0] == 4
    assert reader.stats().overruns == before.overruns and reader.stats().torn == before.torn


def test_max_frames_keeps_the_newest_and_out_is_filled_in_place(ring) -> None:
    _, _, writer, reader = ring
    _write(writer, range(6))
    _read(reader, 6)
    buf = np.full((2, 3), -1, np.int64)
    frames, indices, _ = reader.retained(2, out=buf)
    assert indices.tolist() == [4, 5]
    assert np.shares_memory(frames, buf) and buf[:, 0].tolist() == [4, 5]
    with pytest.raises(ValueError):
        reader.retained(3, out=buf)


def test_a_restarted_reader_sees_what_its_predecessor_took(ring) -> None:
    name, _, writer, reader = ring
    _write(writer, range(5))
    _read(reader, 3)
    successor = RingReader.attach(name)  # same slot: resumes at the shared read index
    try:
        _, indices, _ = successor.retained(CAPACITY)
        assert indices.tolist() == [0, 1, 2]
    finally:
        successor.close()


def test_slots_the_writer_lapped_are_skipped(ring) -> None:
    _, _, writer, reader = ring
    # 20 frames through a ring of 8: the reader keeps up, so the writer reuses slots.
    for v in range(20):
        _write(writer, range(v, v + 1))
        _read(reader, 1)
    _, indices, times = reader.retained(100)
    assert indices.tolist() == list(range(12, 20))  # only the last CAPACITY survive
    assert times.tolist() == [1000 + i for i in range(12, 20)]
    # Two more writes overwrite the slots of 12 and 13.
    _write(writer, range(20, 22))
    _, indices, _ = reader.retained(100)
    assert indices.tolist() == list(range(14, 20))


def test_an_overwrite_ring_that_lapped_its_reader_keeps_only_intact_past_frames() -> None:
    ns = RunNamespace.create()
    name = ns.segment_name("lapped")
    owner = Ring.create(name, RingSpec("lapped", (3,), "int64", CAPACITY, policy="overwrite"))
    writer, reader = RingWriter.attach(name), RingReader.attach(name)
    try:
        _write(writer, range(4))
        _read(reader, 4)
        _write(writer, range(4, 10))  # frames 8 and 9 reuse the slots of 0 and 1
        _, indices, _ = reader.retained(CAPACITY)
        assert indices.tolist() == [2, 3]
    finally:
        reader.close()
        writer.close()
        owner.close()
        ns.release()


def test_a_torn_slot_is_never_returned(ring) -> None:
    _, owner, writer, reader = ring
    _write(writer, range(5))
    _read(reader, 5)
    # A writer killed mid-write leaves the slot's seqlock word odd (2i+1): fake that on slot 2.
    words = np.frombuffer(owner.segment.buf, np.int64)
    stride_words = owner.spec.stride // 8
    seq_word = _HEADER_BYTES // 8 + 2 * stride_words
    words[seq_word] = 2 * 2 + 1
    try:
        frames, indices, _ = reader.retained(CAPACITY)
        assert indices.tolist() == [0, 1, 3, 4]
        assert frames[:, 0].tolist() == [0, 1, 3, 4]
    finally:
        words[seq_word] = 2 * 2 + 2
        del words
