"""ONNX export of the streaming decoder (one frame, recurrent state in and out) and the
torch ↔ onnxruntime parity check.

Graph inputs (B = voices, dynamic): ``f0_hz`` float32 ``(B, 1)`` Hz, ``loudness_db`` float32
``(B, 1)`` dBFS, ``emotion`` float32 ``(B, 3)`` (valence, arousal, dominance), ``state``
float32 ``(B, H)``. Outputs: ``amplitude`` ``(B, 1)``, ``harmonic_distribution`` ``(B, 64)``
(sums to 1, tilted by valence), ``noise_magnitudes`` ``(B, 65)`` linear band gains 0 Hz…Nyquist,
``state_out`` ``(B, H)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from training.ddsp.model import DDSPDecoder, StreamingDecoder
from training.onnx_export import export_bytes, write_model

INPUTS = ("f0_hz", "loudness_db", "emotion", "state")
OUTPUTS = ("amplitude", "harmonic_distribution", "noise_magnitudes", "state_out")


def export_onnx(model: DDSPDecoder, path: Path) -> None:
    """Write the streaming decoder to ``path`` (atomically)."""
    h = model.cfg.hidden
    args = (
        torch.full((2, 1), 440.0),
        torch.full((2, 1), -30.0),
        torch.tensor([[0.0, 0.5, 0.5]] * 2),
        torch.zeros(2, h),
    )
    dynamic = {name: {0: "voices"} for name in (*INPUTS, *OUTPUTS)}
    data = export_bytes(StreamingDecoder(model), args, INPUTS, OUTPUTS, dynamic_axes=dynamic)
    write_model(path, data)


def parity(
    model: DDSPDecoder, path: Path, frames: int = 64, voices: int = 3, seed: int = 0
) -> float:
    """Max |torch − onnxruntime| over every output of ``frames`` streamed frames for
    ``voices`` voices (state carried by each side), against the torch *sequence* forward."""
    import onnxruntime as ort

    rng = np.random.default_rng(seed)
    f0 = (220.0 * 2.0 ** rng.uniform(0, 2, (voices, frames))).astype(np.float32)
    loud = rng.uniform(-80, -10, (voices, frames)).astype(np.float32)
    emo = np.column_stack([rng.uniform(-1, 1, voices), rng.uniform(0, 1, (voices, 2))])
    emo = emo.astype(np.float32)
    with torch.no_grad():
        amp, dist, noise, _ = model(
            torch.from_numpy(f0), torch.from_numpy(loud), torch.from_numpy(emo)
        )
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    state = np.zeros((voices, model.cfg.hidden), np.float32)
    worst = 0.0
    for t in range(frames):
        a, d, n, state = sess.run(
            None,
            {
                "f0_hz": f0[:, t : t + 1],
                "loudness_db": loud[:, t : t + 1],
                "emotion": emo,
                "state": state,
            },
        )
        worst = max(
            worst,
            float(np.abs(a[:, 0] - amp[:, t].numpy()).max()),
            float(np.abs(d - dist[:, t].numpy()).max()),
            float(np.abs(n - noise[:, t].numpy()).max()),
        )
    return worst
