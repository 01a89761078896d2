"""The rule composer's training pieces for the transformer: written in major or minor only
(``rule_tonal``) and kept only when their notes hold the key their bar lines name
(``rule_key_filter``), with the Krumhansl–Kessler key finder both use."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kelly_actors.music.notes import Note
from kelly_actors.music.theory import MODES, mode_for
from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.tokens import Bar, decode
from training.transformer import dataset
from training.transformer.dataset import DataConfig, build
from training.transformer.metrics import key_of
from training.transformer.rules_data import holds_its_key, rule_piece

C_MAJOR = V.key_index(0, "major")
A_MINOR = V.key_index(9, "minor")


def bar_of(pitches: list[int], key: int | None, beats: float = 1.0) -> Bar:
    notes = tuple(
        Note(pitch=p, velocity=80, start_beat=i * beats, duration_beats=beats, track="pad")
        for i, p in enumerate(pitches)
    )
    return Bar(100.0, notes, key)


def test_the_key_finder_names_tonic_and_mode() -> None:
    assert key_of([bar_of([60, 64, 67, 60, 65, 62, 71, 60], None)]) == (0, "major")
    assert key_of([bar_of([57, 60, 64, 57, 62, 59, 68, 57], None)]) == (9, "minor")
    assert key_of([bar_of([], None)]) is None


def test_a_piece_holds_its_key_only_when_its_notes_find_the_key_its_bar_lines_name() -> None:
    tonic_major = [60, 64, 67, 60, 65, 62, 71, 60]
    assert holds_its_key((bar_of(tonic_major, C_MAJOR),))
    assert not holds_its_key((bar_of(tonic_major, A_MINOR),))
    assert not holds_its_key((bar_of([], C_MAJOR),))


def test_tonal_rule_pieces_keep_every_note_to_the_major_or_minor_scale_of_their_key() -> None:
    modes = set()
    for seed in range(40):
        piece = rule_piece(seed, 4, np.random.default_rng(seed), tonal=True)
        modes.add(mode_for(piece.valence))
        for bar in piece.bars:
            tonic, mode = V.key_of(bar.key)
            scale = {(tonic + s) % 12 for s in MODES["ionian" if mode == "major" else "aeolian"]}
            assert {n.pitch % 12 for n in bar.notes if n.track != "drums"} <= scale
    # The mapper's outer modes (a raised fourth, a flat second) were among those rewritten.
    assert {"lydian", "phrygian"} <= modes


def test_the_key_filter_keeps_only_rule_pieces_that_hold_their_key(tmp_path: Path) -> None:
    cfg = DataConfig(
        corpus_pieces=1, rule_pieces=12, rule_bars=4, transpositions=(0,), tempo_factors=(1.0,),
        parallel=False, rule_tonal=True, rule_key_filter=True,
    )  # fmt: skip
    build(cfg, tmp_path)
    data = np.load(tmp_path / "data.npz")
    rules = np.flatnonzero(data["source"] == 1)
    assert len(rules) == 12
    for i in rules:
        tokens = data["tokens"][data["starts"][i] : data["starts"][i + 1]].astype(np.int64)
        assert holds_its_key(decode(tokens))
    summary = json.loads((tmp_path / "data.json").read_text())
    assert summary["rule_pieces_composed"] >= 12
    assert summary["config"]["rule_key_filter"] is True


def test_a_key_filter_that_keeps_too_few_pieces_stops_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset, "holds_its_key", lambda bars: False)
    cfg = DataConfig(
        corpus_pieces=1, rule_pieces=2, rule_bars=2, transpositions=(0,), tempo_factors=(1.0,),
        parallel=False, rule_key_filter=True,
    )  # fmt: skip
    with pytest.raises(dataset.TooFewRulePieces, match="hold their key"):
        build(cfg, tmp_path)
    assert not (tmp_path / "data.npz").exists()


def test_kelly_train_transformer_says_why_when_too_few_rule_pieces_hold_their_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from training.transformer.__main__ import main

    monkeypatch.setattr(dataset, "holds_its_key", lambda bars: False)
    assert main(["--quick", "--work", str(tmp_path), "--model", str(tmp_path / "m.onnx")]) == 1
    assert "hold their key" in capsys.readouterr().err
    assert not (tmp_path / "data.npz").exists()
