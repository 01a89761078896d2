"""The `kelly compose` and `kelly emotions` subcommands through `register`."""

from __future__ import annotations

import argparse
import json
import statistics

import mido
import pytest

from kelly_actors.cli.compose import register


def _run(argv, capsys):
    parser = argparse.ArgumentParser(prog="kelly")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def _tempos(path):
    return [mido.tempo2bpm(m.tempo) for m in mido.MidiFile(path).tracks[0] if m.type == "set_tempo"]


def _velocities(path):
    mid = mido.MidiFile(path)
    return [m.velocity for t in mid.tracks for m in t if m.type == "note_on" and m.velocity]


def test_neutral_pad_gives_120_bpm_and_mean_velocity_near_93_5(tmp_path, capsys):
    out_file = tmp_path / "n.mid"
    code, out, _ = _run(
        ["compose", "--pad", "0", "0.5", "0.5", "--bars", "8", "-o", str(out_file)], capsys
    )
    assert code == 0
    assert "wrote" in out
    assert _tempos(out_file) == [pytest.approx(120.0)]
    assert abs(statistics.mean(_velocities(out_file)) - 93.5) <= 4


def test_text_with_a_desire_composes_a_journey(tmp_path, capsys):
    out_file = tmp_path / "t.mid"
    argv = ["compose", "I feel grief but I want to find peace", "--bars", "16", "-o", str(out_file)]
    code, out, _ = _run(argv, capsys)
    assert code == 0
    assert "transform" in out
    tempos = _tempos(out_file)
    assert tempos[0] != tempos[-1]


def test_named_emotion_with_goal_and_strategy(tmp_path, capsys):
    out_file = tmp_path / "e.mid"
    argv = ["compose", "--emotion", "rage", "--to", "peace", "--strategy", "soothe"]
    code, out, _ = _run([*argv, "--bars", "8", "--seed", "3", "-o", str(out_file)], capsys)
    assert code == 0
    assert "soothe" in out
    assert out_file.stat().st_size > 0


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["--emotion", "nope"], 2, "unknown emotion"),
        (["--pad", "2", "0.5", "0.5"], 2, "out of range"),
        (["--pad", "x", "0.5", "0.5"], 2, "three numbers"),
        (["--emotion", "joy", "--strategy", "dance"], 2, "unknown strategy"),
        (["--emotion", "joy", "--pad", "0", "0", "0"], 2, "exactly one"),
        ([], 2, "exactly one"),
        (["--emotion", "joy", "--to", "qwerty"], 2, "no emotion recognised"),
    ],
)
def test_bad_input_is_one_line_on_stderr(argv, code, words, tmp_path, capsys):
    result, _out, err = _run(
        ["compose", *argv, "--bars", "4", "-o", str(tmp_path / "x.mid")], capsys
    )
    assert result == code
    assert words in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("bars", ["0", "-3", "four"])
def test_bars_must_be_a_positive_integer(bars, tmp_path, capsys):
    argv = ["compose", "--emotion", "joy", "--bars", bars, "-o", str(tmp_path / "x.mid")]
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert "--bars" in err


def test_unwritable_output_exits_1(tmp_path, capsys):
    target = tmp_path / "missing" / "x.mid"
    code, _, err = _run(["compose", "--emotion", "joy", "--bars", "2", "-o", str(target)], capsys)
    assert code == 1
    assert "cannot write" in err
    assert err.count("\n") == 1


def test_emotions_json_lists_all_72_with_coordinates_and_family(capsys):
    code, out, _ = _run(["emotions", "--json"], capsys)
    rows = json.loads(out)
    assert code == 0
    assert len(rows) == 72
    assert {"name", "valence", "arousal", "dominance", "family"} <= set(rows[0])


def test_emotions_table_has_a_row_per_emotion(capsys):
    code, out, _ = _run(["emotions"], capsys)
    assert code == 0
    assert len(out.strip().splitlines()) == 73
    assert "grief" in out
