"""WAV files: a crash-safe writer that continues in RF64 past 4 GiB, and a strict reader.

The writer keeps the header's sizes right after every flush, so a file cut short
by SIGKILL is a valid WAV up to its last flush. Samples are 16-bit PCM, which every
tool reads. Its 80-byte header is laid out for both forms of the file (EBU Tech 3306):

====== ========================================= ==========================================
offset plain RIFF (what every file starts as)    RF64 (once the RIFF size passes the limit)
====== ========================================= ==========================================
0      ``RIFF`` size ``WAVE``                    ``RF64`` 0xFFFFFFFF ``WAVE``
12     ``JUNK`` 28, 28 zero bytes (ignored)      ``ds64`` 28: RIFF size, data size, sample
                                                 count (u64 each), table length 0 (u32)
48     ``fmt `` 16: PCM, channels, rate, …       the same
72     ``data`` size                             ``data`` 0xFFFFFFFF
80     the samples, little-endian int16 interleaved
====== ========================================= ==========================================

The switch rewrites the header in place (one 80-byte write at offset 0, like every
flush) and never moves a sample. A file under the limit is a plain RIFF WAV (the
``JUNK`` chunk is there to be skipped) that Python's ``wave`` reads.

A write or flush that fails (a full disk) or finds the file unlinked (its directory
removed) finalises the file first — cut to its last whole frame, the header saying
exactly that — closes it and raises :class:`RecordingError`, so what was written
stays a valid WAV. Nothing here runs in the audio callback: the audio actor's
thread feeds the writer from the callback's recording buffer.

The reader is libsndfile (through ``soundfile``): it walks the RIFF chunks, so
``LIST``, ``fact``, odd-sized chunks with their pad byte and chunks of any size
before ``data`` are skipped, WAVE_FORMAT_EXTENSIBLE is understood and RF64 is read.
This project reads 16-, 24- and 32-bit PCM and 32-bit float; anything else, or a
file libsndfile cannot open, is a :class:`WavFormatError` that says why. A data
chunk cut short (a copy interrupted) reads as the whole frames it holds.
"""

from __future__ import annotations

import contextlib
import errno
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

#: RIFF (or RF64) head, ``JUNK`` (or ``ds64``) with its 28 bytes, ``fmt `` and ``data``'s head.
_HEADER = struct.Struct("<4sI4s4sIQQQI4sIHHIIHH4sI")
HEADER_BYTES = _HEADER.size  # 80
_DS64_BYTES = 28
#: "See ds64": the 32-bit size fields of an RF64 file.
_SEE_DS64 = 0xFFFFFFFF
#: The largest RIFF size (bytes: the file's length − 8) a plain RIFF file gets. One short
#: of 0xFFFFFFFF, which RF64-aware readers take for "see ds64".
RIFF_LIMIT = 0xFFFFFFFE
#: libsndfile container formats read here (``WAVEX``: WAVE_FORMAT_EXTENSIBLE; ``RF64``: past 4 GiB).
_WAVE_FORMATS = ("WAV", "WAVEX", "RF64")
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


class RecordingError(OSError):
    """A recording that stopped; its file is closed and valid up to :attr:`frames`.

    ``errno`` and ``strerror`` (the reason in words) come from the OS error that stopped
    it (``errno`` None when there was none), ``filename`` is the file.
    """

    def __init__(self, code: int | None, reason: str, path: Path, frames: int) -> None:
        super().__init__(code, reason, str(path))
        self.frames = frames

    @classmethod
    def of(cls, exc: OSError, path: Path, frames: int = 0) -> RecordingError:
        """``exc`` (any OSError, e.g. from making the directory) as a RecordingError."""
        if isinstance(exc, RecordingError):
            return exc
        return cls(exc.errno, exc.strerror or str(exc), path, frames)

    def detail(self) -> dict[str, str | int]:
        """The ``recording_stopped`` event's fields: ``path``, ``reason`` (words), ``error``
        (the errno's name, e.g. ``ENOSPC``; "" when none) and ``frames`` kept in the file."""
        code = self.errno
        return {
            "path": str(self.filename),
            "reason": str(self.strerror),
            "error": errno.errorcode.get(code, "") if code is not None else "",
            "frames": self.frames,
        }


