"""torch ↔ onnxruntime parity of the hand-written ONNX export, streaming and batched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kelly_actors.inference.model import MAX_FRAMES_PER_CALL, EmotionModel
from training.emotion.export import model_bytes
from training.emotion.model import (
    FRAME_RATE,
    N_TEMPO,
    N_TEMPO_STATE,
    SLOW_ALPHA,
    TEMPO_BPM,
    TEMPO_CYCLES,
    EmotionNet,
    beat_resonators,
    slow_chroma,
)

#: float32 through 30–40 LSTM steps with doubled weights: torch's GEMM picks its
#: blocking (so its summation order) by the threads it gets, which a busy machine
#: changes; 3.6e-5 apart was seen under load. A wrong gate or weight is off by 0.1.
PARITY_ATOL = 2e-4


@pytest.fixture(
    scope="module",
    params=[(False, False), (True, False), (True, True)],
    ids=["frames", "slow-chroma", "beat-resonators"],
)
def net(request) -> EmotionNet:
    """The frame-only graph, the one with the slow chroma in its state, and the one that
    carries the beat resonators too."""
    torch.manual_seed(3)
    mean, std = torch.randn(128) * 20, torch.rand(128) * 10 + 0.1
    slow, tempo = request.param
    net = EmotionNet(mean, std, slow=slow, tempo=tempo)
    with torch.no_grad():  # larger weights than the init, so every gate matters
        for p in net.parameters():
            p.mul_(2.0)
    return net.eval()


def test_onnx_matches_torch_on_a_batch_of_sequences(net) -> None:
    model = EmotionModel(model_bytes(net, "parity", 1), source="parity")
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((40, 3, 128)) * 20).astype(np.float32)
    h = (rng.standard_normal((1, 3, 128)) * 0.5).astype(np.float32)
    c = (rng.standard_normal((1, 3, 128)) * 0.5).astype(np.float32)
    with torch.no_grad():
        e_t, _, h_t, c_t = net(torch.from_numpy(x), torch.from_numpy(h), torch.from_numpy(c))
    e_o, h_o, c_o = model.run(x, h, c)
    for onnx_out, torch_out in ((e_o, e_t), (h_o, h_t), (c_o, c_t)):
        np.testing.assert_allclose(onnx_out, torch_out.numpy(), atol=PARITY_ATOL)


def test_streaming_one_frame_at_a_time_with_the_state_equals_one_torch_pass(net) -> None:
    model = EmotionModel(model_bytes(net, "parity", 1), source="parity")
    x = (np.random.default_rng(1).standard_normal((30, 1, 128)) * 20).astype(np.float32)
    with torch.no_grad():
        e_t, *_ = net(torch.from_numpy(x), *EmotionNet.zero_state(1))
    h = c = np.zeros((1, 1, 128), np.float32)
    rows = []
    for t in range(x.shape[0]):
        e, h, c = model.run(x[t : t + 1], h, c)
        rows.append(e[0, 0])
    np.testing.assert_allclose(np.stack(rows), e_t.numpy()[:, 0], atol=PARITY_ATOL)
    assert model.version == "parity"


def test_the_slow_chroma_is_the_frame_by_frame_moving_average() -> None:
    rng = np.random.default_rng(2)
    chroma = rng.random((50, 2, 12)).astype(np.float32)
    start = rng.random((2, 12)).astype(np.float32)
    expected, ema = [], start.astype(np.float64)
    for frame in chroma:
        ema = SLOW_ALPHA * ema + (1.0 - SLOW_ALPHA) * frame
        expected.append(ema)
    got = slow_chroma(torch.from_numpy(chroma), torch.from_numpy(start)).numpy()
    np.testing.assert_allclose(got, np.stack(expected), atol=1e-5)


def test_a_run_longer_than_one_call_equals_the_whole_sequence_at_once(net) -> None:
    model = EmotionModel(model_bytes(net, "parity", 1), source="parity")
    frames = 2 * MAX_FRAMES_PER_CALL + 37
    x = (np.random.default_rng(4).standard_normal((frames, 1, 128)) * 20).astype(np.float32)
    with torch.no_grad():
        e_t, _, h_t, _ = net(torch.from_numpy(x), *EmotionNet.zero_state(1))
    zero = np.zeros((1, 1, 128), np.float32)
    e_o, h_o, _ = model.run(x, zero, zero)
    assert e_o.shape == (frames, 1, 4)
    np.testing.assert_allclose(e_o, e_t.numpy(), atol=PARITY_ATOL)
    np.testing.assert_allclose(h_o, h_t.numpy(), atol=PARITY_ATOL)


def test_each_beat_resonator_is_the_frame_by_frame_complex_filter_on_the_onset_steps() -> None:
    rng = np.random.default_rng(5)
    onset = rng.random((120, 2)) * 6.0
    carry = rng.standard_normal((2, N_TEMPO_STATE)) * 0.1
    f = TEMPO_BPM.double().numpy() / 60.0
    omega = 2 * np.pi * f / FRAME_RATE
    rho = np.exp(-f / (TEMPO_CYCLES * FRAME_RATE))
    y = carry[:, 1 : 1 + N_TEMPO] + 1j * carry[:, 1 + N_TEMPO :]
    previous, expected = carry[:, 0], []
    for frame in onset:
        y = rho * np.exp(1j * omega) * y + (1 - rho) * (frame - previous)[:, None]
        previous = frame
        expected.append(np.abs(y) / (2 * np.sin(omega / 2)))
    got, last = beat_resonators(torch.from_numpy(onset), torch.from_numpy(carry))
    np.testing.assert_allclose(got.numpy(), np.stack(expected), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(last[:, 1 : 1 + N_TEMPO].numpy(), y.real, atol=1e-9)
    np.testing.assert_allclose(last[:, 0].numpy(), onset[-1])


def test_a_click_track_rings_the_resonator_of_its_tempo_loudest() -> None:
    onset = np.zeros((6 * 94, 1), np.float32)
    onset[:: round(FRAME_RATE * 60 / 120), 0] = 10.0  # 120 BPM
    magnitude, _ = beat_resonators(torch.from_numpy(onset), torch.zeros(1, N_TEMPO_STATE))
    loudest = float(TEMPO_BPM[int(magnitude[-1, 0].argmax())])
    assert loudest == pytest.approx(120.0, rel=0.06)


def test_a_crop_from_the_warm_carried_state_hears_what_the_whole_stream_heard() -> None:
    torch.manual_seed(6)
    net = EmotionNet(torch.zeros(128), torch.ones(128), slow=True, tempo=True).eval()
    x = torch.rand(90, 1, 128) * 10
    with torch.no_grad():
        _, _, h, c = net(x[:60], *EmotionNet.zero_state(1))
        carried = net.carried_sequence(x)
        h_warm, c_warm = net.warm_state(carried[59])
    tail = slice(net.hidden, None)
    torch.testing.assert_close(h_warm[..., tail], h[..., tail], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(c_warm[..., tail], c[..., tail], atol=1e-5, rtol=1e-5)
    assert not h_warm[..., : net.hidden].any()
