"""Neural DDSP voices on one core: how many render in real time, and what a decoder frame costs.

* ``neural_voices_realtime``: held notes through :class:`kelly_actors.synth.voices.Synth` with
  a shipped timbre (``models/ddsp-violin.onnx``) loaded, 48 kHz stereo, 256-frame blocks (the
  live block), at two voice counts; ``cpu_s_per_audio_s = a + b · voices`` is fitted and the
  voice count where it reaches 1.0 reported (target ≥ 8 with 2× headroom, i.e. ≥ 16).
* ``decoder_us_per_frame``: one onnxruntime call decoding a frame for 8 voices (the live call
  batches all neural voices), and the same per voice.
* ``transfer_latency_ms``: timbre transfer, input onset → output onset. A harmonic tone
  (330 Hz) steps on after silence; the live path runs in one process with its real timing
  (256-sample callback blocks, the features actor's 2048/512 analysis, the synth rendering
  ``lookahead_blocks`` = 4 blocks ahead, one block of slack) and the onsets are where the
  short-time RMS (64-sample windows) first reaches 10 % of its steady level, in input and
  output. ``transfer_latency_ms_status`` is the figure the synth reports in status (window
  start → first output sample the frame shapes; it includes the whole window, so it is larger).
* ``ratio_vs_torch``: the torch decoder's ``step`` (same architecture and sizes, eager mode,
  one thread) for the same batch, measured in the same run, divided by onnxruntime's.

CPU time (``time.process_time``) is measured, so other processes on the machine slow the wall
clock but not the figures. Usage: ``python benchmarks/ddsp.py [--quick] [--model PATH]``; the
last line is one JSON object.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kelly_actors.synth.neural import NeuralTimbre  # noqa: E402
from kelly_actors.synth.voices import Synth  # noqa: E402

SR = 48_000
BLOCK = 256
BATCH = 8
TARGET_VOICES = 8


def voice_cost(timbre: NeuralTimbre, n_voices: int, seconds: float) -> float:
    """CPU seconds per second of audio for ``n_voices`` held neural voices."""
    synth = Synth(SR, channels=2, n_voices=n_voices, preset="strings", max_block=BLOCK)
    synth.set_timbre(timbre, 0, fade_s=0.0)
    for i in range(n_voices):
        synth.note_on(0, 55 + (i * 5) % 30, 100, channel=i % 4)
    synth.render(BLOCK * 8)
    n_blocks = int(seconds * SR / BLOCK)
    out = np.empty((BLOCK, 2), np.float32)
    t0 = time.process_time()
    for _ in range(n_blocks):
        synth.render(BLOCK, out=out)
    return (time.process_time() - t0) / (n_blocks * BLOCK / SR)


def onnx_us(timbre: NeuralTimbre, calls: int) -> float:
    f0, loud = np.full(BATCH, 440.0), np.full(BATCH, -25.0)
    state = np.zeros((BATCH, timbre.hidden), np.float32)
    for _ in range(20):
        timbre.decode(f0, loud, (0.0, 0.5, 0.5), state)
    t0 = time.process_time()
    for _ in range(calls):
        _, _, _, state = timbre.decode(f0, loud, (0.0, 0.5, 0.5), state)
    return (time.process_time() - t0) / calls * 1e6


def torch_us(hidden: int, calls: int) -> float:
    import torch

    from training.ddsp.model import DDSPDecoder, ModelConfig

    torch.set_num_threads(1)
    model = DDSPDecoder(ModelConfig(hidden=hidden)).eval()
    f0, loud = torch.full((BATCH, 1), 440.0), torch.full((BATCH, 1), -25.0)
    emo, state = torch.tensor([[0.0, 0.5, 0.5]] * BATCH), torch.zeros(BATCH, hidden)
    with torch.inference_mode():
        for _ in range(20):
            model.step(f0, loud, emo, state)
        t0 = time.process_time()
        for _ in range(calls):
            _, _, _, state = model.step(f0, loud, emo, state)
    return (time.process_time() - t0) / calls * 1e6


def transfer_latency(timbre: NeuralTimbre, lookahead: int = 4) -> tuple[float, float]:
    """``(onset latency ms, status latency ms)`` of the transfer path on a loudness step."""
    from kelly_actors.audio.features.extractor import FeatureExtractor
    from kelly_actors.bus import frames as L
    from kelly_actors.synth.presets import PRESETS
    from kelly_actors.synth.transfer import TransferParams, TransferVoice

    onset, n = SR // 2 + 77, SR
    t = np.arange(n - onset) / SR
    signal = np.zeros(n, np.float32)
    signal[onset:] = sum(0.2 / k * np.sin(2 * np.pi * 330.0 * k * t) for k in range(1, 6))
    voice = TransferVoice(TransferParams(slack=BLOCK), timbre, PRESETS["strings"])
    fx = FeatureExtractor(SR, 2048, 512, start_time=0)
    out = np.zeros(n + (lookahead + 1) * BLOCK)
    render = lookahead * BLOCK
    for clock in range(0, n, BLOCK):  # one audio callback: input block in, output block out
        for start, v in fx.process(signal[clock : clock + BLOCK]):
            voice.push(start, float(v[L.F0_HZ]), float(v[L.F0_CONFIDENCE]),
                       float(v[L.LOUDNESS_DB]), render)  # fmt: skip
        while render < clock + BLOCK + lookahead * BLOCK:  # the synth refills its look-ahead
            out[render : render + BLOCK] = voice.render(render, BLOCK)
            render += BLOCK

    def onset_of(x: np.ndarray) -> int:
        rms = np.sqrt(np.mean(x[: x.size // 64 * 64].reshape(-1, 64) ** 2, axis=1))
        steady = np.median(rms[-(SR // 64) // 4 :])
        return int(np.argmax(rms >= 0.1 * steady)) * 64

    onset_ms = (onset_of(out[:n]) - onset_of(signal)) / SR * 1e3
    return onset_ms, voice.track.latency / SR * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--model", type=Path, default=Path("models/ddsp-violin.onnx"))
    args = parser.parse_args()
    seconds = 1.0 if args.quick else 4.0
    calls = 300 if args.quick else 2000
    timbre = NeuralTimbre.load(args.model)
    counts = (4, 12)
    costs = [voice_cost(timbre, n, seconds) for n in counts]
    slope = (costs[1] - costs[0]) / (counts[1] - counts[0])
    intercept = costs[0] - slope * counts[0]
    realtime = (1.0 - intercept) / slope if slope > 0 else float("inf")
    ort_call = onnx_us(timbre, calls)
    torch_call = torch_us(timbre.hidden, calls)
    transfer_ms, transfer_status_ms = transfer_latency(timbre)
    result = {
        "benchmark": "ddsp",
        "model": str(args.model),
        "sample_rate": SR,
        "block": BLOCK,
        "cpu_s_per_audio_s": {str(n): round(c, 4) for n, c in zip(counts, costs, strict=True)},
        "neural_voices_realtime": round(realtime, 1),
        "target_voices": TARGET_VOICES,
        "meets_target_with_2x_headroom": realtime >= 2 * TARGET_VOICES,
        "decoder_us_per_frame": round(ort_call, 1),
        "decoder_batch": BATCH,
        "decoder_us_per_voice_frame": round(ort_call / BATCH, 2),
        "torch_us_per_frame": round(torch_call, 1),
        "ratio_vs_torch": round(torch_call / ort_call, 2),
        "transfer_latency_ms": round(transfer_ms, 2),
        "transfer_latency_ms_status": round(transfer_status_ms, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
