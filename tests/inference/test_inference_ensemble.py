"""An ensemble's streams through features and inference with real processes: a
3-channel WAV as three performers (the file backend), the worker pool serving each
stream under its own id, a stream of NaN frames dropped and counted while the others go
on; and the config errors when ring shapes and channels disagree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
from ensemble_signals import pattern
from performance import Performance, wait_until
from toml_config import performance_toml

from kelly_actors.config import performance
from kelly_actors.config.typed import ConfigError
from kelly_actors.inference.streams import Stream
from kelly_actors.supervisor.spawner import validate_actors

RATE = 48_000


def three_performers(path: Path, seconds: int = 30) -> Path:
    """bright | NaN | dark, float32 WAV: channel k is performer k."""
    bright = np.tile(pattern("bright", RATE), seconds // 2)
    dark = np.tile(pattern("dark", RATE), seconds // 2)
    broken = np.full_like(bright, np.nan)
    soundfile.write(path, np.stack([bright, broken, dark], axis=1), RATE, subtype="FLOAT")
    return path


def ensemble_toml(
    wav: Path,
    channels: int = 3,
    in_columns: int = 3,
    rows: int = 3,
    workers: int = 1,
    composer: bool = False,
    inference: dict | None = None,
    ensemble: dict | None = None,
) -> str:
    rings = [
        {"name": "audio_in", "shape": [256, in_columns], "writer": "audio",
         "readers": ["features"]},
        {"name": "frames", "shape": [rows, 128], "capacity": 256, "writer": "features",
         "readers": ["inference"]},
    ]  # fmt: skip
    actors = [
        {
            "name": "audio",
            "target": "kelly_actors.audio.actor:AudioActor",
            "options": {"backend": "file", "input_file": str(wav), "input_channels": channels,
                        "out_ring": "", "tempo_ring": ""},
        },
        {"name": "features", "target": "kelly_actors.audio.features_actor:FeaturesActor",
         "depends_on": ["audio"]},
        {"name": "inference", "target": "kelly_actors.inference.actor:InferenceActor",
         "depends_on": ["features"],
         "options": {"workers": workers, "variations": "", **(inference or {})}},
    ]  # fmt: skip
    if composer:  # a solo composer (no [actors.options.ensemble]) listening to them
        options = {"notes_ring": "", "tempo_ring": "", "midi": {"api": "none"}}
        if ensemble is not None:
            options["ensemble"] = ensemble
        target = "kelly_actors.composer.actor:ComposerActor"
        actors.append(
            {"name": "composer", "target": target, "depends_on": ["inference"], "options": options}
        )
    return performance_toml(actors, rings)


def test_a_stream_of_nan_frames_is_dropped_and_counted_while_the_others_are_estimated(
    run_dir, tmp_path
) -> None:
    wav = three_performers(tmp_path / "ensemble.wav")
    with Performance(run_dir, ensemble_toml(wav, composer=True)) as perf:
        perf.wait_ready()

        def heard() -> list[dict] | None:
            streams = perf.actor("inference")["telemetry"].get("streams")
            enough = streams and all(streams[k]["estimates"] >= 20 for k in (0, 2))
            return streams if enough and streams[1]["nonfinite"] >= 20 else None

        bright, broken, dark = wait_until(heard, 60, "two streams estimated, one dropped")
        assert broken["estimates"] == 0 and broken["frames"] == broken["nonfinite"]
        assert bright["nonfinite"] == 0 and dark["nonfinite"] == 0
        # Each stream is smoothed apart: the loud bright one is heard as more aroused.
        assert bright["last"]["arousal"] > dark["last"]["arousal"]
        pool = perf.actor("inference")["telemetry"]["pool"]
        assert pool["workers"] == 1
        # A composer set up for one stream says once that it does not hear the others.
        mismatch = wait_until(
            lambda: [e for e in perf.events() if e["event"] == "ensemble_mismatch"], 30, "mismatch"
        )
        assert len(mismatch) == 1 and "stream 2 is not one of the ensemble's 1" in str(mismatch)
        assert perf.stop() == 0


def _validate(text: str, tmp_path: Path) -> None:
    path = tmp_path / "performance.toml"
    path.write_text(text)
    validate_actors(performance.load(path))


def test_an_audio_in_ring_narrower_than_input_channels_is_a_config_error(tmp_path) -> None:
    wav = three_performers(tmp_path / "e.wav", seconds=2)
    text = ensemble_toml(wav, channels=3, in_columns=2, rows=2)
    with pytest.raises(
        ConfigError, match=r"actors.audio: ring 'audio_in' carries float32\[256, 2\]"
    ):
        _validate(text, tmp_path)


def test_a_frames_ring_with_other_rows_than_input_channels_is_a_config_error(tmp_path) -> None:
    wav = three_performers(tmp_path / "e.wav", seconds=2)
    text = ensemble_toml(wav, rows=2)
    with pytest.raises(ConfigError, match=r"3 input channel.*2 stream.*float32\[3, 128\]"):
        _validate(text, tmp_path)


def test_an_ensemble_of_other_streams_than_the_frames_ring_carries_is_a_config_error(
    tmp_path,
) -> None:
    wav = three_performers(tmp_path / "e.wav", seconds=2)
    text = ensemble_toml(wav, composer=True, ensemble={"streams": 2})
    with pytest.raises(
        ConfigError, match=r"actors.composer.options.ensemble.streams = 2.*'frames' carries 3"
    ):
        _validate(text, tmp_path)
    _validate(ensemble_toml(wav, composer=True, ensemble={"streams": 3}), tmp_path)


def test_a_wav_without_one_channel_per_performer_is_a_config_error(tmp_path) -> None:
    wav = tmp_path / "stereo.wav"
    soundfile.write(wav, np.zeros((RATE, 2), np.float32), RATE, subtype="FLOAT")
    with pytest.raises(ConfigError, match=r"has 2 channel.*input_channels = 3"):
        _validate(ensemble_toml(wav), tmp_path)


def test_a_frame_with_a_nan_or_inf_never_reaches_the_streams_queue() -> None:
    stream = Stream(1)
    good = np.zeros(128, np.float32)
    bad = good.copy()
    bad[5] = np.inf
    stream.offer(0, good, 0.0)
    stream.offer(512, bad, 0.0)
    assert stream.counts["frames"] == 2 and stream.counts["nonfinite"] == 1
    assert [item[0] for item in stream.pending] == [0]
