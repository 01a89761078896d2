"""The synth actor with a neural timbre in a real performance: load, refuse, fall back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from audio_support import live_graph_toml
from performance import Performance, wait_until

from kelly_actors.supervisor.client import Refused
from training.ddsp.export import export_onnx
from training.ddsp.model import DDSPDecoder, ModelConfig


def _timbre(directory: Path) -> Path:
    torch.manual_seed(0)
    path = directory / "ddsp-testviolin.onnx"
    export_onnx(DDSPDecoder(ModelConfig(hidden=16)).eval(), path)
    card = {
        "instrument": "testviolin",
        "runtime": {
            "hidden": 16,
            "hop": 512,
            "sample_rate": 48000,
            "db_at_127": -25.0,
            "db_per_velocity_db": 1.5,
        },
    }
    path.with_suffix(".json").write_text(json.dumps(card))
    return path


@pytest.mark.slow
def test_a_missing_timbre_degrades_the_synth_which_plays_the_preset_until_a_good_one_loads(
    run_dir,
) -> None:
    good = _timbre(run_dir)
    config = live_graph_toml(
        synth={"timbre_model": str(run_dir / "ddsp-missing.onnx")}, notes={"key": 69}
    )
    with Performance(run_dir, config) as perf:
        synth = perf.wait_actor("synth", lambda a: a["state"] == "degraded", 30, "degraded synth")
        assert "does not exist" in synth["degraded_reason"]
        wait_until(lambda: perf.actor("synth")["telemetry"].get("active_voices") == 1, 15, "note")
        assert perf.actor("synth")["telemetry"]["timbre"] == "preset"

        with pytest.raises(Refused, match="cannot be loaded"):
            bad = run_dir / "ddsp-bad.onnx"
            bad.write_bytes(b"garbage")
            bad.with_suffix(".json").write_text(good.with_suffix(".json").read_text())
            perf.request(
                "call", actor="synth", method="load_model", args={"kind": "ddsp", "path": str(bad)}
            )

        reply = perf.request(
            "call", actor="synth", method="load_model", args={"kind": "ddsp", "path": str(good)}
        )
        assert reply["timbre"] == "testviolin"
        perf.wait_actor(
            "synth",
            lambda a: a["state"] == "ready" and a["telemetry"].get("neural_voices", 0) >= 1,
            30,
            "the held note crossfaded to the neural voice on a bar line",
        )
        assert perf.actor("synth")["telemetry"]["decoder_us_mean"] > 0
        assert perf.stop() == 0
