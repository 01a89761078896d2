"""The transport block: consistent snapshots, and no hang when its writer died mid-update."""

from __future__ import annotations

import struct

from kelly_actors.bus.namespace import RunNamespace
from kelly_actors.bus.transport import Transport, TransportState


def test_readers_see_what_the_clock_wrote_with_bar_and_beat_derived() -> None:
    ns = RunNamespace.create()
    try:
        owner = Transport.create(ns.segment_name("transport"))
        reader = Transport.attach(ns.segment_name("transport"))
        owner.write(TransportState(96_000, 48_000, 256, 120.0, 9.5, 4, True))
        state = reader.read()
        assert state is not None
        assert (state.sample_counter, state.tempo, state.running) == (96_000, 120.0, True)
        assert state.bar == 2
        assert state.beat_in_bar == 1.5
        reader.close()
        owner.close()
    finally:
        ns.release()


def test_a_writer_that_died_mid_update_makes_reads_return_none_until_a_new_write() -> None:
    ns = RunNamespace.create()
    try:
        owner = Transport.create(ns.segment_name("transport"))
        struct.pack_into("<q", owner.segment.buf, 0, 7)  # odd: an update never finished
        assert owner.read(attempts=100) is None
        owner.write(TransportState(sample_counter=5))
        state = owner.read()
        assert state is not None and state.sample_counter == 5
        owner.close()
    finally:
        ns.release()
