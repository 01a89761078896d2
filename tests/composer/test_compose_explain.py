"""``kelly compose --explain``: per bar the target, key, tempo, writers and what the shipped
listener hears in the bars rendered by the DDSP synth (a real subprocess, the real model)."""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from performance import REPO, kelly

from kelly_actors.cli import explain
from kelly_actors.cli.compose import register
from kelly_actors.composer.live.agreement import agreement
from kelly_actors.music.notes import TRACKS

PAD = ("--pad", "-0.6", "0.3", "0.4")
LISTENER = REPO / "models" / "emotion.onnx"


def _compose(tmp_path: Path, name: str, *extra: str) -> tuple[str, bytes]:
    out = tmp_path / f"{name}.mid"
    done = kelly("compose", *PAD, "--bars", "4", "--seed", "5", "-o", str(out), *extra)
    assert done.returncode == 0, done.stderr
    return done.stdout, out.read_bytes()


@pytest.mark.parametrize("engine", ["rules", "transformer"])
def test_each_bar_says_its_target_key_tempo_writers_and_what_the_listener_heard(
    tmp_path: Path, engine: str
) -> None:
    text, explained = _compose(tmp_path, "x", "--engine", engine, "--explain", "--json")
    _, plain = _compose(tmp_path, "plain", "--engine", engine)
    assert explained == plain  # explaining composes the very same piece
    report = json.loads(text)
    assert report["summary"][-1].startswith("wrote ")
    assert Path(report["listener_model"]) == LISTENER
    bars = report["bars"]
    assert [b["bar"] for b in bars] == [0, 1, 2, 3]
    for b in bars:
        assert b["target"]["valence"] == pytest.approx(-0.6, abs=0.15)
        assert b["target"]["nearest"] and re.fullmatch(r"[A-G]#? \w+", b["key"])
        assert 40 <= b["tempo"] <= 200
        tracks = {t.name for t in TRACKS}
        assert b["writers"] and set(b["writers"]) <= tracks
        if engine == "rules":
            assert all(w.startswith("rules/") for w in b["writers"].values())
        else:
            assert b["writers"]["melody"] == "transformer (transformer.onnx)"
        heard = b["listener"]
        assert heard is not None and heard["frames"] > 0
        assert -1 <= heard["valence"] <= 1 and 0 < heard["confidence"] <= 1
        assert all(math.isfinite(heard[a]) for a in ("valence", "arousal", "dominance"))
    # A real model's readings move from bar to bar; a constant would not.
    assert len({(b["listener"]["valence"], b["listener"]["arousal"]) for b in bars}) > 1
    agreement = report["agreement"]
    assert agreement["bars"] == 4 and agreement["heard"] == 4
    assert 0 <= agreement["quadrant"] <= 1


@pytest.mark.parametrize(
    ("render", "name"), [("synth", "ddsp synth"), ("fluidsynth", "fluidsynth")]
)
def test_the_table_has_one_line_per_bar_and_the_agreement(
    tmp_path: Path, render: str, name: str
) -> None:
    text, _ = _compose(tmp_path, "t", "--explain", "--render", render)
    lines = text.splitlines()
    rows = [line for line in lines if re.match(r"\s+\d+\s+[-+]\d\.\d\d", line)]
    assert len(rows) == 4
    number = r"[-+]?\d\.\d\d"
    for row in rows:
        assert re.search(
            rf"{number} +{number} +{number} \w+ +[A-G]#? \w+ +\d+\.\d +{number} +{number} +"
            rf"{number} +{number} +(yes|no)  rules: melody",
            row,
        ), row
    assert lines[-1].startswith(f"listener ({LISTENER}, {name}")
    assert re.search(r"same quadrant in \d of 4 bars heard \(4 bars\); mean \|ΔV\|", lines[-1])


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="kelly")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code = args.func(args)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--json"], 2, "--json, --listener and --render go with --explain"),
        (["--listener", "x.onnx"], 2, "--json, --listener and --render go with --explain"),
        (["--render", "synth"], 2, "--json, --listener and --render go with --explain"),
        (["--explain", "--render", "piano"], 2, "unknown --render 'piano' (synth or fluidsynth)"),
        (["--explain", "--bars", "300"], 2, "--explain hears at most 256 bars, got 300"),
        (["--explain", "--listener", "nope.onnx"], 1, "nope.onnx: no such model file"),
        (
            ["--explain", "--listener", str(REPO / "models" / "transformer.onnx")],
            1,
            "not an emotion model",
        ),
        (["--explain", "--engine", "poetry"], 2, "unknown engine 'poetry'"),
    ],
)
def test_bad_explain_arguments_are_one_clear_line(
    extra: list[str], code: int, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["compose", *PAD, "--bars", "2", "-o", str(tmp_path / "x.mid"), *extra]
    got, err = _run(argv, capsys)
    assert got == code and message in err and err.count("\n") == 1


def test_a_silent_bar_has_no_reading_and_the_table_says_so() -> None:
    rate = explain.SAMPLE_RATE
    spans = [(0, 2 * rate), (2 * rate, 3 * rate)]
    readings = explain.listen(np.zeros(3 * rate, np.float32), spans, LISTENER)
    assert readings == [None, None]  # under the silence floor: confidence 0, as live
    bar = {"bar": 0, "start_s": 0.0, "key": "C ionian", "tempo": 120.0, "listener": None,
           "target": {"valence": 0.5, "arousal": 0.5, "dominance": 0.5, "nearest": "calm"},
           "writers": {"melody": "rules/melody"}, "silent": []}  # fmt: skip
    records = [{"bar": 0, "emotion": bar["target"], "sources": {"listener": None}}]
    report = {"listener_model": "m.onnx", "render": "r", "bars": [bar],
              "agreement": agreement([*records], "audio", window=1).to_dict()}  # fmt: skip
    lines = explain.table(report)
    assert lines[2].split()[8:] == ["-", "-", "-", "0.00", "-", "rules:", "melody"]
    assert lines[-1] == "listener (m.onnx, r): no reading — no listener reading"
