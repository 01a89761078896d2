"""`kelly train transformer --quick`: the whole pipeline for real (data, training with a
progress bar, checkpoints, exact resume, ONNX export with a KV cache, the card), and
torch ↔ onnxruntime parity on a sequence the exported model generated."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import music21  # noqa: F401  (the corpus; scripts/setup dev installs it)
import numpy as np
import pytest
import torch

from kelly_actors.transformer.generate import Generator
from kelly_actors.transformer.session import StepSession
from kelly_actors.transformer.tokens import decode
from training.transformer.card import parity
from training.transformer.model import CompoundTransformer, ModelConfig

pytestmark = pytest.mark.slow


def kelly_train(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kelly_actors.cli", "train", "transformer", "--quick"]
    command += ["--work", str(work), "--model", str(work / "t.onnx"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("transformer-quick")
    done = kelly_train(work)
    assert done.returncode == 0, done.stderr
    assert "ETA" in done.stderr and "data" in done.stderr
    return work


def test_the_quick_run_writes_checkpoint_model_and_a_card_with_measured_numbers(
    trained: Path,
) -> None:
    for name in ("data.npz", "checkpoint.pt", "model.pt", "t.onnx", "t.json", "t.md"):
        assert (trained / name).is_file(), name
    card = json.loads((trained / "t.json").read_text())
    assert card["parameters"] > 0
    assert card["held_out"]["all_tokens"] > 0 and card["held_out"]["all_loss_nats"] > 0
    assert card["parity_max_abs_logit_diff"] < 1e-4
    for figures in card["controllability"].values():
        assert set(figures["corners"]) == {
            "v-0.8_a0.1", "v-0.8_a0.9", "v+0.8_a0.1", "v+0.8_a0.9",
        }  # fmt: skip
        low, high = figures["mode_matches_valence_sign_ci95"]
        assert 0.0 <= low <= figures["mode_matches_valence_sign"] <= high <= 1.0
    assert set(card["targets"]) >= {"mode_matches_valence_sign", "spearman_density_arousal"}
    assert card["data"]["by_split"]["train"] > 0 and card["data"]["tunes"] > 0
    text = (trained / "t.md").read_text()
    assert "Controllability" in text and "null model" in text and card["sha256"] in text


def test_torch_and_onnxruntime_agree_on_a_generated_sequence(trained: Path) -> None:
    state = torch.load(trained / "model.pt", weights_only=False)
    model = CompoundTransformer(ModelConfig(**state["model_config"]))
    model.load_state_dict(state["model"])
    session = StepSession(trained / "t.onnx")
    sequence = Generator(session).piece(-0.5, 0.3, 3, np.random.default_rng(7))
    assert len(decode(sequence)) == 3
    assert parity(model, session, sequence) < 1e-4


def test_resuming_from_the_checkpoint_continues_exactly_like_an_unbroken_run(
    trained: Path, tmp_path: Path
) -> None:
    resumed, fresh = tmp_path / "resumed", tmp_path / "fresh"
    shutil.copytree(trained, resumed)
    fresh.mkdir()
    for name in ("data.npz", "data.json"):
        shutil.copy(trained / name, fresh / name)
    assert kelly_train(resumed, "--resume", "--steps", "16").returncode == 0
    assert kelly_train(fresh, "--steps", "16").returncode == 0
    logs = [torch.load(d / "checkpoint.pt", weights_only=False)["log"] for d in (resumed, fresh)]
    assert len(logs[0]["train"]) == 16
    assert logs[0]["train"] == logs[1]["train"]


def _scored_file(trained: Path, work: Path, card: bool = True) -> Path:
    """``work`` holding what --rescore reads: the data, the ONNX file and (``card``) its card."""
    work.mkdir(exist_ok=True)
    for name in ("data.npz", "data.json", "t.onnx", *(("t.json",) if card else ())):
        shutil.copy(trained / name, work / name)
    return work


def test_rescoring_rewrites_the_card_of_the_same_file_without_the_torch_model(
    trained: Path, tmp_path: Path
) -> None:
    work = _scored_file(trained, tmp_path / "rescored")
    before = json.loads((work / "t.json").read_text())
    onnx = (work / "t.onnx").read_bytes()
    done = kelly_train(work, "--rescore")
    assert done.returncode == 0, done.stderr
    after = json.loads((work / "t.json").read_text())
    assert (work / "t.onnx").read_bytes() == onnx and not (work / "model.pt").exists()
    assert after["sha256"] == before["sha256"]
    for kept in ("held_out", "parity_max_abs_logit_diff", "training", "train_config"):
        assert after[kept] == before[kept], kept
    assert after["controllability"] == before["controllability"]  # seeded: the same pieces
    assert after["sha256"] in (work / "t.md").read_text()


def test_rescoring_refuses_a_card_written_for_another_file(trained: Path, tmp_path: Path) -> None:
    work = _scored_file(trained, tmp_path / "other")
    card = json.loads((work / "t.json").read_text())
    (work / "t.json").write_text(json.dumps({**card, "sha256": "0" * 64}))
    done = kelly_train(work, "--rescore")
    assert done.returncode != 0
    assert "describes another file" in done.stderr
    assert json.loads((work / "t.json").read_text())["sha256"] == "0" * 64


@pytest.mark.parametrize("card", ["{not json", "[]", '{"sha256": "00"}'])
def test_rescoring_a_broken_card_exits_with_a_reason(
    trained: Path, tmp_path: Path, card: str
) -> None:
    _scored_file(trained, tmp_path, card=False)
    (tmp_path / "t.json").write_text(card)
    done = kelly_train(tmp_path, "--rescore")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "cannot rescore" in done.stderr or "not a card of a trained model" in done.stderr
    assert (tmp_path / "t.json").read_text() == card


def test_bad_training_arguments_exit_with_a_usage_error(tmp_path: Path) -> None:
    done = kelly_train(tmp_path, "--steps", "0")
    assert done.returncode == 2
    assert "--steps must be >= 1" in done.stderr
    assert not (tmp_path / "data.npz").exists()


def test_data_options_that_differ_from_the_data_built_ask_for_a_rebuild(trained: Path) -> None:
    data = (trained / "data.npz").read_bytes()
    done = kelly_train(trained, "--no-rule-tonal", "--evaluate-only")
    assert done.returncode == 2
    assert "rule_tonal=True, not False" in done.stderr and "--rebuild-data" in done.stderr
    assert (trained / "data.npz").read_bytes() == data
