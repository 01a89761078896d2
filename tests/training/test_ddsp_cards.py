"""The shipped DDSP timbre cards name their model files by sha256, and the live synth
loads each model through its card."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from kelly_actors.synth.neural import NeuralTimbre

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.mark.parametrize("instrument", ["flute", "violin"])
def test_each_card_describes_its_shipped_file(instrument: str) -> None:
    model = MODELS / f"ddsp-{instrument}.onnx"
    card = json.loads(model.with_suffix(".json").read_text())
    assert card["file"] == model.name and card["instrument"] == instrument
    assert hashlib.sha256(model.read_bytes()).hexdigest() == card["sha256"]
    assert card["sha256"] in model.with_suffix(".md").read_text()
    timbre = NeuralTimbre.load(model)
    assert timbre.hidden == card["model"]["hidden"] == card["runtime"]["hidden"]
