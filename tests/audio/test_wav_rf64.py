"""The WAV writer past the RIFF limit: RF64 (EBU Tech 3306), read back sample-exact by
libsndfile and by a minimal parser here; under the limit a plain RIFF WAV.

The limit is a constructor argument, so a small one stands in for 4 GiB."""

from __future__ import annotations

import struct
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile
from performance import env_with_support

from kelly_actors.audio import wav

SEE_DS64 = 0xFFFFFFFF
MIB = 1 << 20


@dataclass
class Parsed:
    form: bytes  # b"RIFF" or b"RF64"
    chunks: list[bytes]  # chunk ids in file order, up to and including b"data"
    channels: int
    rate: int
    bits: int
    samples: np.ndarray  # int16 (frames, channels)
    ds64: tuple[int, int, int] | None  # riffSize, dataSize, sampleCount
    data_size_field: int  # the data chunk's 32-bit size field as written


def parse(path: Path) -> Parsed:
    """A minimal RIFF/RF64 WAV parser: walks the chunks, takes 64-bit sizes from ``ds64``
    where a 32-bit field says 0xFFFFFFFF, and checks the RIFF size against the file."""
    raw = path.read_bytes()
    form, riff_size, wave_id = struct.unpack_from("<4sI4s", raw, 0)
    assert form in (b"RIFF", b"RF64") and wave_id == b"WAVE"
    pos, chunks, ds64, fmt = 12, [], None, None
    while True:
        cid, size = struct.unpack_from("<4sI", raw, pos)
        chunks.append(cid)
        body = pos + 8
        if cid == b"ds64":
            assert form == b"RF64" and pos == 12, "ds64 must be the first chunk of an RF64"
            ds64 = struct.unpack_from("<QQQ", raw, body)
        elif cid == b"fmt ":
            fmt = struct.unpack_from("<HHIIHH", raw, body)
        elif cid == b"data":
            field = size
            if size == SEE_DS64 and form == b"RF64":
                assert ds64 is not None
                size = ds64[1]
            data = raw[body : body + size]
            assert len(data) == size, "the data chunk is cut short"
            break
        pos = body + size + (size & 1)
    if form == b"RF64":
        assert riff_size == SEE_DS64 and ds64 is not None
        assert ds64[0] == len(raw) - 8
    else:
        assert riff_size == len(raw) - 8
    assert fmt is not None
    tag, channels, rate, byte_rate, align, bits = fmt
    assert (tag, bits, align, byte_rate) == (1, 16, 2 * channels, rate * 2 * channels)
    samples = np.frombuffer(data, "<i2").reshape(-1, channels)
    return Parsed(form, chunks, channels, rate, bits, samples, ds64, field)


def counting(frames: int, channels: int, start: int = 0) -> np.ndarray:
    """float32 (frames, channels) whose 16-bit samples count up (wrapping), each sample
    distinct from its neighbours: a lost, doubled or shifted sample shows."""
    n = np.arange(start * channels, (start + frames) * channels, dtype=np.int64)
    ints = ((n * 7919) % 65535) - 32767  # −32767…32767: round trips through ×32767
    return (ints / 32767.0).astype(np.float32).reshape(frames, channels)


def as_pcm(frames: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(frames * 32767.0), -32768, 32767).astype("<i2")


def test_past_the_limit_the_file_is_rf64_and_every_sample_reads_back(tmp_path) -> None:
    path = tmp_path / "long.wav"
    writer = wav.WavWriter(path, 48_000, 2, riff_limit=MIB)
    blocks = [counting(4801, 2, start=4801 * k) for k in range(60)]  # 1.15 MB of samples
    forms = []
    for block in blocks:
        writer.write(block)
        writer.flush()
        forms.append(path.read_bytes()[:4])
    writer.close()
    # RIFF until the flush that passed the limit, RF64 from then on.
    first_rf64 = forms.index(b"RF64")
    assert set(forms[:first_rf64]) == {b"RIFF"} and set(forms[first_rf64:]) == {b"RF64"}
    assert 0 < first_rf64 < len(blocks) - 1

    want = as_pcm(np.concatenate(blocks))
    parsed = parse(path)
    assert parsed.form == b"RF64" and parsed.chunks == [b"ds64", b"fmt ", b"data"]
    assert parsed.data_size_field == SEE_DS64
    assert parsed.ds64 == (path.stat().st_size - 8, want.nbytes, want.shape[0])
    np.testing.assert_array_equal(parsed.samples, want)

    info = soundfile.info(str(path))
    assert (info.format, info.subtype, info.samplerate) == ("RF64", "PCM_16", 48_000)
    got, _ = soundfile.read(str(path), dtype="int16", always_2d=True)
    np.testing.assert_array_equal(got, want)
    samples, winfo = wav.read(path)  # the project's reader takes RF64 too
    assert winfo.frames == want.shape[0] and winfo.bits == 16
    np.testing.assert_array_equal(samples, want / 32768.0)


