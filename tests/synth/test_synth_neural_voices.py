"""Neural DDSP voices in the Synth: block independence, crossfades, fallbacks, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from kelly_actors.synth.neural import NeuralTimbre, TimbreError
from kelly_actors.synth.voices import Synth
from training.ddsp.export import export_onnx
from training.ddsp.model import DDSPDecoder, ModelConfig

SR = 48_000


def _card(hidden: int) -> dict:
    return {
        "instrument": "testviolin",
        "runtime": {
            "hidden": hidden,
            "hop": 512,
            "sample_rate": SR,
            "db_at_127": -25.0,
            "db_per_velocity_db": 1.5,
        },
    }


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    """A real ONNX decoder exported by our own script (small, seeded weights) with its card."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("timbre") / "ddsp-testviolin.onnx"
    export_onnx(DDSPDecoder(ModelConfig(hidden=16)).eval(), path)
    path.with_suffix(".json").write_text(json.dumps(_card(16)))
    return path


def _play(timbre: NeuralTimbre | None, blocks: list[int]) -> np.ndarray:
    synth = Synth(SR, channels=1, n_voices=4, preset="strings", seed=3)
    if timbre is not None:
        synth.set_timbre(timbre, 0, fade_s=0.0)
    synth.note_on(700, 69, 100)
    synth.note_on(5000, 76, 80)
    synth.pitch_bend(9000, 1.0)  # semitones
    synth.note_off(20000, 69)
    synth.note_off(30001, 76)
    return np.concatenate([synth.render(n)[:, 0] for n in blocks])


def test_neural_voices_rendered_in_any_blocks_equal_one_long_render(model_path) -> None:
    timbre = NeuralTimbre.load(model_path)
    whole = _play(timbre, [48000])
    rng = np.random.default_rng(1)
    sizes = [int(n) for n in rng.integers(1, 600, 100)]
    sizes.append(48000 - sum(sizes))
    parts = _play(timbre, sizes)
    np.testing.assert_allclose(parts, whole, atol=1e-6)
    assert np.abs(whole[700:20000]).max() > 1e-4  # the neural voice sounds
    assert np.all(whole[:700] == 0.0)  # and not before its note-on sample


def test_neural_voice_is_silent_after_its_release_and_the_voice_is_freed(model_path) -> None:
    synth = Synth(SR, channels=1, n_voices=4, preset="strings")
    synth.set_timbre(NeuralTimbre.load(model_path), 0, fade_s=0.0)
    synth.note_on(0, 60, 100)
    synth.note_off(9600, 60)
    synth.render(9600)
    assert synth.neural_voices == 1
    tail = synth.render(48000)[:, 0]
    assert synth.active_voices == 0 and synth.neural_voices == 0
    assert np.all(tail[-1000:] == 0.0)


def _max_step(x: np.ndarray) -> float:
    return float(np.max(np.abs(np.diff(x))))


@pytest.mark.parametrize("direction", ["preset_to_neural", "neural_to_preset"])
def test_switching_timbre_under_a_held_note_crossfades_without_a_click(
    model_path, direction
) -> None:
    timbre = NeuralTimbre.load(model_path)
    synth = Synth(SR, channels=1, n_voices=4, preset="sine", master_gain=0.5)
    first, second = (None, timbre) if direction == "preset_to_neural" else (timbre, None)
    synth.set_timbre(first, 0, fade_s=0.0)
    synth.note_on(0, 57, 110)
    before = synth.render(24000)[:, 0]
    synth.set_timbre(second, 24000, fade_s=0.1)
    after = synth.render(24000)[:, 0]
    steady = max(_max_step(before[12000:]), _max_step(after[6000:]))
    # Stated click level: around the switch no step exceeds the steady sounds' largest step
    # plus 1 % of full scale.
    assert _max_step(np.concatenate([before[-100:], after[:6000]])) <= steady + 0.01
    assert synth.active_voices == 1
    assert (synth.neural_voices > 0) == (second is not None)


def test_a_decoder_that_fails_mid_note_fades_out_and_reports_why(model_path) -> None:
    timbre = NeuralTimbre.load(model_path)
    synth = Synth(SR, channels=1, n_voices=4, preset="strings")
    synth.set_timbre(timbre, 0, fade_s=0.0)
    synth.note_on(0, 64, 100)
    synth.render(4800)

    class Broken:
        def run(self, *_args, **_kw):
            raise RuntimeError("session lost")

    timbre._session = Broken()
    out = synth.render(4800)[:, 0]
    assert synth.timbre_error == "RuntimeError: session lost"
    assert np.all(np.isfinite(out))
    assert np.all(out[-512:] == 0.0)  # faded to silence within one frame


def test_a_missing_model_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(TimbreError, match="does not exist"):
        NeuralTimbre.load(tmp_path / "ddsp-nothing.onnx")


def test_a_model_without_its_card_is_refused(tmp_path, model_path) -> None:
    lone = tmp_path / "ddsp-lone.onnx"
    lone.write_bytes(model_path.read_bytes())
    with pytest.raises(TimbreError, match="no card"):
        NeuralTimbre.load(lone)


def test_a_corrupt_model_file_is_refused_with_the_reason(tmp_path) -> None:
    bad = tmp_path / "ddsp-bad.onnx"
    bad.write_bytes(b"not an onnx graph")
    bad.with_suffix(".json").write_text(json.dumps(_card(16)))
    with pytest.raises(TimbreError, match="cannot be loaded"):
        NeuralTimbre.load(bad)


def test_a_card_whose_state_size_disagrees_with_the_graph_is_refused(tmp_path, model_path) -> None:
    wrong = tmp_path / "ddsp-wrong.onnx"
    wrong.write_bytes(model_path.read_bytes())
    wrong.with_suffix(".json").write_text(json.dumps(_card(8)))
    with pytest.raises(TimbreError, match="probe frame"):
        NeuralTimbre.load(wrong)


def test_note_loudness_follows_velocity_and_envelope_from_the_card(model_path) -> None:
    timbre = NeuralTimbre.load(model_path)
    loud = timbre.note_loudness_db(np.array([127, 127, 64, 127]), np.array([1.0, 0.5, 1.0, 0.0]))
    assert loud[0] == pytest.approx(-25.0)
    assert loud[1] == pytest.approx(-25.0 + 20 * np.log10(0.5))
    assert loud[2] == pytest.approx(-25.0 + 1.5 * 20 * np.log10(64 / 127))
    assert loud[3] == -90.0
