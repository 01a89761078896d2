"""Timbre-transfer test helpers: a synthetic sung line as a WAV and the live graph around it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from audio_support import live_graph_toml

from kelly_actors.audio.wav import WavWriter

SR = 48_000


def glide(seconds: float, f_start: float, f_end: float, level: float = 0.25, lead_s: float = 0.0,
          sample_rate: int = SR) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """A harmonic tone (5 partials, 1/k amplitudes) gliding exponentially from ``f_start`` to
    ``f_end`` Hz over ``seconds``, after ``lead_s`` of silence; 10 ms fades at both ends.

    Returns:
        ``(signal float32 (n,), f0 Hz per sample (n,))`` (f0 is 0 in the silent lead).
    """
    n_lead, n = round(lead_s * sample_rate), round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    f0 = f_start * (f_end / f_start) ** (t / seconds)
    phase = 2.0 * np.pi * np.cumsum(f0) / sample_rate
    tone = sum(np.sin(k * phase) / k for k in range(1, 6))
    tone *= level / np.max(np.abs(tone))
    fade = min(n // 2, round(0.01 * sample_rate))
    ramp = np.linspace(0.0, 1.0, fade)
    tone[:fade] *= ramp
    tone[n - fade :] *= ramp[::-1]
    signal = np.concatenate([np.zeros(n_lead), tone]).astype(np.float32)
    return signal, np.concatenate([np.zeros(n_lead), f0])


def write_wav(path: Path, signal: np.ndarray, sample_rate: int = SR) -> Path:
    """``signal`` (mono, −1…1) as a 16-bit WAV."""
    writer = WavWriter(Path(path), sample_rate, 1)
    writer.write(np.asarray(signal, np.float32)[:, None])
    writer.close()
    return Path(path)


def transfer_graph_toml(
    input_wav: Path, record_dir: str, synth: dict[str, Any] | None = None, block: int = 256
) -> str:
    """:func:`live_graph_toml` with the ``file`` backend playing ``input_wav`` (input and
    output recorded), the synth in transfer mode reading ``frames``, and a silent note source
    (velocity 0: the transfer voice plays alone)."""
    text = live_graph_toml(
        audio={"backend": "file", "input_file": str(input_wav), "record_input": True},
        synth={"mode": "transfer", **(synth or {})},
        notes={"velocity": 0},
        record_dir=record_dir,
        block=block,
    )
    frames = 'name = "frames"\nshape = [128]\ncapacity = 256\nwriter = "features"\nreaders = []'
    if text.count(frames) != 1:
        raise ValueError("live_graph_toml's frames ring changed; update transfer_graph_toml")
    return text.replace(frames, frames.replace("readers = []", 'readers = ["synth"]'))
