"""Backends paced by the monotonic clock instead of a sound card."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from kelly_actors.audio import wav
from kelly_actors.audio.backends.base import Backend, BackendError, Process

# After a stall (SIGSTOP, a swap storm) longer than this many blocks, the
# clock jumps instead of racing through the backlog.
MAX_CATCH_UP_BLOCKS = 16


class NullBackend(Backend):
    """Clocked silence in, output discarded (but recorded and measured)."""

    name = "null"

    def __init__(self, sample_rate: int, block_size: int, channels: int = 2) -> None:
        self.period = block_size / sample_rate
        self.block_size = block_size
        self.outdata = np.zeros((block_size, channels), np.float32)
        self._process: Process | None = None
        self._due = 0.0

    def start(self, process: Process) -> None:
        self._process = process
        self._due = time.monotonic()

    def _input(self) -> np.ndarray | None:
        return None

    def pump(self, now: float) -> None:
        if self._process is None:
            return
        xrun = now - self._due > MAX_CATCH_UP_BLOCKS * self.period
        if xrun:
            self._due = now
        while self._due <= now:
            self._process(self._input(), self.outdata, xrun)
            xrun = False
            self._due += self.period

    def next_due(self) -> float | None:
        return self._due if self._process is not None else None

    def stop(self) -> None:
        self._process = None


class FileBackend(NullBackend):
    """A WAV file as the microphone, in real time; silence after its end.

    With one input channel the file is mixed to mono; with N > 1 (an ensemble) the file
    has N channels and channel k is performer k's input."""

    def __init__(
        self,
        path: Path,
        sample_rate: int,
        block_size: int,
        channels: int = 2,
        input_channels: int = 1,
    ) -> None:
        super().__init__(sample_rate, block_size, channels)
        samples, _ = load_input(path, sample_rate, input_channels)
        self.name = f"file: {path}"
        self.samples = samples
        self.position = 0
        self.indata = np.zeros((block_size, samples.shape[1]), np.float32)

    def _input(self) -> np.ndarray:
        n = self.block_size
        chunk = self.samples[self.position : self.position + n]
        self.indata.fill(0.0)
        self.indata[: chunk.shape[0]] = chunk
        self.position += n
        return self.indata


def load_input(
    path: Path, sample_rate: int, input_channels: int = 1
) -> tuple[np.ndarray, wav.WavInfo]:
    """A WAV as float32 (frames, max(1, input_channels)) at ``sample_rate`` (mono
    mixdown for one channel); BackendError when it cannot be used."""
    try:
        samples, info = wav.read(Path(path))
    except wav.WavFormatError as exc:
        raise BackendError(str(exc)) from None
    _check_info(path, info, sample_rate, input_channels)
    if input_channels <= 1:
        return samples.mean(axis=1, keepdims=True).astype(np.float32), info
    return np.ascontiguousarray(samples, np.float32), info


def check_input(path: Path, sample_rate: int, input_channels: int = 1) -> None:
    """Preflight: the header alone decides (no need to read the samples)."""
    try:
        info = wav.read_info(Path(path))
    except wav.WavFormatError as exc:
        raise BackendError(str(exc)) from None
    _check_info(path, info, sample_rate, input_channels)


def _check_info(path: Path, info: wav.WavInfo, sample_rate: int, input_channels: int) -> None:
    if info.sample_rate != sample_rate:
        raise BackendError(
            f"{path}: recorded at {info.sample_rate} Hz, the performance runs at {sample_rate} Hz"
        )
    if input_channels > 1 and info.channels != input_channels:
        raise BackendError(
            f"{path}: has {info.channels} channel(s), input_channels = {input_channels} "
            "needs one per performer"
        )
