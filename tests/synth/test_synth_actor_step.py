"""One step of the synth actor, in this process, on real rings and a real transport.

The case a starved machine makes: the audio callback drains the synth's ring as fast as the
synth renders, so there is always room for another block. A step must still return after a
look-ahead's worth of blocks (heartbeats and commands share the loop), and a note written
while it renders must be taken before the block it falls in (a note applied late makes this
synth differ from its warm standby twin, which was not starved).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from kelly_actors.bus import note_events as ne
from kelly_actors.bus.namespace import RunNamespace
from kelly_actors.bus.ring import Ring, RingReader, RingSpec, RingWriter
from kelly_actors.bus.transport import Transport, TransportState
from kelly_actors.synth import voices
from kelly_actors.synth.actor import SynthActor, SynthConfig

BLOCK = 256
LOOKAHEAD = 4
DRAINED = 3 * LOOKAHEAD


class DrainedWriter:
    """The synth's ``audio_out`` writer, with a callback that reads each of the first
    ``DRAINED`` blocks the moment it is published (the starved case: the ring does not fill)
    and calls ``on_publish``. Past those the ring fills, so a step that does not bound itself
    still ends (with too many blocks) instead of hanging the test."""

    def __init__(self, writer: RingWriter, callback: RingReader, on_publish) -> None:
        self._writer, self._callback, self._on_publish = writer, callback, on_publish
        self.starts: list[int] = []
        self.blocks: list[np.ndarray] = []
        self._block = np.zeros((BLOCK, 2), np.float32)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)

    def publish(self, sample_time: int = 0) -> None:
        self._writer.publish(sample_time)
        self.starts.append(sample_time)
        if len(self.starts) <= DRAINED:
            assert self._callback.read_into(self._block)
            self.blocks.append(self._block.copy())
        self._on_publish(len(self.starts))


@dataclass
class Context:
    """What the synth actor touches of its runtime context: its rings, the transport."""

    writers: dict[str, Any]
    readers: dict[str, RingReader]
    transport: Transport
    name: str = "synth"
    restored_state: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, dict]] = field(default_factory=list)

    def writer(self, ring: str) -> Any:
        return self.writers[ring]

    def reader(self, ring: str) -> RingReader:
        return self.readers[ring]

    def emit(self, event: str, **detail: Any) -> None:
        self.events.append((event, detail))

    def publish_state(self, state: dict[str, Any]) -> None:
        pass

    def set_degraded(self, reason: str) -> None:
        self.events.append(("degraded", {"reason": reason}))

    def set_healthy(self) -> None:
        pass


@pytest.fixture
def rings():
    """``notes`` (the composer's events) and ``audio_out`` (the synth's blocks) in shared
    memory, and a running transport at sample 0: (notes writer, audio_out writer, notes
    reader, audio_out reader, transport)."""
    ns = RunNamespace.create()
    specs = {
        "notes": RingSpec("notes", ne.EVENT_SHAPE, ne.EVENT_DTYPE, 64, policy="overwrite"),
        "audio_out": RingSpec("audio_out", (BLOCK, 2), "float32", 32, policy="drop"),
    }
    owners = [Ring.create(ns.segment_name(name), spec) for name, spec in specs.items()]
    ends = [
        RingWriter.attach(ns.segment_name("notes"), "notes"),
        RingWriter.attach(ns.segment_name("audio_out"), "audio_out"),
        RingReader.attach(ns.segment_name("notes"), 0, "notes"),
        RingReader.attach(ns.segment_name("audio_out"), 0, "audio_out"),
    ]
    transport = Transport.create(ns.segment_name("transport"))
    transport.write(TransportState(sample_counter=0, running=True))
    yield (*ends, transport)
    transport.close()
    for end in (*ends, *owners):
        end.close()
    ns.release()


def _note_on(writer: RingWriter, time: int, key: int) -> None:
    event = np.zeros(ne.EVENT_SHAPE, np.float64)
    ne.note_on(event, time, 0, key, 100)
    assert writer.write(event, sample_time=time)


def test_a_step_on_a_drained_ring_renders_one_look_ahead_and_takes_notes_written_meanwhile(
    rings,
) -> None:
    notes_w, out_w, notes_r, out_r, transport = rings
    config = SynthConfig(lookahead_blocks=LOOKAHEAD, block_size=BLOCK)
    due: list[int] = []

    def composer_writes(published: int) -> None:
        # After the first block, a note due two blocks later arrives (still in time).
        if published == 1:
            due.append(drained.starts[0] + 2 * BLOCK + 17)
            _note_on(notes_w, due[0], 69)

    drained = DrainedWriter(out_w, out_r, composer_writes)
    ctx = Context({"audio_out": drained}, {"notes": notes_r}, transport)
    actor = SynthActor(ctx, config)
    actor.on_start()
    actor.step()

    assert len(drained.starts) == LOOKAHEAD  # the step returned; the next one goes on
    assert actor.synth.stats["late_events"] == 0
    # The blocks are what a synth given the note in advance renders.
    reference = voices.Synth(
        sample_rate=config.sample_rate, channels=2, n_voices=config.voices,
        preset=config.preset, max_block=BLOCK, master_gain=config.master_gain,
        seed=config.seed, event_capacity=256,
    )  # fmt: skip
    reference.seek(drained.starts[0])
    reference.note_on(due[0], 69, 100, channel=0)
    expected = [reference.render(BLOCK).copy() for _ in drained.starts]
    np.testing.assert_array_equal(np.concatenate(drained.blocks), np.concatenate(expected))
    assert np.abs(drained.blocks[2]).max() > 0.0  # the note sounds from its sample on
