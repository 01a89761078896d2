"""The callback's work without a device: fallback, recovery, late blocks, the clock."""

from __future__ import annotations

import numpy as np
import pytest

from kelly_actors.audio.engine import AudioEngine, RecordBuffer
from kelly_actors.bus.clock import MusicalClock
from kelly_actors.bus.namespace import RunNamespace
from kelly_actors.bus.ring import Ring, RingReader, RingSpec, RingWriter
from kelly_actors.bus.transport import Transport

BLOCK = 64


@pytest.fixture
def graph():
    ns = RunNamespace.create()
    out = Ring.create(
        ns.segment_name("out"), RingSpec("out", (BLOCK, 2), capacity=8, policy="drop")
    )
    inp = Ring.create(ns.segment_name("inp"), RingSpec("inp", (BLOCK, 1), capacity=8))
    transport = Transport.create(ns.segment_name("transport"))
    synth = RingWriter.attach(ns.segment_name("out"))
    engine = AudioEngine(
        MusicalClock(48_000, BLOCK),
        transport,
        RingWriter.attach(ns.segment_name("inp")),
        RingReader.attach(ns.segment_name("out"), 0),
        BLOCK,
        record_output=True,
    )
    yield engine, synth, transport
    for ring in (engine.in_writer, engine.out_reader, synth, out, inp):
        ring.close()
    transport.close()
    ns.release()


def _block(value: float) -> np.ndarray:
    return np.full((BLOCK, 2), value, np.float32)


def test_a_block_for_this_moment_is_played_as_is(graph) -> None:
    engine, synth, _ = graph
    synth.write(_block(0.5), 0)
    out = np.zeros((BLOCK, 2), np.float32)
    engine.process(None, out, False)
    assert np.all(out == 0.5)
    assert engine.underruns == 0


def test_an_empty_ring_holds_the_last_sample_and_fades_it_without_a_step(graph) -> None:
    engine, synth, _ = graph
    out = np.zeros((BLOCK, 2), np.float32)
    synth.write(_block(0.5), 0)
    engine.process(None, out, False)
    engine.process(None, out, False)  # nothing rendered for sample 64
    assert engine.underruns == 1
    assert out[0, 0] == pytest.approx(0.5)
    assert out[-1, 0] == pytest.approx(0.0)
    assert np.max(np.abs(np.diff(out[:, 0]))) <= 0.5 / (BLOCK - 1) + 1e-6
    engine.process(None, out, False)
    assert np.all(out == 0.0)


def test_the_first_block_after_an_underrun_fades_in(graph) -> None:
    engine, synth, _ = graph
    out = np.zeros((BLOCK, 2), np.float32)
    engine.process(None, out, False)  # underrun at 0
    synth.write(_block(0.5), BLOCK)
    engine.process(None, out, False)
    assert out[0, 0] == 0.0
    assert out[-1, 0] == pytest.approx(0.5)
    assert np.all(np.diff(out[:, 0]) >= 0)


def test_blocks_rendered_for_a_moment_already_past_are_skipped_not_played(graph) -> None:
    engine, synth, _ = graph
    out = np.zeros((BLOCK, 2), np.float32)
    engine.process(None, out, False)
    engine.process(None, out, False)  # the clock is at 128 now
    synth.write(_block(0.1), 0)
    synth.write(_block(0.2), BLOCK)
    synth.write(_block(0.3), 2 * BLOCK)
    engine.process(None, out, False)
    assert engine.late_blocks == 2
    assert out[-1, 0] == pytest.approx(0.3)


def test_a_block_rendered_for_later_waits_for_its_moment(graph) -> None:
    engine, synth, _ = graph
    out = np.zeros((BLOCK, 2), np.float32)
    synth.write(_block(0.4), BLOCK)  # for the second callback
    engine.process(None, out, False)
    assert engine.underruns == 1
    engine.process(None, out, False)
    assert out[-1, 0] == pytest.approx(0.4)


def test_each_block_advances_the_transport_and_feeds_the_input_ring(graph) -> None:
    engine, _, transport = graph
    out = np.zeros((BLOCK, 2), np.float32)
    mic = np.full((BLOCK, 1), 0.25, np.float32)
    for _ in range(3):
        engine.process(mic, out, False)
    state = transport.read()
    assert state is not None and state.sample_counter == 3 * BLOCK
    assert engine.in_writer.index == 3
    assert engine.callback_stats()["callback_max_ms"] > 0


def test_tempo_requests_take_effect_at_their_sample() -> None:
    clock = MusicalClock(48_000, 480, tempo=120.0)
    clock.request(960, 60.0, 8.0, 4)
    clock.advance(480)
    assert clock.state().tempo == 120.0
    clock.advance(480)
    state = clock.state()
    assert state.tempo == 60.0 and state.beat == 8.0 and state.bar == 2
    clock.advance(48_000)
    assert clock.state().beat == pytest.approx(9.0)


def test_nonsense_tempo_requests_are_refused() -> None:
    clock = MusicalClock(48_000, 256)
    assert not clock.request(0, 0.0, 0.0, 4)
    assert not clock.request(0, 120.0, 0.0, 0)
    assert clock.pending == []


def test_the_record_buffer_returns_frames_in_order_across_the_wrap() -> None:
    buf = RecordBuffer(10, 1)
    for k in range(4):
        buf.push(np.full((3, 1), k, np.float32))
        if k == 1:
            assert buf.pop_all()[:, 0].tolist() == [0, 0, 0, 1, 1, 1]
    assert buf.pop_all()[:, 0].tolist() == [2, 2, 2, 3, 3, 3]
    buf.push(np.zeros((11, 1), np.float32))
    assert buf.dropped == 11
