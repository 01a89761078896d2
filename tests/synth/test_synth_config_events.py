"""The synth actor's settings (nested tables, ranges on the fields) and the translation of
``notes`` ring events into the synth's queue (one set of kind codes, bends in semitones)."""

from __future__ import annotations

import numpy as np
import pytest

from kelly_actors.bus import note_events as ne
from kelly_actors.bus.note_events import EventKind
from kelly_actors.config.typed import ConfigError, from_mapping
from kelly_actors.synth.config import SynthConfig
from kelly_actors.synth.presets import PRESET_NAMES
from kelly_actors.synth.ring_events import as_records, to_record
from kelly_actors.synth.voices import Synth

WHERE = "actors.synth.options"


def test_transfer_and_features_settings_are_nested_tables() -> None:
    cfg = from_mapping(
        SynthConfig,
        {"mode": "transfer", "transfer": {"gain": 0.5, "slack_blocks": 3},
         "features": {"hop": 256}},
        WHERE,
    )  # fmt: skip
    assert (cfg.transfer.gain, cfg.transfer.slack_blocks, cfg.transfer.confidence) == (0.5, 3, 0.5)
    assert (cfg.features.hop, cfg.features.frame_size) == (256, 2048)
    assert SynthConfig().transfer.fade_db == 6.0 and SynthConfig().mode == "notes"


@pytest.mark.parametrize(
    ("options", "names"),
    [
        ({"transfer": {"confidence": 1.5}}, "transfer: confidence must be within 0.0…1.0"),
        ({"transfer": {"gain": -1.0}}, "transfer: gain must be ≥ 0.0"),
        ({"transfer": {"fade_db": 0.0}}, "transfer: fade_db must be > 0.0"),
        ({"transfer": {"slack_blocks": 65}}, "transfer: slack_blocks must be within 0…64"),
        ({"features": {"hop": 0}}, "features: hop must be > 0"),
        ({"features": {"frame_size": -1}}, "features: frame_size must be > 0"),
        ({"transfer": {"gian": 1.0}}, "transfer: unknown key(s) gian"),
        ({"transfer_gain": 1.0}, "unknown key(s) transfer_gain"),  # the old flat spelling
        ({"lookahead_blocks": 0}, "lookahead_blocks must be within 1…64"),
        ({"voices": 300}, "voices must be within 1…256"),
        ({"crossfade_s": 6.0}, "crossfade_s must be within 0.0…5.0"),
        ({"decoder_budget_us": 0.0}, "decoder_budget_us must be > 0.0"),
        ({"preset": "kazoo"}, "preset must be one of " + ", ".join(PRESET_NAMES)),
        ({"mode": "karaoke"}, "mode must be one of notes, transfer"),
    ],
)
def test_a_wrong_value_is_a_config_error_naming_its_key(options, names) -> None:
    with pytest.raises(ConfigError) as caught:
        from_mapping(SynthConfig, options, WHERE)
    assert str(caught.value).startswith(WHERE) and names in str(caught.value)


def _ring(kind: int, channel: int = 0, key: int = 0, velocity: int = 0, a: float = 0.0,
          b: float = 0.0, c: float = 0.0) -> list[float]:  # fmt: skip
    return [1000.0, float(kind), float(channel), float(key), float(velocity), a, b, c]


def test_ring_events_keep_their_kind_codes_and_units() -> None:
    synth = Synth(48000, channels=1, n_voices=2)
    on = to_record(_ring(EventKind.NOTE_ON, 3, 60, 90), synth, play_drums=False)
    assert on == (1000, EventKind.NOTE_ON, 60, 90, 3, 0.0)
    off = to_record(_ring(EventKind.NOTE_OFF, 3, 60), synth, play_drums=False)
    assert off == (1000, EventKind.NOTE_OFF, 60, 0, 3, 0.0)
    bend = to_record(_ring(EventKind.PITCH_BEND, 2, a=-1.25), synth, play_drums=False)
    assert bend == (1000, EventKind.PITCH_BEND, 0, 0, 2, -1.25)  # semitones, as on the ring
    emotion = to_record(_ring(EventKind.EMOTION, -1, a=0.5, b=0.25, c=0.75), synth, False)
    assert emotion is not None and emotion[1] == EventKind.EMOTION
    assert synth._emotions.values(emotion[2], emotion[3]) == [0.5, 0.25, 0.75]
    program = to_record(_ring(EventKind.PROGRAM, 4, 40), synth, play_drums=False)
    assert program == (1000, EventKind.PRESET, PRESET_NAMES.index("strings"), 0, 4, 0.0)
    # The composer's all-notes-off is its panic: every voice is cut in a steal's fade.
    panic = to_record(_ring(EventKind.ALL_NOTES_OFF, -1), synth, play_drums=False)
    assert panic == (1000, EventKind.ALL_SOUND_OFF, 0, 0, 0, 0.0)


def test_drum_notes_are_left_out_unless_asked_for() -> None:
    synth = Synth(48000, channels=1, n_voices=2)
    drum = _ring(EventKind.NOTE_ON, ne.DRUM_CHANNEL, 36, 100)
    assert to_record(drum, synth, play_drums=False) is None
    assert to_record(drum, synth, play_drums=True) is not None


def test_a_bend_from_the_ring_sounds_its_semitones() -> None:
    """Scheduled as translated, a ring bend of +1 semitone plays 440·2^(1/12) Hz."""
    sr = 48000
    synth = Synth(sr, channels=1, preset="sine")
    synth.note_on(0, 69, 100)
    bend = to_record(_ring(EventKind.PITCH_BEND, 0, a=1.0), synth, play_drums=False)
    synth.schedule_array(as_records([(0, *bend[1:])]))
    out = synth.render(sr)[sr // 4 :, 0].astype(np.float64)
    spec = np.abs(np.fft.rfft(out * np.hanning(out.size), 1 << 20))
    assert abs(np.argmax(spec) * sr / (1 << 20) - 440.0 * 2 ** (1 / 12)) < 0.5
