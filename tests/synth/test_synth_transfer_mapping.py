"""Timbre transfer, offline: feature frame → decoder controls, alignment, hop conversion, audio."""

from __future__ import annotations

import numpy as np
import pytest
from performance import REPO
from transfer_support import SR, glide

from kelly_actors.audio.features.extractor import FeatureExtractor, extract
from kelly_actors.bus import frames as L
from kelly_actors.synth.actor import SynthConfig
from kelly_actors.synth.neural import NeuralTimbre
from kelly_actors.synth.presets import PRESETS
from kelly_actors.synth.transfer import ControlTrack, FrameMapper, TransferParams, TransferVoice

BLOCK = 256
LOOKAHEAD = 4


def _cents(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 1200.0 * np.abs(np.log2(a / b))


def test_a_voiced_frame_passes_its_pitch_and_clipped_loudness_to_the_decoder() -> None:
    mapper = FrameMapper(TransferParams())
    assert mapper.map(330.0, 0.9, -20.0) == (330.0, -20.0, True)
    assert mapper.map(330.0, 0.9, -120.0) == (330.0, -90.0, True)
    assert mapper.map(330.0, 0.9, 3.0) == (330.0, 0.0, True)


def test_an_unvoiced_or_unsure_frame_holds_the_last_pitch_and_fades_to_the_floor() -> None:
    params = TransferParams(fade_db=6.0, min_confidence=0.5)
    mapper = FrameMapper(params)
    mapper.map(440.0, 0.9, -20.0)
    assert mapper.map(0.0, 0.1, -20.0) == (440.0, -26.0, False)
    assert mapper.map(500.0, 0.3, -20.0) == (440.0, -32.0, False)  # confidence below 0.5
    assert mapper.map(0.0, 0.0, -60.0) == (440.0, -60.0, False)  # never above the input
    levels = [mapper.map(0.0, 0.0, -10.0)[1] for _ in range(10)]
    assert levels[-1] == -90.0 and all(np.diff(levels) <= 0)


def test_before_any_voiced_frame_the_idle_pitch_is_held_at_the_floor() -> None:
    mapper = FrameMapper(TransferParams(idle_f0_hz=220.0))
    assert mapper.map(0.0, 0.0, -30.0) == (220.0, -90.0, False)


def test_frames_land_on_the_decoder_grid_at_their_window_centre_plus_a_fixed_delay() -> None:
    params = TransferParams(slack=256)
    track = ControlTrack(params)
    committed = 10_000
    first = track.add(7_000, 300.0, -20.0, committed)
    assert first % 512 == 0 and first > committed + 256
    assert first - (7_000 + 1024) == track.delay
    knots = [track.add(7_000 + 512 * k, 300.0 + k, -20.0, committed) for k in range(1, 5)]
    assert np.diff([first, *knots]).tolist() == [512] * 4  # one decoder frame per feature hop
    assert track.late == 0 and track.frames == 5
    grid = np.array(knots, np.float64)
    np.testing.assert_allclose(track.pitch_at(grid), [301.0, 302.0, 303.0, 304.0])
    # Before the first knot the voice rises from the floor over one feature hop.
    assert track.loudness_at(np.array([first - 512.0]))[0] == params.floor_db
    assert track.loudness_at(np.array([first - 256.0]))[0] == pytest.approx(-55.0)


def test_a_coarser_or_finer_feature_hop_is_interpolated_linearly_onto_the_decoder_frames() -> None:
    track = ControlTrack(TransferParams(feature_hop=1024, decoder_hop=512, slack=0))
    k0 = track.add(0, 200.0, -30.0, 0)
    k1 = track.add(1024, 400.0, -10.0, 0)
    assert k1 - k0 == 1024
    mid = np.array([k0 + 512.0])  # a decoder frame between two feature frames
    assert track.pitch_at(mid)[0] == pytest.approx(300.0)
    assert track.loudness_at(mid)[0] == pytest.approx(-20.0)

    fine = ControlTrack(TransferParams(feature_hop=256, decoder_hop=512, slack=0))
    times = [fine.add(256 * k, 200.0 + k, -20.0, 0) for k in range(4)]
    assert np.diff(times).tolist() == [256] * 3  # knots every 256 samples, not all on the grid
    assert fine.pitch_at(np.array([float(times[2])]))[0] == pytest.approx(202.0)


def test_after_the_last_frame_the_pitch_holds_and_the_loudness_fades_per_hop() -> None:
    track = ControlTrack(TransferParams(fade_db=6.0, slack=0))
    k = track.add(0, 250.0, -20.0, 0)
    assert track.pitch_at(np.array([k + 5000.0]))[0] == 250.0
    assert track.loudness_at(np.array([k + 1024.0]))[0] == pytest.approx(-32.0)
    assert track.loudness_at(np.array([k + 512.0 * 40]))[0] == -90.0


def test_a_late_frame_moves_the_delay_by_whole_decoder_hops_until_silence_brings_it_back() -> None:
    track = ControlTrack(TransferParams(slack=0))
    k0 = track.add(0, 300.0, -20.0, 0)
    delay = track.delay
    k1 = track.add(512, 300.0, -20.0, committed=k0 + 700)  # the decoder already passed k0 + 512
    assert k1 > k0 + 700 and (k1 - k0) % 512 == 0
    assert track.late == 1 and track.delay - delay == k1 - k0 - 512
    assert track.add(0, 300.0, -20.0, 0) is None and track.dropped == 1  # older than the last
    # Silent frames: once only silence lies ahead of what is fixed, the shortest delay returns.
    # (the stall is over: the render position is back where it was relative to the input)
    for k in range(2, 40):
        track.add(512 * k, 300.0, -90.0, committed=512 * k)
    assert track.recovered == 1 and track.delay == delay


def test_the_latency_is_observed_when_the_block_holding_a_frames_first_sample_is_written() -> None:
    track = ControlTrack(TransferParams(slack=0))
    knot = track.add(1_000, 300.0, -20.0, 4_000)
    track.observe(0, 256)
    assert track.latency is None
    start = knot - 512 + 1
    track.observe(start - start % 256, 256)
    assert track.latency == start - 1_000


def _live_offline(signal: np.ndarray, voice: TransferVoice, tail_s: float = 0.5) -> np.ndarray:
    """The live path in one process: input blocks → features → transfer voice rendered
    ``LOOKAHEAD`` blocks ahead of the callback, as the audio, features and synth actors do."""
    n = signal.size + round(tail_s * SR)
    n -= n % BLOCK
    padded = np.zeros(n, np.float32)
    padded[: signal.size] = signal
    out = np.zeros(n + (LOOKAHEAD + 1) * BLOCK)
    fx = FeatureExtractor(SR, 2048, 512, start_time=0)
    render = LOOKAHEAD * BLOCK
    for clock in range(0, n, BLOCK):
        for start, v in fx.process(padded[clock : clock + BLOCK]):
            voice.push(start, float(v[L.F0_HZ]), float(v[L.F0_CONFIDENCE]),
                       float(v[L.LOUDNESS_DB]), render)  # fmt: skip
        while render < clock + BLOCK + LOOKAHEAD * BLOCK:
            out[render : render + BLOCK] = voice.render(render, BLOCK)
            render += BLOCK
    return out[:n]


@pytest.fixture(scope="module")
def violin() -> NeuralTimbre:
    return NeuralTimbre.load(REPO / "models/ddsp-violin.onnx")


@pytest.mark.parametrize("with_timbre", [True, False], ids=["violin", "preset-fallback"])
def test_the_transfer_voice_follows_a_sung_glide_within_25_cents(violin, with_timbre) -> None:
    signal, _ = glide(1.5, 220.0, 330.0, level=0.25, lead_s=0.2)
    voice = TransferVoice(TransferParams(), violin if with_timbre else None, PRESETS["strings"])
    out = _live_offline(signal, voice)
    _, fin = extract(np.pad(signal, (0, out.size - signal.size)), SR, 2048, 512)
    _, fout = extract(out.astype(np.float32), SR, 2048, 512)
    lag = voice.track.delay // 512  # output frame j ↔ input frame j − lag (delay is on the grid)
    j = np.arange(lag, min(len(fin) + lag, len(fout)))
    i = j - lag
    both = (fin[i, L.F0_HZ] > 0) & (fout[j, L.F0_HZ] > 0) & (fin[i, L.LOUDNESS_DB] > -30)
    assert both.sum() > 100  # ≥ 1 s of the 1.5 s glide is voiced on both sides
    errors = _cents(fout[j[both], L.F0_HZ], fin[i[both], L.F0_HZ])
    assert np.median(errors) < 25.0 and np.percentile(errors, 90) < 50.0
    assert np.max(np.abs(out)) > 0.01
    assert voice.track.late == 0
    # latency = half window + delay − one decoder hop + 1 (the knot's span start)
    assert voice.track.latency == 1024 + voice.track.delay - 511
    # Silence after the glide: the voice fades out instead of holding the last note.
    assert np.max(np.abs(out[-SR // 10 :])) < 1e-3


def test_the_synth_refuses_an_unknown_mode_and_defaults_to_notes() -> None:
    assert SynthConfig().mode == "notes"
    with pytest.raises(ValueError, match="mode must be one of notes, transfer"):
        SynthConfig(mode="karaoke")
