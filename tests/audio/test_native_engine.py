"""The compiled block and the Python one do the same on the same ring contents."""

from __future__ import annotations

import select
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_actors.audio.engine import AudioEngine
from kelly_actors.audio.native.engine import NativeEngine
from kelly_actors.bus.clock import MusicalClock
from kelly_actors.bus.namespace import RunNamespace
from kelly_actors.bus.ring import Ring, RingReader, RingSpec, RingWriter
from kelly_actors.bus.ring_layout import _HEADER_BYTES
from kelly_actors.bus.transport import Transport

BLOCK = 64
CAPACITY = 8


@dataclass
class Graph:
    """Rings, transport and an engine of one kind, plus the synth's and features' ends."""

    ns: RunNamespace
    owners: list[Ring]
    transport: Transport
    synths: list[RingWriter]
    features: RingReader
    engine: AudioEngine | NativeEngine

    def close(self) -> None:
        engine = self.engine
        if isinstance(engine, NativeEngine):
            engine.close()
        ends = [engine.in_writer, engine.out_reader, engine.standby_reader, self.features]
        for ring in (*ends, *self.synths, *self.owners):
            ring.close()
        self.transport.close()
        self.ns.release()


def _graph(kind: type, preroll: bool = False, inputs: int = 1) -> Graph:
    """An engine of ``kind`` on ``audio_in`` (``inputs`` columns), ``audio_out`` and a
    standby's ring."""
    ns = RunNamespace.create()
    outs = [ns.segment_name("out"), ns.segment_name("outb")]
    in_name = ns.segment_name("inp")
    owners = [
        *(
            Ring.create(name, RingSpec("out", (BLOCK, 2), capacity=CAPACITY, policy="drop"))
            for name in outs
        ),
        Ring.create(in_name, RingSpec("inp", (BLOCK, inputs), capacity=CAPACITY)),
    ]
    transport = Transport.create(ns.segment_name("transport"))
    engine = kind(
        MusicalClock(48_000, BLOCK),
        transport,
        RingWriter.attach(in_name),
        RingReader.attach(outs[0], 0),
        BLOCK,
        record_output=True,
        record_input=True,
        standby_reader=RingReader.attach(outs[1], 0),
        preroll=preroll,
    )
    synths = [RingWriter.attach(name) for name in outs]
    return Graph(ns, owners, transport, synths, RingReader.attach(in_name, 0), engine)


@pytest.fixture
def twins() -> Iterator[tuple[Graph, Graph]]:
    pair = (_graph(AudioEngine), _graph(NativeEngine))
    yield pair
    for graph in pair:
        graph.close()


def _tear_last_slot(writer: RingWriter) -> None:
    """Leave the newest slot's seqlock word odd, as a writer killed mid-copy does."""
    i = writer.index - 1
    base = _HEADER_BYTES // 8 + (i % writer.spec.capacity) * (writer.spec.stride // 8)
    writer._q[base] = 2 * i + 1


def _synth_acts(graph: Graph, action: str, value: float, which: int = 0) -> None:
    """What synth ``which`` does before a callback (the same on both twins)."""
    synth = graph.synths[which]
    sample = graph.engine.sample
    block = np.full((BLOCK, 2), value, np.float32)
    block[:, 1] *= -0.5
    if action == "on_time":
        synth.write(block, sample)
    elif action == "ahead":
        synth.write(block, sample)
        synth.write(block * 0.5, sample + BLOCK)
    elif action == "late":
        synth.write(block, sample - BLOCK)
        synth.write(block, sample)
    elif action == "torn":
        synth.write(block, sample)
        _tear_last_slot(synth)
    elif action == "flood":
        for k in range(CAPACITY + 2):
            synth.write(block, sample + k * BLOCK)


ACTIONS = st.sampled_from(["on_time", "ahead", "late", "torn", "flood", "nothing"])
STEP = st.tuples(
    ACTIONS,
    st.floats(-1.0, 1.0, width=32),
    ACTIONS,  # the standby's action
    st.booleans(),  # the standby renders the same block (else a diverged one)
    st.booleans(),  # input present
    st.one_of(st.none(), st.tuples(st.integers(0, 4000), st.floats(10, 450), st.integers(0, 5))),
)


