"""WAV files: a crash-safe writer and a strict reader.

The writer keeps the RIFF header's sizes right after every flush, so a file
cut short by SIGKILL is a valid WAV up to its last flush. Samples are 16-bit
PCM, which every tool reads.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")
HEADER_BYTES = _HEADER.size  # 44


class WavFormatError(ValueError):
    """A WAV file this project cannot use, with the reason."""


class WavWriter:
    """Appends float32 frames (n, channels) in −1…1 as 16-bit PCM."""

    def __init__(self, path: Path, sample_rate: int, channels: int) -> None:
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.channels = channels
        self.frames = 0
        self._file = self.path.open("wb")
        self._file.write(self._header(0))
        self._file.flush()

    def _header(self, data_bytes: int) -> bytes:
        block_align = 2 * self.channels
        return _HEADER.pack(
            b"RIFF",
            36 + data_bytes,
            b"WAVE",
            b"fmt ",
            16,
            1,
            self.channels,
            self.sample_rate,
            self.sample_rate * block_align,
            block_align,
            16,
            b"data",
            data_bytes,
        )

    def write(self, frames: np.ndarray) -> None:
        """Append ``frames`` (float32, shape (n, channels))."""
        pcm = np.clip(np.rint(frames * 32767.0), -32768, 32767).astype("<i2")
        self._file.write(pcm.tobytes())
        self.frames += frames.shape[0]

    def flush(self) -> None:
        """Make everything written so far a valid file on disk."""
        end = self._file.tell()
        self._file.seek(0)
        self._file.write(self._header(self.frames * 2 * self.channels))
        self._file.seek(end)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self.flush()
            self._file.close()


@dataclass(frozen=True)
class WavInfo:
    sample_rate: int
    channels: int
    bits: int
    frames: int
    is_float: bool


def read_info(path: Path) -> WavInfo:
    """Parse the header; raise :class:`WavFormatError` when it is not a usable WAV."""
    try:
        data = Path(path).read_bytes()[: 1 << 16]
    except OSError as exc:
        raise WavFormatError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavFormatError(f"{path}: not a RIFF/WAVE file")
    pos, fmt, fmt_at, data_size = 12, None, 0, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if cid == b"fmt ":
            fmt_at = pos + 8
            fmt = struct.unpack_from("<HHIIHH", data, fmt_at)
        elif cid == b"data":
            data_size = size
            break
        pos += 8 + size + (size & 1)
    if fmt is None or data_size is None:
        raise WavFormatError(f"{path}: no fmt or data chunk")
    tag, channels, rate, _, _, bits = fmt
    if tag == 0xFFFE and len(data) >= fmt_at + 26:
        # WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the real tag.
        tag = struct.unpack_from("<H", data, fmt_at + 24)[0]
    if tag not in (1, 3):
        raise WavFormatError(f"{path}: WAV format tag {tag} (only PCM and float are read)")
    if (tag == 1 and bits not in (16, 24, 32)) or (tag == 3 and bits != 32):
        raise WavFormatError(f"{path}: {bits}-bit samples are not supported")
    frames = data_size // (channels * bits // 8)
    return WavInfo(rate, channels, bits, frames, tag == 3)


def read(path: Path) -> tuple[np.ndarray, WavInfo]:
    """Samples as float32 (frames, channels) in −1…1, and the header info."""
    info = read_info(path)
    raw = Path(path).read_bytes()
    start = raw.index(b"data") + 8
    body = raw[start : start + info.frames * info.channels * info.bits // 8]
    if info.is_float:
        samples = np.frombuffer(body, "<f4").astype(np.float32)
    elif info.bits == 16:
        samples = np.frombuffer(body, "<i2").astype(np.float32) / 32768.0
    elif info.bits == 32:
        samples = (np.frombuffer(body, "<i4").astype(np.float64) / 2**31).astype(np.float32)
    else:
        b = np.frombuffer(body, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8
        samples = (ints / 2**23).astype(np.float32)
    return samples.reshape(-1, info.channels), info