def test_no_sample_is_lost_or_doubled_in_the_write_that_crosses_the_limit(tmp_path) -> None:
    # The limit falls inside the second write, between two flushes.
    path = tmp_path / "switch.wav"
    limit = wav.HEADER_BYTES - 8 + 1000 * 4 + 2  # half a frame past frame 1000
    writer = wav.WavWriter(path, 44_100, 2, riff_limit=limit)
    first, second = counting(600, 2), counting(777, 2, start=600)
    writer.write(first)
    writer.flush()
    assert parse(path).form == b"RIFF"
    writer.write(second)
    writer.close()
    parsed = parse(path)
    assert parsed.form == b"RF64"
    np.testing.assert_array_equal(parsed.samples, as_pcm(np.concatenate([first, second])))


def test_the_switch_comes_exactly_when_the_riff_size_passes_the_limit(tmp_path) -> None:
    limit = wav.HEADER_BYTES - 8 + 100 * 2  # 100 mono frames fit, 101 do not
    at, past = tmp_path / "at.wav", tmp_path / "past.wav"
    for path, frames in ((at, 100), (past, 101)):
        writer = wav.WavWriter(path, 48_000, 1, riff_limit=limit)
        writer.write(counting(frames, 1))
        writer.close()
    assert parse(at).form == b"RIFF" and parse(past).form == b"RF64"
    assert wav.RIFF_LIMIT == 0xFFFFFFFE  # 0xFFFFFFFF itself means "see ds64"


def test_under_the_limit_it_is_a_plain_wav_that_python_wave_reads(tmp_path) -> None:
    path = tmp_path / "short.wav"
    block = counting(12_345, 2)
    writer = wav.WavWriter(path, 48_000, 2)
    writer.write(block)
    writer.close()
    parsed = parse(path)
    # The JUNK chunk holds the place of ds64; readers skip it.
    assert parsed.form == b"RIFF" and parsed.chunks == [b"JUNK", b"fmt ", b"data"]
    assert path.stat().st_size == wav.HEADER_BYTES + block.size * 2
    with wave.open(str(path)) as reader:
        assert reader.getnframes() == 12_345 and reader.getnchannels() == 2
        assert reader.getsampwidth() == 2 and reader.getframerate() == 48_000
        raw = reader.readframes(12_345)
    np.testing.assert_array_equal(np.frombuffer(raw, "<i2").reshape(-1, 2), as_pcm(block))
    assert soundfile.info(str(path)).format == "WAV"


@pytest.mark.parametrize("flushed_frames", [1000, 200_000])
def test_a_recording_cut_by_sigkill_is_valid_up_to_its_last_flush_riff_or_rf64(
    tmp_path, flushed_frames
) -> None:
    """With a 256 KiB limit: 1000 frames are a RIFF at the kill, 200 000 an RF64; the
    unflushed frames after them cross the limit either way."""
    path = tmp_path / "cut.wav"
    code = (
        "import os, numpy as np\n"
        "from kelly_actors.audio.wav import WavWriter\n"
        f"w = WavWriter({str(path)!r}, 48000, 2, riff_limit=256 * 1024)\n"
        f"w.write(np.full(({flushed_frames}, 2), 0.5, np.float32)); w.flush()\n"
        "w.write(np.full((100_000, 2), 0.9, np.float32))\n"  # written, never flushed
        "os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env_with_support(), capture_output=True, timeout=60
    )
    assert done.returncode == -9, done.stderr
    form = b"RIFF" if flushed_frames == 1000 else b"RF64"
    assert path.read_bytes()[:4] == form
    got, _ = soundfile.read(str(path), dtype="int16", always_2d=True)
    assert got.shape == (flushed_frames, 2)
    assert (got == 16384).all()  # rint(0.5 × 32767)
