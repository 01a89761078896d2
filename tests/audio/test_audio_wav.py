"""The crash-safe WAV writer and the strict reader."""

from __future__ import annotations

import struct
import subprocess
import sys
import wave

import numpy as np
import pytest
from performance import env_with_support

from kelly_actors.audio import wav


def test_a_recording_cut_by_sigkill_is_a_valid_wav_up_to_the_last_flush(tmp_path) -> None:
    path = tmp_path / "cut.wav"
    code = (
        "import os, sys, numpy as np\n"
        "from kelly_actors.audio.wav import WavWriter\n"
        f"w = WavWriter({str(path)!r}, 48000, 2)\n"
        "w.write(np.full((4800, 2), 0.5, np.float32)); w.flush()\n"
        "w.write(np.full((999, 2), 0.9, np.float32))\n"  # written, never flushed
        "print('flushed', flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env_with_support(), capture_output=True, timeout=60
    )
    assert done.returncode == -9
    with wave.open(str(path)) as reader:
        assert reader.getnframes() == 4800
        assert reader.getframerate() == 48000 and reader.getnchannels() == 2
    samples, _ = wav.read(path)
    assert samples.shape == (4800, 2)
    assert np.allclose(samples, 0.5, atol=1e-4)


def test_reading_back_what_was_written_keeps_the_samples(tmp_path) -> None:
    path = tmp_path / "tone.wav"
    tone = (0.3 * np.sin(np.arange(4800) / 10)).astype(np.float32)[:, None]
    writer = wav.WavWriter(path, 44_100, 1)
    writer.write(tone)
    writer.close()
    samples, info = wav.read(path)
    assert info.sample_rate == 44_100 and info.bits == 16
    np.testing.assert_allclose(samples, tone, atol=1 / 32767)


def _wav_bytes(tag: int, bits: int, rate: int = 48_000) -> bytes:
    data = b"\0" * 64
    fmt = struct.pack("<HHIIHH", tag, 1, rate, rate * bits // 8, bits // 8, bits)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(data))
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a wav at all", "not a RIFF/WAVE file"),
        (_wav_bytes(1, 8), "8-bit samples are not supported"),
        (_wav_bytes(2, 16), "format tag 2"),
        (b"RIFF\0\0\0\0WAVE", "no fmt or data chunk"),
    ],
)
def test_a_wav_this_project_cannot_use_is_refused_with_the_reason(
    tmp_path, content, message
) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(wav.WavFormatError, match=message):
        wav.read_info(path)
