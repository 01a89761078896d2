"""The crash-safe WAV writer and the strict reader: odd chunks, WAVE_FORMAT_EXTENSIBLE,
float, cut and corrupt files."""

from __future__ import annotations

import struct
import subprocess
import sys
import wave

import numpy as np
import pytest
import soundfile
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


def _chunk(cid: bytes, body: bytes) -> bytes:
    """One RIFF chunk; an odd-sized body is followed by its pad byte."""
    return cid + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def _riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _fmt(tag: int, bits: int, channels: int = 1, rate: int = 48_000) -> bytes:
    align = channels * bits // 8
    return _chunk(b"fmt ", struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits))


def _extensible_fmt(sub_tag: int, bits: int, channels: int = 2, rate: int = 44_100) -> bytes:
    """WAVE_FORMAT_EXTENSIBLE: tag 0xFFFE, the real tag in the sub-format GUID."""
    align = channels * bits // 8
    guid = struct.pack("<H", sub_tag) + bytes.fromhex("000000001000800000aa00389b71")
    body = struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * align, align, bits)
    body += struct.pack("<HHI", 22, bits, 0b11) + guid
    return _chunk(b"fmt ", body)


def _wav_bytes(tag: int, bits: int, rate: int = 48_000) -> bytes:
    return _riff(_fmt(tag, bits, rate=rate), _chunk(b"data", b"\0" * 64))


RAMP = (np.arange(-8, 8) * 2048).astype("<i2")


def test_list_fact_and_odd_sized_chunks_before_the_data_are_skipped(tmp_path) -> None:
    path = tmp_path / "chunks.wav"
    path.write_bytes(
        _riff(
            _chunk(b"JUNK", b"\0" * 70_000),  # past the old reader's 64 KiB header window
            _fmt(1, 16),
            _chunk(b"LIST", b"INFOISFT" + struct.pack("<I", 5) + b"kelly\0"),
            _chunk(b"fact", struct.pack("<I", RAMP.size)),
            _chunk(b"odd ", b"xyz"),  # 3 bytes + pad byte
            _chunk(b"data", RAMP.tobytes()),
            _chunk(b"LIST", b"INFOdata"),  # "data" inside a later chunk is not the data
        )
    )
    samples, info = wav.read(path)
    assert (info.sample_rate, info.channels, info.bits, info.frames) == (48_000, 1, 16, 16)
    np.testing.assert_array_equal(samples[:, 0], RAMP / 32768.0)


def test_a_data_chunk_after_an_odd_sized_chunk_starts_after_its_pad_byte(tmp_path) -> None:
    path = tmp_path / "pad.wav"
    path.write_bytes(_riff(_fmt(1, 16), _chunk(b"note", b"a"), _chunk(b"data", RAMP.tobytes())))
    samples, _ = wav.read(path)
    np.testing.assert_array_equal(samples[:, 0], RAMP / 32768.0)


@pytest.mark.parametrize("bits", [16, 24, 32])
def test_wave_format_extensible_pcm_is_read_as_its_sub_format(tmp_path, bits) -> None:
    left = np.linspace(-0.5, 0.5, 32)
    frames = np.stack([left, -left], axis=1)
    ints = np.round(frames * 2 ** (bits - 1)).astype(np.int64)
    raw = b"".join(int(v).to_bytes(bits // 8, "little", signed=True) for v in ints.ravel())
    path = tmp_path / "extensible.wav"
    path.write_bytes(_riff(_extensible_fmt(1, bits), _chunk(b"data", raw)))
    samples, info = wav.read(path)
    assert (info.channels, info.bits, info.frames, info.is_float) == (2, bits, 32, False)
    np.testing.assert_allclose(samples, frames, atol=2.0 ** -(bits - 1))


def test_float32_samples_are_read_unchanged(tmp_path) -> None:
    tone = np.sin(np.arange(100) / 7).astype("<f4") * 0.9
    path = tmp_path / "float.wav"
    path.write_bytes(
        _riff(
            _fmt(3, 32),
            _chunk(b"fact", struct.pack("<I", tone.size)),
            _chunk(b"data", tone.tobytes()),
        )
    )
    samples, info = wav.read(path)
    assert info.is_float and info.bits == 32 and info.frames == 100
    np.testing.assert_array_equal(samples[:, 0], tone)


def test_extensible_float_is_read_as_float(tmp_path) -> None:
    tone = np.linspace(-1, 1, 20, dtype="<f4").reshape(10, 2)
    path = tmp_path / "xfloat.wav"
    path.write_bytes(_riff(_extensible_fmt(3, 32), _chunk(b"data", tone.tobytes())))
    samples, info = wav.read(path)
    assert info.is_float and info.channels == 2
    np.testing.assert_array_equal(samples, tone)


def test_a_data_chunk_cut_short_reads_the_whole_frames_it_holds(tmp_path) -> None:
    path = tmp_path / "cut.wav"
    path.write_bytes(_riff(_fmt(1, 16), _chunk(b"data", RAMP.tobytes()))[:-7])
    samples, info = wav.read(path)
    assert info.frames == samples.shape[0] == 12  # 32 bytes − 7 → 12 whole frames
    np.testing.assert_array_equal(samples[:, 0], RAMP[:12] / 32768.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a wav at all", "not a readable RIFF/WAVE file"),
        (_wav_bytes(1, 8), "8-bit samples are not supported"),
        (_wav_bytes(2, 16), "not a readable RIFF/WAVE file .*ADPCM"),
        (b"RIFF\0\0\0\0WAVE", "not a readable RIFF/WAVE file .*data"),
        (_riff(_fmt(1, 16), _chunk(b"LIST", b"INFO")), "not a readable RIFF/WAVE file .*data"),
        (_wav_bytes(1, 16)[:30], "not a readable RIFF/WAVE file"),  # cut inside the header
        (_riff(_fmt(3, 64), _chunk(b"data", b"\0" * 64)), "64 bit float samples are not"),
    ],
)
def test_a_wav_this_project_cannot_use_is_refused_with_the_reason(
    tmp_path, content, message
) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(wav.WavFormatError, match=message):
        wav.read_info(path)
    with pytest.raises(wav.WavFormatError, match=message):
        wav.read(path)


def test_a_missing_file_is_refused_with_the_reason(tmp_path) -> None:
    with pytest.raises(wav.WavFormatError, match="cannot read"):
        wav.read_info(tmp_path / "absent.wav")


def test_a_file_of_another_format_is_not_taken_for_a_wav(tmp_path) -> None:
    path = tmp_path / "tone.flac"
    soundfile.write(str(path), np.zeros(100, np.float32), 48_000, format="FLAC")
    with pytest.raises(wav.WavFormatError, match="not a RIFF/WAVE file"):
        wav.read_info(path)
