"""The training pipeline at CI size: data → train → checkpoint/resume → ONNX → card."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from inference_support import REPO

from kelly_actors.inference.model import load_model
from training.emotion.clip_level import CLIP_INPUTS_TEMPO
from training.emotion.dataset import DataConfig, assign_splits, plan_clips


def test_the_data_plan_is_reproducible_from_its_seed_and_splits_by_piece_and_instrument() -> None:
    config = DataConfig.quick(seed=4)
    a, b = plan_clips(config), plan_clips(config)
    assert [c.performance.target for c in a] == [c.performance.target for c in b]
    train = {(c.performance.piece, i.name) for c in a if c.split == "train" for i, _ in c.parts}
    test = {(c.performance.piece, i.name) for c in a if c.split == "test" for i, _ in c.parts}
    assert test and train
    assert not {p for p, _ in train} & {p for p, _ in test}
    assert not {i for _, i in train} & {i for _, i in test}
    splits = assign_splits([f"p{i}" for i in range(20)], seed=1)
    assert sorted(splits.values()).count("test") == 4 and list(splits.values()).count("val") == 2


@pytest.mark.parametrize(
    ("flag", "bad", "message", "good", "field"),
    [
        ("--extra-composer-pieces", "-1", "must be 0 or more", "0", "extra_composer_pieces"),
        ("--track-share", "1.5", "must be in [0, 1]", "0.5", "track_share"),
        ("--extra-takes", "-2", "must be 0 or more", "3", "extra_takes"),
    ],
)
def test_a_data_option_out_of_range_is_refused_before_any_work(
    capsys, flag: str, bad: str, message: str, good: str, field: str
) -> None:
    from training.emotion.__main__ import parse

    with pytest.raises(SystemExit) as refused:
        parse([flag, bad])
    assert refused.value.code == 2
    assert f"{flag} {message}" in capsys.readouterr().err
    assert getattr(parse([flag, good]), field) == float(good)


@pytest.mark.slow
def test_kelly_train_emotion_quick_builds_trains_resumes_and_writes_a_loadable_model(
    tmp_path,
) -> None:
    out, ck, data = tmp_path / "out", tmp_path / "ck", tmp_path / "data.npz"
    base = [
        sys.executable,
        "-m",
        "kelly_actors.cli",
        "train",
        "emotion",
        "--quick",
        "--out",
        str(out),
        "--checkpoints",
        str(ck),
        "--data",
        str(data),
    ]
    first = subprocess.run(base, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "ETA" in first.stderr and (ck / "last.pt").exists()
    card = json.loads((out / "emotion.json").read_text())
    assert load_model(out / "emotion.onnx").version == card["model_version"]
    assert card["training"]["epochs"] == 2 and len(card["training"]["history"]) == 2
    again = subprocess.run(
        [*base, "--resume", "--epochs", "3"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resumed from" in again.stdout and "after epoch 2" in again.stdout
    history = json.loads((out / "emotion.json").read_text())["training"]["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    built = data.stat().st_mtime_ns
    other = subprocess.run(
        [*base, "--no-onset-rate"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert other.returncode == 2 and "add --rebuild-data" in other.stderr
    assert data.stat().st_mtime_ns == built


@pytest.mark.slow
def test_the_beat_resonator_variant_trains_from_warm_crops_into_a_model_the_actor_loads(
    tmp_path,
) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "kelly_actors.cli", "train", "emotion", "--quick"]
    command += ["--out", str(out), "--checkpoints", str(tmp_path / "ck")]
    command += ["--data", str(tmp_path / "data.npz"), "--tempo", "--warm-carry", "--epochs", "1"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    card = json.loads((out / "emotion.json").read_text())
    assert card["training"]["tempo"] and card["training"]["warm_carry"]
    assert "beat resonators" in card["architecture"]
    model = load_model(out / "emotion.onnx")
    assert model.version == card["model_version"]
    with np.load(out / "emotion.baseline.npz") as baseline:
        assert baseline["clip_mean"].shape == (CLIP_INPUTS_TEMPO,)


@pytest.mark.parametrize("flag", ["--tempo", "--warm-carry"])
def test_carried_features_without_the_slow_chroma_are_a_usage_error(tmp_path, flag) -> None:
    command = [sys.executable, "-m", "kelly_actors.cli", "train", "emotion", "--quick"]
    command += ["--data", str(tmp_path / "data.npz"), "--no-slow-key", flag]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"{flag} needs --slow-key" in done.stderr
    assert not (tmp_path / "data.npz").exists()
