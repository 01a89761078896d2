"""The MIDI byte parser: well-formed messages, running status, SysEx, and every kind of
malformed input refused with its count, never an exception."""

from __future__ import annotations

import random

from kelly_actors.symbolic.wire import (
    CONTROL_STATUS,
    NOTE_OFF_STATUS,
    NOTE_ON_STATUS,
    Event,
    MidiParser,
)


def test_note_on_note_off_and_a_controller_come_out_as_events() -> None:
    p = MidiParser()
    assert p.feed([0x91, 60, 100]) == [Event(NOTE_ON_STATUS, 1, 60, 100)]
    assert p.feed([0x81, 60, 0]) == [Event(NOTE_OFF_STATUS, 1, 60, 0)]
    assert p.feed([0xB0, 64, 127]) == [Event(CONTROL_STATUS, 0, 64, 127)]
    assert p.refused() == 0 and p.counts["running_status"] == 0


def test_running_status_within_and_across_messages_is_taken_and_counted() -> None:
    p = MidiParser()
    within = p.feed([0x90, 60, 100, 64, 100, 67, 0])  # two note-ons, a note-off (velocity 0)
    assert [(e.status, e.a) for e in within] == [
        (NOTE_ON_STATUS, 60),
        (NOTE_ON_STATUS, 64),
        (NOTE_OFF_STATUS, 67),
    ]
    across = p.feed([72, 90])  # data bytes alone continue the last status
    assert across == [Event(NOTE_ON_STATUS, 0, 72, 90)]
    assert p.counts["running_status"] == 3


def test_sysex_is_skipped_whole_counted_and_cancels_running_status() -> None:
    p = MidiParser()
    p.feed([0x90, 60, 100])
    assert p.feed([0xF0, 0x7E, 0x7F, 0x06, 0x01, 0xF7]) == []
    assert p.feed([62, 100]) == []  # running status was cancelled by the SysEx
    assert p.counts["sysex"] == 1 and p.counts["sysex_bytes"] == 6
    assert p.counts["stray_bytes"] == 2
    unterminated = p.feed([0xF0, 1, 2, 3, 0x90, 64, 80])  # a status byte ends it
    assert unterminated == [Event(NOTE_ON_STATUS, 0, 64, 80)]
    assert p.counts["sysex"] == 2


def test_truncated_undefined_and_stray_bytes_are_refused_with_counts() -> None:
    p = MidiParser()
    assert p.feed([0x90, 60]) == []  # truncated at the end
    assert p.feed([0xB0, 0x90, 61, 70]) == [Event(NOTE_ON_STATUS, 0, 61, 70)]  # cut short
    assert p.feed([0xF4, 0xF5, 0xFD, 0xF9]) == []
    assert p.feed([0xF7]) == []
    assert p.counts["truncated"] == 2
    assert p.counts["undefined"] == 4
    assert p.counts["stray_bytes"] == 1
    assert p.refused() == 7


def test_realtime_bytes_inside_a_message_are_skipped_and_the_message_survives() -> None:
    p = MidiParser()
    assert p.feed([0x90, 0xF8, 60, 0xFE, 100]) == [Event(NOTE_ON_STATUS, 0, 60, 100)]
    assert p.counts["realtime"] == 2


def test_ten_thousand_random_messages_never_raise_and_every_byte_is_accounted_for() -> None:
    rng = random.Random(7)
    p = MidiParser()
    for _ in range(10_000):
        data = [rng.randrange(256) for _ in range(rng.randrange(0, 12))]
        for e in p.feed(data):
            assert 0 <= e.channel < 16 and 0 <= e.a < 128 and 0 <= e.b < 128
    assert p.messages == 10_000 and p.events > 0 and p.refused() > 0
