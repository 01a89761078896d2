"""torch ↔ onnxruntime parity of the hand-written ONNX export, streaming and batched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kelly_actors.inference.model import MAX_FRAMES_PER_CALL, EmotionModel
from training.emotion.export import model_bytes
from training.emotion.model import SLOW_ALPHA, EmotionNet, slow_chroma

#: float32 through 30–40 LSTM steps with doubled weights: torch's GEMM picks its
#: blocking (so its summation order) by the threads it gets, which a busy machine
#: changes; 3.6e-5 apart was seen under load. A wrong gate or weight is off by 0.1.
PARITY_ATOL = 2e-4


@pytest.fixture(scope="module", params=[False, True], ids=["frames", "slow-chroma"])
def net(request) -> EmotionNet:
    """The frame-only graph and the shipped one with the slow chroma in its state."""
    torch.manual_seed(3)
    mean, std = torch.randn(128) * 20, torch.rand(128) * 10 + 0.1
    net = EmotionNet(mean, std, slow=request.param)
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
