"""The MIDI input's config is typed and checked at load: a bad CC number, an unknown
command, a lock without its axis, a CC mapped twice are refused with a clear message; the
controllers do what the mapping says; a partial set_emotion keeps the other axes."""

from __future__ import annotations

from typing import Any

import pytest

from kelly_actors.composer.live.fusion import EmotionFusion, Fused, FusionSettings
from kelly_actors.config.typed import ConfigError, from_mapping
from kelly_actors.midi_in.cc import CcMapper
from kelly_actors.midi_in.config import MidiInConfig

WHERE = "actors.midi_in.options"


def load(**options: Any) -> MidiInConfig:
    return from_mapping(MidiInConfig, options, WHERE)


@pytest.mark.parametrize(
    ("cc", "message"),
    [
        ([{"number": 128, "axis": "arousal"}], r"number must be within 0…127, got 128"),
        ([{"number": 64, "command": "explode"}], r"command must be one of panic, lock"),
        ([{"number": 64, "command": "lock"}], r"lock needs target = one of valence"),
        ([{"number": 64, "command": "restart"}], r"restart needs target"),
        ([{"number": 1, "axis": "arousal", "command": "panic"}], r"either axis or command"),
        ([{"number": 1, "axis": "joy"}], r"axis must be one of valence"),
        ([{"number": 1, "axis": "arousal"}, {"number": 1, "axis": "valence"}], "mapped twice"),
        ([{"number": 1, "axis": "arousal", "channel": 16}], r"channel must be within 0…15"),
        ([{"axis": "arousal"}], r"missing key 'number'"),
    ],
)
def test_a_bad_cc_mapping_is_refused_at_load_with_the_reason(cc: list[dict], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        load(cc=cc)
    assert str(err.value).startswith(WHERE)


def test_an_unknown_api_is_refused_at_load() -> None:
    with pytest.raises(ConfigError, match="api must be one of jack, alsa"):
        load(api="winmm")


def test_an_axis_knob_is_scaled_and_a_pedal_fires_once_per_press() -> None:
    config = load(
        cc=[
            {"number": 1, "axis": "valence"},
            {"number": 2, "axis": "arousal", "channel": 3},
            {"number": 64, "command": "panic"},
            {"number": 65, "command": "lock", "target": "arousal"},
            {"number": 66, "command": "restart", "target": "synth"},
        ]
    )
    cc = CcMapper(config.cc, "composer")
    assert cc.take(0, 1, 127) == [] and cc.take(0, 1, 0) == []
    assert cc.take(0, 2, 127) == []  # channel 0: not the mapping's channel 3
    assert cc.take(3, 2, 127) == []
    request = cc.axis_request()
    assert request is not None and request.args["args"] == {"valence": -1.0, "arousal": 1.0}
    assert cc.axis_request() is None
    presses = [cc.take(0, 64, v) for v in (0, 127, 127, 100, 0, 90)]
    fired = [c for press in presses for c in press]
    assert [c.args["method"] for c in fired] == ["panic", "panic"]
    (lock,) = cc.take(0, 65, 127)
    assert lock.cmd == "call" and lock.args["args"] == {"axis": "arousal"}
    (restart,) = cc.take(0, 66, 127)
    assert (restart.cmd, restart.args) == ("restart", {"actor": "synth"})
    assert cc.unmapped == 1 and cc.mapped == 11


def test_the_listener_is_its_own_source_in_the_fusion_and_a_lock_wins() -> None:
    from kelly_actors.composer.emotion.pad import PAD
    from kelly_actors.symbolic.reading import Reading

    fusion = EmotionFusion(FusionSettings(symbolic_weight=1.0, deadband=0.0))
    fusion.set_emotion(PAD(0.0, 0.2, 0.5))
    fusion.symbolic(Reading(10.0, 0.8, 0.8, 0.5, 1.0, 2.0, 3.0, 30))
    bar = fusion.next_bar(now=11.0)
    assert bar.source == "performer+midi"
    assert bar.point.arousal == pytest.approx(0.5) and bar.point.valence == pytest.approx(0.4)
    fusion.lock("arousal")
    fusion.symbolic(Reading(20.0, 0.8, 1.0, 0.5, 1.0, 2.0, 3.0, 30))
    assert fusion.next_bar(now=21.0).point.arousal == pytest.approx(0.5)
    gone = fusion.next_bar(now=60.0)  # the performer stopped long ago: midi no longer counts
    assert gone.source == "performer" and isinstance(gone, Fused)
    successor = EmotionFusion(FusionSettings(symbolic_weight=1.0, deadband=0.0))
    successor.restore(fusion.to_dict())  # a replacement composer hears the same reading
    assert successor.midi == fusion.midi
    successor.restore({**fusion.to_dict(), "midi": ["not", "a", "row"]})
    assert successor.midi is None


def test_the_example_performance_loads_and_its_midi_input_passes_preflight() -> None:
    from pathlib import Path

    from kelly_actors.composer.config import ComposerConfig
    from kelly_actors.config import performance
    from kelly_actors.midi_in.actor import MidiInActor

    example = Path(__file__).resolve().parents[2] / "examples" / "midi-in.toml"
    config = performance.load(example)
    options = config.actor("midi_in").options
    midi_in = from_mapping(MidiInConfig, options, WHERE)
    assert [(m.number, m.axis or m.command) for m in midi_in.cc] == [
        (1, "arousal"),
        (11, "valence"),
        (64, "panic"),
        (80, "lock"),
        (81, "unlock"),
    ]
    MidiInActor.preflight(midi_in, {r.name: r for r in config.rings})
    composer = from_mapping(ComposerConfig, config.actor("composer").options, "composer")
    assert composer.midi_in_ring == "midi_in" and composer.fusion.symbolic_weight == 0.5
    with pytest.raises(ConfigError, match="needs a ring 'midi_in'"):
        MidiInActor.preflight(midi_in, {})
