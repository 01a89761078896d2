"""The notes reader: the listener's reference that hears the exact notes of each clip."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from training.emotion.notes_reader import fit_reader, main, note_shares, r2_with_interval, read
from training.emotion.performances import Performance, PlayedNote


def _played(pitches: list[int], seconds: list[float]) -> Performance:
    pairs = enumerate(zip(pitches, seconds, strict=True))
    notes = tuple(PlayedNote(float(i), d, p, 80) for i, (p, d) in pairs)
    return Performance("test", "composer", (0.5, 0.5, 0.5), notes, float(len(notes)))


def test_note_shares_weigh_pitch_classes_by_duration_from_the_best_diatonic_collection() -> None:
    # A minor on the white keys (F and B name the collection), A held longest; read from C
    # (the collection's 0), A is 9. The three notes below the median (F) are the bass.
    pitches, seconds = [57, 60, 64, 65, 69, 71, 74], [1.0, 0.5, 0.5, 0.5, 2.0, 0.5, 0.5]
    shares = note_shares(_played(pitches, seconds))
    assert shares.shape == (24,) and shares.dtype == np.float32
    assert shares[:12].sum() == pytest.approx(1.0) and shares[12:].sum() == pytest.approx(1.0)
    assert shares[9] == pytest.approx(3.0 / 5.5)
    assert shares[12 + 9] == pytest.approx(1.0 / 2.0) and shares[12 + 0] == pytest.approx(0.5 / 2.0)
    assert not shares[[1, 3, 6, 8, 10]].any()


def test_note_shares_do_not_change_when_the_clip_is_transposed() -> None:
    pitches = [62, 65, 69, 71, 72, 74, 76, 79]
    seconds = [1.0, 0.25, 0.5, 0.25, 0.5, 2.0, 0.5, 0.25]
    here = note_shares(_played(pitches, seconds))
    for shift in (1, 5, 11):
        moved = note_shares(_played([p + shift for p in pitches], seconds))
        np.testing.assert_allclose(moved, here, atol=1e-7)


def test_a_clip_without_notes_reads_as_all_zero_shares() -> None:
    empty = Performance("test", "composer", (0.0, 0.5, 0.5), (), 6.0)
    assert not note_shares(empty).any()


def test_the_reader_learns_a_valence_the_shares_carry(monkeypatch) -> None:
    from training.emotion import notes_reader

    monkeypatch.setattr(notes_reader, "STEPS", 400)
    rng = np.random.default_rng(0)
    x = rng.dirichlet(np.ones(24), 200).astype(np.float32)
    valence = np.tanh(8.0 * (x[:, 0] - x[:, 9])).astype(np.float32)
    # One thread, as the command runs it: a second one only waits on a busy machine.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        net = fit_reader(x[:150], valence[:150], seed=0)
    finally:
        torch.set_num_threads(threads)
    pred = read(net, x[150:])
    assert r2_with_interval(pred, valence[150:].astype(np.float64))[0] > 0.8


def test_r2_with_interval_gives_the_point_inside_its_bootstrap_interval() -> None:
    truth = np.linspace(-1.0, 1.0, 40)
    noisy = truth + np.random.default_rng(1).normal(0.0, 0.3, 40)
    point, low, high = r2_with_interval(noisy, truth)
    assert low <= point <= high < 1.0
    assert r2_with_interval(truth, truth) == [1.0, 1.0, 1.0]


def test_the_command_refuses_zero_takes_before_any_work(capsys) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["--takes", "0"])
    assert refused.value.code == 2
    assert "--takes and --readers must be at least 1" in capsys.readouterr().err


def test_the_command_prints_held_out_valence_figures_as_json(monkeypatch, capsys) -> None:
    from training.emotion import notes_reader
    from training.emotion.dataset import DataConfig

    small = DataConfig(
        corpus_pieces=6, composer_pieces=6, takes=1, seconds=2.0, val_instruments=2, seed=3
    )
    monkeypatch.setattr(notes_reader, "DataConfig", lambda seed: small)
    monkeypatch.setattr(notes_reader, "STEPS", 20)
    assert main(["--takes", "2", "--readers", "2"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["takes"] == 2 and result["readers"] == 2 and result["train_clips"] > 0
    for split in ("val", "test"):
        _, low, high = result[split]["valence_r2"]
        assert result[split]["clips"] > 0 and low <= high
        assert 0.0 <= result[split]["valence_sign"] <= 1.0
