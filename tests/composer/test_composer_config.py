"""The composer's ``[actors.options]``: nested tables whose ranges name the bad key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kelly_actors.composer.config import ComposerConfig, TransformerOptions
from kelly_actors.composer.live.fusion import FusionSettings
from kelly_actors.config.typed import ConfigError, from_mapping

ROOT = Path(__file__).resolve().parents[2]
WHERE = "actors.composer.options"


def composer_options(path: Path) -> dict:
    config = tomllib.loads(path.read_text())
    (composer,) = [a for a in config["actors"] if a["name"] == "composer"]
    return composer.get("options", {})


@pytest.mark.parametrize("path", ["kelly_actors/config/default.toml", "examples/jack.toml"])
def test_the_shipped_configs_composer_tables_load(path: str) -> None:
    cfg = from_mapping(ComposerConfig, composer_options(ROOT / path), WHERE)
    assert cfg.fusion.strategy == "transform"
    assert cfg.midi.api in ("none", "jack")


def test_each_part_has_its_own_table() -> None:
    options = {
        "seed": 7,
        "emotion": {"valence": -0.5, "arousal": 0.8},
        "fusion": {"journey_bars": 4, "confidence_gate": 0.0},
        "midi": {"api": "none", "client": "k2"},
        "recording": {"directory": "off", "segment_bars": 8},
        "transformer": {"engine": "hybrid", "tracks": ["melody"], "deadline_ms": 100},
    }
    cfg = from_mapping(ComposerConfig, options, WHERE)
    assert cfg.emotion.point().as_tuple() == (-0.5, 0.8, 0.5)
    assert (cfg.fusion.journey_bars, cfg.fusion.confidence_gate) == (4, 0.0)
    assert (cfg.midi.api, cfg.midi.client, cfg.midi.port) == ("none", "k2", "composer")
    assert (cfg.recording.directory, cfg.recording.segment_bars) == ("off", 8)
    assert cfg.transformer.tracks == ("melody",) and cfg.transformer.deadline_ms == 100.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"emotion": {"valence": 2.0}}, "options.emotion: valence must be within"),
        ({"emotion": {"arousal": float("nan")}}, "options.emotion: arousal must be within"),
        ({"fusion": {"strategy": "dance"}}, "options.fusion: strategy must be one of"),
        ({"fusion": {"journey_bars": 0}}, "options.fusion: journey_bars must be ≥ 1"),
        ({"fusion": {"smoothing": 1.5}}, "options.fusion: smoothing must be within"),
        ({"fusion": {"confidence_gate": -0.1}}, "options.fusion: confidence_gate must be"),
        ({"fusion": {"neural_weight": 2}}, "options.fusion: neural_weight must be within"),
        ({"fusion": {"estimate_timeout_s": 0}}, "options.fusion: estimate_timeout_s must be > 0"),
        ({"fusion": {"deadband": -1}}, "options.fusion: deadband must be ≥ 0"),
        ({"midi": {"api": "winmm"}}, "options.midi: api must be one of"),
        ({"midi": {"retry_s": 0}}, "options.midi: retry_s must be > 0"),
        ({"recording": {"segment_bars": 0}}, "options.recording: segment_bars must be ≥ 1"),
        ({"transformer": {"engine": "gpt"}}, "options.transformer: engine must be one of"),
        ({"transformer": {"tracks": []}}, "options.transformer: tracks must be a non-empty"),
        ({"transformer": {"tracks": ["lead"]}}, "options.transformer: tracks must be a non-empty"),
        ({"transformer": {"deadline_ms": 0}}, "options.transformer: deadline_ms must be > 0"),
        ({"transformer": {"deadline_ms": 20_000}}, "options.transformer: deadline_ms must be ≤"),
        ({"midi": {"api": 3}}, "options.midi.api: expected str"),
        # The flat keys of the composer's former table are refused, not ignored.
        ({"midi_api": "none"}, "unknown key(s) midi_api"),
        ({"transformer": {"transformer_deadline_ms": 5}}, "unknown key(s) transformer_dead"),
    ],
)
def test_a_wrong_value_is_a_config_error_naming_its_table_and_key(
    options: dict, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        from_mapping(ComposerConfig, options, WHERE)
    assert message in str(raised.value)


def test_ranges_hold_for_objects_built_in_code_too() -> None:
    with pytest.raises(ValueError, match="smoothing must be within"):
        FusionSettings(smoothing=-0.5)
    with pytest.raises(ValueError, match="tracks must be a non-empty"):
        TransformerOptions(tracks=("melody", "lead"))