@settings(max_examples=40, deadline=None)
@given(steps=st.lists(STEP, min_size=1, max_size=40), preroll=st.booleans())
def test_the_compiled_block_plays_counts_and_clocks_exactly_as_the_python_one(
    steps, preroll
) -> None:
    python, native = pair = (_graph(AudioEngine, preroll), _graph(NativeEngine, preroll))
    try:
        outs = [np.zeros((BLOCK, 2), np.float32) for _ in pair]
        for action, value, standby_action, same, with_input, tempo in steps:
            indata = np.full((BLOCK, 1), value * 0.25, np.float32) if with_input else None
            for graph, out in zip(pair, outs, strict=True):
                _synth_acts(graph, action, value)
                _synth_acts(graph, standby_action, value if same else value + 0.125, 1)
                if tempo is not None:
                    start, bpm, bpb = tempo
                    graph.engine.request_tempo(start, bpm, start / 1000.0, bpb)
                graph.engine.process(indata, out, False)
            np.testing.assert_array_equal(outs[0], outs[1])
            assert python.transport.read() == native.transport.read()
            assert python.engine.underruns == native.engine.underruns
            assert python.engine.late_blocks == native.engine.late_blocks
            assert python.engine.callbacks == native.engine.callbacks
            assert python.engine.active == native.engine.active
            assert python.engine.trusted == native.engine.trusted
            assert python.engine.diverged == native.engine.diverged
            assert python.engine.switches == native.engine.switches
            assert python.engine.prerolling == native.engine.prerolling
        for a, b in zip(python.owners, native.owners, strict=True):
            sa, sb = a.stats().as_dict(), b.stats().as_dict()
            for key in ("used", "overruns", "underruns", "written", "torn"):
                assert sa[key] == sb[key], key
        for what in ("out_record", "in_record"):
            got_a = getattr(python.engine, what).pop_all()
            got_b = getattr(native.engine, what).pop_all()
            np.testing.assert_array_equal(got_a, got_b)
        frame_a, frame_b = np.zeros((BLOCK, 1), np.float32), np.zeros((BLOCK, 1), np.float32)
        while python.features.read_into(frame_a):
            assert native.features.read_into(frame_b)
            np.testing.assert_array_equal(frame_a, frame_b)
            assert python.features.last_sample_time == native.features.last_sample_time
        assert not native.features.read_into(frame_b)
    finally:
        for graph in pair:
            graph.close()


def test_an_ensembles_inputs_reach_audio_in_and_the_recording_column_by_column_in_both() -> None:
    pair = (_graph(AudioEngine, inputs=3), _graph(NativeEngine, inputs=3))
    rng = np.random.default_rng(3)
    blocks = [rng.standard_normal((BLOCK, 3)).astype(np.float32) for _ in range(3)]
    blocks += [blocks[0][:, :2].copy(), None]  # a device giving two channels; none at all
    try:
        out = np.zeros((BLOCK, 2), np.float32)
        for indata in blocks:
            for graph in pair:
                graph.engine.process(indata, out, False)
        got = []
        for graph in pair:
            frames, frame = [], np.zeros((BLOCK, 3), np.float32)
            while graph.features.read_into(frame):
                frames.append(frame.copy())
            got.append(np.stack(frames))
            np.testing.assert_array_equal(graph.engine.in_record.pop_all(), np.concatenate(got[-1]))
        np.testing.assert_array_equal(got[0], got[1])
        assert got[0].shape == (5, BLOCK, 3)
        np.testing.assert_array_equal(got[0][1], blocks[1])
        np.testing.assert_array_equal(got[0][3][:, :2], blocks[0][:, :2])
        assert not got[0][3][:, 2].any() and not got[0][4].any()
    finally:
        for graph in pair:
            graph.close()


def test_the_compiled_block_holds_and_fades_then_fades_back_in(twins) -> None:
    _, native = twins
    out = np.zeros((BLOCK, 2), np.float32)
    _synth_acts(native, "on_time", 0.5)
    native.engine.process(None, out, False)
    assert out[-1, 0] == pytest.approx(0.5)
    native.engine.process(None, out, False)  # nothing written: the fallback
    assert native.engine.underruns == 1
    assert out[0, 0] == pytest.approx(0.5) and out[-1, 0] == 0.0
    assert np.all(np.diff(out[:, 0]) <= 0)
    _synth_acts(native, "on_time", 0.5)
    native.engine.process(None, out, False)
    assert out[0, 0] == 0.0 and out[-1, 0] == pytest.approx(0.5)


def test_a_full_tempo_queue_refuses_instead_of_overwriting(twins) -> None:
    _, native = twins
    accepted = [native.engine.request_tempo(k * 100, 100.0, 0.0, 4) for k in range(20)]
    assert accepted == [True] * 16 + [False] * 4
    native.engine.process(None, np.zeros((BLOCK, 2), np.float32), False)
    assert native.engine.request_tempo(5000, 90.0, 0.0, 4)


def test_deferred_doorbells_wake_a_waiting_reader_from_the_bell_thread(twins) -> None:
    _, native = twins
    native.engine.defer_bells()
    assert not native.features.arm()  # nothing yet: the reader says it waits
    poller = select.poll()
    poller.register(native.features.fileno(), select.POLLIN)
    native.engine.process(np.ones((BLOCK, 1), np.float32), np.zeros((BLOCK, 2), np.float32), False)
    assert poller.poll(5000), "the bell thread never rang"
    native.features.disarm()
    assert native.features.available() == 1
