"""Choosing the MIDI path: ``[midi] output``, the ``midi`` ring and the audio actor's side.

Bad choices are refused when the config loads, each with what to do instead.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import numpy as np
import pytest

from kelly_actors.audio.actor import AudioConfig
from kelly_actors.bus import midi_wire as wire
from kelly_actors.bus.namespace import RunNamespace
from kelly_actors.bus.ring import Ring, RingSpec, RingWriter
from kelly_actors.composer.config import ComposerConfig
from kelly_actors.composer.live.jack_midi import JackMidiOut
from kelly_actors.config import performance
from kelly_actors.config.typed import ConfigError, from_mapping

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "jack-midi.toml"


def _example() -> dict:
    return tomllib.loads(EXAMPLE.read_text())


def _actor(data: dict, name: str) -> dict:
    return next(a for a in data["actors"] if a["name"] == name)


def test_the_jack_midi_example_loads_with_the_frame_exact_path() -> None:
    config = performance.load(EXAMPLE)
    composer = from_mapping(ComposerConfig, config.actor("composer").options, "composer")
    audio = from_mapping(AudioConfig, config.actor("audio").options, "audio")
    assert (composer.midi.output, composer.midi.ring) == ("jack", "midi")
    assert (audio.backend, audio.midi_ring, audio.jack.midi_clock) == ("jack", "midi", True)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"midi": {"output": "coremidi"}}, "options.midi: output must be one of"),
        ({"midi": {"output": "jack", "ring": ""}}, "output = 'jack' needs ring"),
        ({"midi": {"output": 1}}, "options.midi.output: expected str"),
    ],
)
def test_a_bad_midi_output_is_refused_naming_the_key(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_mapping(ComposerConfig, options, "actors.composer.options")


def test_midi_in_the_jack_cycle_without_jack_audio_is_refused_with_the_alternative() -> None:
    for options in ({"midi_ring": "midi"}, {"jack": {"midi_clock": True}}):
        with pytest.raises(ConfigError, match=r"need backend = 'jack', not 'null'.*'rtmidi'"):
            from_mapping(AudioConfig, options, "actors.audio.options")


def test_output_jack_without_its_ring_or_a_reader_that_sends_it_is_refused() -> None:
    data = _example()
    data["rings"] = [r for r in data["rings"] if r["name"] != "midi"]
    with pytest.raises(ConfigError, match="writes ring 'midi'; declare it"):
        performance.parse(data)
    data = _example()
    del _actor(data, "audio")["options"]["midi_ring"]
    with pytest.raises(ConfigError, match="needs an audio actor on JACK that reads ring 'midi'"):
        performance.parse(data)
    data = copy.deepcopy(_example())
    _actor(data, "composer")["options"]["midi"] = {"output": "rtmidi", "api": "none"}
    performance.parse(data)  # the ring may exist unused


def test_the_composers_end_writes_stamped_messages_and_counts_what_a_full_ring_refuses() -> None:
    ns = RunNamespace.create()
    name = ns.segment_name("midi")
    ring = Ring.create(name, RingSpec("midi", wire.SHAPE, wire.DTYPE, 8, policy="drop"))
    writer = RingWriter.attach(name)
    try:
        out = JackMidiOut("midi")
        assert out.open() != "" and not out.is_open
        out.attach(writer)
        assert out.open() == "" and out.is_open
        assert out.schedule(1234, [0x90, 60, 100])
        out.send([0xC0, 4])
        out.schedule(5, [0x90, 60])  # incomplete: never written
        assert (out.sent, out.errors, out.stuck) == (2, 1, False)
        out.all_notes_off()  # 32 messages into 6 free slots
        assert (out.sent, out.refused, out.stuck) == (8, 26, True)
        slots = np.frombuffer(ring.segment.buf, np.int64)
        first = 2048 // 8 + 4  # the first slot's payload, after its 4 header words
        assert wire.unpack(int(slots[first])) == bytes([0x90, 60, 100])
        assert slots[first - 2] == 1234
        notes_name = ns.segment_name("notes")
        notes = Ring.create(notes_name, RingSpec("notes", (8,), "float64", 4))
        notes_writer = RingWriter.attach(notes_name)
        with pytest.raises(ValueError, match="must be int64"):
            JackMidiOut("notes").attach(notes_writer)
        notes_writer.close()
        notes.close()
    finally:
        writer.close()
        ring.close()
        ns.release()
