"""WAV files: a crash-safe writer and a strict reader.

The writer keeps the RIFF header's sizes right after every flush, so a file
cut short by SIGKILL is a valid WAV up to its last flush. Samples are 16-bit
PCM, which every tool reads.

The reader is libsndfile (through ``soundfile``): it walks the RIFF chunks, so
``LIST``, ``fact``, odd-sized chunks with their pad byte and chunks of any size
before ``data`` are skipped, and WAVE_FORMAT_EXTENSIBLE is understood. This
project reads 16-, 24- and 32-bit PCM and 32-bit float; anything else, or a
file libsndfile cannot open, is a :class:`WavFormatError` that says why. A data
chunk cut short (a copy interrupted) reads as the whole frames it holds.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")
HEADER_BYTES = _HEADER.size  # 44
#: libsndfile container formats that are RIFF/WAVE (``WAVEX``: WAVE_FORMAT_EXTENSIBLE).
_WAVE_FORMATS = ("WAV", "WAVEX")
#: libsndfile sample encodings read here → (bits per sample, is float).
_SUBTYPES = {
    "PCM_16": (16, False),
    "PCM_24": (24, False),
    "PCM_32": (32, False),
    "FLOAT": (32, True),
}
_EIGHT_BIT = ("PCM_U8", "PCM_S8")


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
    """``sample_rate`` Hz, ``channels``, ``bits`` per sample, ``frames`` (samples per
    channel), ``is_float`` (32-bit IEEE float rather than integer PCM)."""

    sample_rate: int
    channels: int
    bits: int
    frames: int
    is_float: bool


def read_info(path: Path) -> WavInfo:
    """Parse the header; raise :class:`WavFormatError` when it is not a usable WAV."""
    path = Path(path)
    try:
        os.stat(path)
        info = soundfile.info(str(path))
    except OSError as exc:
        raise WavFormatError(f"{path}: cannot read ({exc.strerror})") from None
    except soundfile.LibsndfileError as exc:
        raise WavFormatError(
            f"{path}: not a readable RIFF/WAVE file ({exc.error_string})"
        ) from None
    if info.format not in _WAVE_FORMATS:
        raise WavFormatError(f"{path}: not a RIFF/WAVE file ({info.format_info})")
    if info.subtype in _EIGHT_BIT:
        raise WavFormatError(f"{path}: 8-bit samples are not supported")
    if info.subtype not in _SUBTYPES:
        raise WavFormatError(
            f"{path}: {info.subtype_info} samples are not supported "
            "(16/24/32-bit PCM and 32-bit float are)"
        )
    bits, is_float = _SUBTYPES[info.subtype]
    return WavInfo(int(info.samplerate), int(info.channels), bits, int(info.frames), is_float)


def read(path: Path) -> tuple[np.ndarray, WavInfo]:
    """Samples as float32 (frames, channels) in −1…1 (integers over 2^(bits−1)), and the
    header info."""
    info = read_info(path)
    try:
        samples, _ = soundfile.read(str(path), dtype="float32", always_2d=True)
    except soundfile.LibsndfileError as exc:
        raise WavFormatError(f"{path}: cannot decode ({exc.error_string})") from None
    return samples, info