class WavWriter:
    """Appends float32 frames (n, channels) in −1…1 as 16-bit PCM; RF64 past ``riff_limit``.

    Args:
        path: the file (created 0666 less the umask, or truncated).
        sample_rate: Hz.
        channels: interleaved channels per frame.
        riff_limit: the largest RIFF size (bytes: file length − 8) kept as plain RIFF; past
            it the header becomes RF64. :data:`RIFF_LIMIT` unless a test wants RF64 sooner.

    Raises OSError when the file cannot be created, :class:`RecordingError` (the file
    removed again) when its header cannot be written. Not thread-safe: one thread (the
    audio actor's loop, never the callback) writes, flushes and closes.
    """

    def __init__(
        self, path: Path, sample_rate: int, channels: int, riff_limit: int = RIFF_LIMIT
    ) -> None:
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.channels = channels
        self.riff_limit = riff_limit
        self.block_align = 2 * channels
        #: Whole frames written (what the header says after the next flush).
        self.frames = 0
        #: The header is RF64 (sticky: the file only grows).
        self.rf64 = False
        self.closed = False
        self._bytes = 0  # sample bytes the OS took, a torn last frame included
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            _write_all(self._fd, self._header())
        except OSError as exc:
            # Half a header is no WAV: leave no file rather than that.
            self._close_fd()
            with contextlib.suppress(OSError):
                self.path.unlink()
            raise RecordingError.of(exc, self.path) from exc

    def _header(self) -> bytes:
        data = self.frames * self.block_align
        riff = HEADER_BYTES - 8 + data
        self.rf64 = self.rf64 or riff > self.riff_limit
        rate, align = self.sample_rate, self.block_align
        fmt = (b"fmt ", 16, 1, self.channels, rate, rate * align, align, 16, b"data")
        if self.rf64:
            head = (b"RF64", _SEE_DS64, b"WAVE", b"ds64", _DS64_BYTES, riff, data, self.frames, 0)
            return _HEADER.pack(*head, *fmt, _SEE_DS64)
        head = (b"RIFF", riff, b"WAVE", b"JUNK", _DS64_BYTES, 0, 0, 0, 0)
        return _HEADER.pack(*head, *fmt, data)

    def write(self, frames: np.ndarray) -> None:
        """Append ``frames`` (float32, shape (n, channels), −1…1; clipped beyond).

        The header follows at the next :meth:`flush`. Raises :class:`RecordingError` when
        the OS refuses the bytes (a full disk), the file then finalised and closed.
        """
        if self.closed:
            raise ValueError(f"{self.path}: write to a closed recording")
        pcm = np.clip(np.rint(frames * 32767.0), -32768, 32767).astype("<i2")
        view = memoryview(pcm.tobytes())
        while view:
            try:
                n = os.write(self._fd, view)
            except OSError as exc:
                raise self._stop(exc.errno, exc.strerror or str(exc)) from exc
            self._bytes += n
            view = view[n:]
        self.frames = self._bytes // self.block_align

    def flush(self) -> None:
        """Make everything written so far a valid file on disk: the header rewritten in
        place (RIFF or RF64 by the size now) and the file fsynced.

        Raises :class:`RecordingError`, the file finalised and closed, when that fails or
        the file is no longer on disk (its directory removed: writing on would only fill
        the disk with a file nobody can open).
        """
        if self.closed:
            return
        try:
            if os.fstat(self._fd).st_nlink == 0:
                raise self._stop(errno.ENOENT, "the file was removed (its directory deleted?)")
            os.pwrite(self._fd, self._header(), 0)
            os.fsync(self._fd)
        except RecordingError:
            raise
        except OSError as exc:
            raise self._stop(exc.errno, exc.strerror or str(exc)) from exc

    def close(self) -> None:
        """Flush and close; a second call does nothing. Raises like :meth:`flush` (the file
        closed either way)."""
        try:
            self.flush()
        finally:
            self._close_fd()

    def _stop(self, code: int | None, reason: str) -> RecordingError:
        """Finalise what was written — cut to its last whole frame, the header saying so —
        close the file and return the error to raise. Best effort: overwriting the header
        and shrinking the file need no new space, so this works on a full disk."""
        self.frames = self._bytes // self.block_align
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, HEADER_BYTES + self.frames * self.block_align)
            os.pwrite(self._fd, self._header(), 0)
            os.fsync(self._fd)
        self._close_fd()
        return RecordingError(code, reason, self.path, self.frames)

    def _close_fd(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self._fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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
