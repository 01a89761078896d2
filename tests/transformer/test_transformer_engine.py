"""The shipped model in use: hybrid bars keep the rules' other tracks, the transformer
engine writes every track, `kelly compose --engine`, and clear errors for a missing or
corrupt model file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kelly_actors.composer import midi_file
from kelly_actors.composer import transformer_engine as engine
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.mapper import map_emotion
from kelly_actors.composer.orchestrator import compose as compose_rules
from kelly_actors.transformer import generate
from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.generate import GenerationConfig, decoding_config
from kelly_actors.transformer.session import DEFAULT_MODEL, ModelError, StepSession

PARAMS = [map_emotion(PAD(0.6, 0.7, 0.5))] * 4


def test_the_shipped_model_exists_and_loads() -> None:
    session = StepSession()
    assert session.path == DEFAULT_MODEL
    assert session.info.layers >= 1 and session.info.max_len >= 256


def test_hybrid_rewrites_only_the_chosen_tracks_and_every_note_stays_in_its_bar() -> None:
    variation = engine.Variation(None, ("melody", "counter"), seed=3)
    hybrid = engine.compose(PARAMS, seed=3, variation=variation)
    rules = compose_rules(PARAMS, seed=3)
    others = lambda c: sorted(  # noqa: E731
        (n.track, n.pitch, n.start_beat) for n in c.notes if n.track not in ("melody", "counter")
    )
    assert others(hybrid) == others(rules)
    assert hybrid.notes_for("melody"), "the model wrote no melody at all"
    for n in hybrid.notes:
        bar = int(n.start_beat // 4)
        assert n.end_beat <= 4 * (bar + 1) + 1e-9


def test_the_same_seed_gives_the_same_hybrid_piece() -> None:
    pieces = [
        engine.compose(PARAMS, 5, engine.Variation(None, engine.DEFAULT_TRACKS, 5))
        for _ in range(2)
    ]
    assert pieces[0].notes == pieces[1].notes


def test_the_transformer_engine_writes_every_track_over_the_rules_bar_lines() -> None:
    tracks = engine.engine_tracks("transformer")
    piece = engine.compose(PARAMS, 1, engine.Variation(None, tracks, 1))
    assert len(piece.notes) > 0
    assert piece.tempo_changes[0].bpm == pytest.approx(PARAMS[0].tempo_bpm)


def test_a_missing_model_and_a_corrupt_model_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        StepSession(tmp_path / "none.onnx")
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(DEFAULT_MODEL.read_bytes()[:5000])
    with pytest.raises(ModelError, match="unusable"):
        StepSession(corrupt)


@pytest.mark.parametrize(
    ("engine_name", "tracks", "message"),
    [("jazz", None, "unknown engine"), ("hybrid", "melody,kazoo", "transformer tracks")],
)
def test_bad_engine_choices_are_refused(engine_name: str, tracks: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        engine.engine_tracks(engine_name, tracks.split(",") if tracks else engine.DEFAULT_TRACKS)


def run_compose(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kelly_actors.cli", "compose", "--pad", "-0.5", "0.4", "0.5"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)


def test_kelly_compose_with_the_hybrid_engine_writes_a_readable_midi_file(tmp_path: Path) -> None:
    out = tmp_path / "h.mid"
    done = run_compose("--bars", "3", "--engine", "hybrid", "--tracks", "melody", "-o", str(out))
    assert done.returncode == 0, done.stderr
    piece = midi_file.read(out)
    assert piece.bars == 3 and piece.notes_for("melody")


def test_kelly_compose_reports_a_missing_model_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "x.mid"
    done = run_compose(
        "--bars", "2", "--engine", "transformer", "--model", str(tmp_path / "no.onnx"),
        "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 1
    assert "transformer model not found" in done.stderr
    assert not out.exists()


def test_kelly_compose_refuses_an_unknown_engine_as_bad_input(tmp_path: Path) -> None:
    done = run_compose("--bars", "2", "--engine", "jazz", "-o", str(tmp_path / "x.mid"))
    assert done.returncode == 2 and "unknown engine 'jazz'" in done.stderr


def test_a_bar_costs_one_prompt_call_then_one_cached_step_per_note() -> None:
    variation = engine.Variation(None, ("melody",), seed=0)
    calls = []
    run = variation.generator.session.run
    variation.generator.session.run = lambda *a: calls.append(a[0].shape[1]) or run(*a)
    notes = compose_rules(PARAMS[:1], seed=0).notes
    new = variation.new_notes(0, list(notes), PARAMS[0])
    assert len(calls) == len(new) + 1
    assert calls[0] >= 1 and all(c == 1 for c in calls[1:])
    assert np.all([n.track == "melody" for n in new])


def test_kelly_compose_with_free_decoding_writes_every_track_from_the_model_alone(
    tmp_path: Path,
) -> None:
    out = tmp_path / "f.mid"
    done = run_compose(
        "--bars", "2", "--engine", "transformer", "--decoding", "free", "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert midi_file.read(out).bars == 2


def test_kelly_compose_refuses_an_unknown_decoding_as_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "x.mid"
    done = run_compose("--bars", "2", "--engine", "hybrid", "--decoding", "loose", "-o", str(out))
    assert done.returncode == 2 and "unknown decoding 'loose'" in done.stderr
    assert not out.exists()


def test_free_decoding_guides_the_key_field_by_its_own_weight() -> None:
    config = decoding_config("free")
    weights = config.field_guidance()
    assert weights[V.KEY] == config.key_guidance != config.guidance
    assert [w for f, w in enumerate(weights) if f != V.KEY] == [config.guidance] * (V.N_FIELDS - 1)
    assert GenerationConfig(guidance=2.0).field_guidance() == (2.0,) * V.N_FIELDS
    # Rows 0-1 conditional, 2-3 unconditional: unconditional + w · (conditional − unconditional).
    logits = [np.array([[1.0], [2.0], [0.0], [1.0]]), np.array([[3.0], [3.0], [1.0], [1.0]])]
    guided = generate._guided(logits, (2.0, 0.5), 2)
    assert np.array_equal(guided[0], [[2.0], [3.0]]) and np.array_equal(guided[1], [[2.0], [2.0]])


def test_free_decoding_adds_no_key_and_guides_with_an_unconditioned_row() -> None:
    config = decoding_config("free")
    assert not config.scale_aware and config.guidance > 1.0
    variation = engine.Variation(None, ("melody",), seed=0, config=config)
    batches = []
    run = variation.generator.session.run
    variation.generator.session.run = lambda *a: batches.append(a[1].copy()) or run(*a)
    notes = compose_rules(PARAMS[:1], seed=0).notes
    variation.new_notes(0, list(notes), PARAMS[0])
    # Every call pairs each conditioned row with an unconditioned one (NaN), also the
    # batch of 24 that reads the key of the rules' notes already in the bar.
    for e in batches:
        half = len(e) // 2
        assert len(e) == 2 * half and np.isnan(e[half:]).all() and not np.isnan(e[:half]).any()
    assert decoding_config("scale") == GenerationConfig()
