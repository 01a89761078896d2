"""The actor's side of the compiled callback: set-up, tempo, telemetry, recording.

:class:`NativeEngine` offers what the audio actor uses of
:class:`kelly_actors.audio.engine.AudioEngine` (counters, tempo requests,
recording buffers, callback figures), but its block runs in compiled code on
the device thread, reading and writing :mod:`.layout`'s state words. The
actor's thread only ever writes the tempo queue and the recording read
positions.
"""

from __future__ import annotations

import contextlib
import os
import threading

import numpy as np

from kelly_actors.audio.engine import copy_input, input_columns
from kelly_actors.audio.native import layout as L
from kelly_actors.audio.native.core import process_block
from kelly_actors.audio.native.cycles import cycle_figures
from kelly_actors.audio.native.pointers import libc_addresses
from kelly_actors.bus.clock import MusicalClock
from kelly_actors.bus.doorbell import Doorbell
from kelly_actors.bus.ring import RingReader, RingWriter
from kelly_actors.bus.ring_layout import _R0, _R_INDEX, _R_PEAK, _R_STRIDE, _W_INDEX, _doorbell_path
from kelly_actors.bus.transport import Transport

RECORD_SECONDS = 10
#: How often the bell thread rings what the callback flagged (s).
BELL_PERIOD_S = 0.001


def _words_of(buf: memoryview) -> np.ndarray:
    """A mapping as int64 words (a view: its address is the mapping's)."""
    return np.frombuffer(buf, dtype=np.int64)


class NativeRecordBuffer:
    """The recording buffer the callback fills; ``pop_all`` from the actor's thread.

    Same contract as :class:`kelly_actors.audio.engine.RecordBuffer`.
    """

    def __init__(self, words: np.ndarray, base: int, frames: int, channels: int) -> None:
        self.words = words
        self.base = base
        self.channels = channels
        self.data = np.zeros(frames * channels, np.float32)
        words[base] = self.data.ctypes.data
        words[base + 1] = frames

    @property
    def dropped(self) -> int:
        return int(self.words[self.base + 4])

    def pop_all(self) -> np.ndarray:
        """Everything recorded since the last pop: float32 (frames, channels), a new array."""
        w, b, ch = self.words, self.base, self.channels
        frames = int(w[b + 1])
        written, read = int(w[b + 2]), int(w[b + 3])
        rows = (read + np.arange(written - read)) % frames
        out = self.data.reshape(frames, ch)[rows]
        w[b + 3] = written
        return out


class NativeEngine:
    """The state of a compiled callback (see :mod:`kelly_actors.audio.native`).

    Args:
        clock: the clock to continue from (its sample, tempo segment, pending changes).
        transport: the transport block the callback publishes to.
        in_writer: writer of ``audio_in``, float32 (block, N) (N input channels), or None.
        out_reader: reader of ``audio_out`` (shape (block, channels)), or None.
        block_size / channels: frames per cycle, output channels.
        record_output / record_input: keep copies for the WAV recording.
        standby_reader: reader of the standby synth's ring, or None.
        preroll: hold the clock until the first block arrives (a fresh performance).
    """

    def __init__(
        self,
        clock: MusicalClock,
        transport: Transport,
        in_writer: RingWriter | None,
        out_reader: RingReader | None,
        block_size: int,
        channels: int = 2,
        record_output: bool = False,
        record_input: bool = False,
        standby_reader: RingReader | None = None,
        preroll: bool = False,
    ) -> None:
        self.words = np.zeros(L.WORDS, np.int64)
        self.floats = self.words.view(np.float64)
        self.block_size = block_size
        self.channels = channels
        self.sample_rate = clock.sample_rate
        self.in_writer = in_writer
        self.out_reader = out_reader
        self.transport = transport
        self._bells: list[Doorbell] = []
        self._views: dict[str, np.ndarray] = {}
        w = self.words
        w[L.BLOCK], w[L.CHANNELS], w[L.SAMPLE_RATE] = block_size, channels, clock.sample_rate
        w[L.FN_WRITE], w[L.FN_CLOCK_GETTIME] = libc_addresses()
        self._attach_input(in_writer)
        self.standby_reader = standby_reader
        self._attach_output(out_reader, L.OUT0, "out")
        self._attach_output(standby_reader, L.OUT1, "standby")
        w[L.TRUSTED] = 1
        w[L.PREROLLING] = int(preroll)
        self._views["transport"] = _words_of(transport.segment.buf)
        w[L.TRANSPORT_ADDR] = self._views["transport"].ctypes.data
        self._set_clock(clock)
        self.input_channels = input_columns(in_writer)
        w[L.IN_CHANNELS] = self.input_channels
        self.in_block = np.zeros(block_size * self.input_channels, np.float32)
        self.out_block = np.zeros(block_size * channels, np.float32)
        self.blocks = np.zeros((2, block_size * channels), np.float32)
        w[L.BLOCKS_ADDR] = self.blocks.ctypes.data
        self.fades = np.concatenate(
            [
                np.linspace(1.0, 0.0, block_size, dtype=np.float32),
                np.linspace(0.0, 1.0, block_size, dtype=np.float32),
            ]
        )
        w[L.IN_BLOCK_ADDR] = self.in_block.ctypes.data
        w[L.OUT_BLOCK_ADDR] = self.out_block.ctypes.data
        w[L.FADES_ADDR] = self.fades.ctypes.data
        frames = self.sample_rate * RECORD_SECONDS
        self.out_record = (
            NativeRecordBuffer(w, L.REC_OUT_ADDR, frames, channels) if record_output else None
        )
        self.in_record = (
            NativeRecordBuffer(w, L.REC_IN_ADDR, frames, self.input_channels)
            if record_input
            else None
        )
        self.durations = np.zeros(L.DURATION_HISTORY, np.float64)
        self.lateness = np.zeros(L.DURATION_HISTORY, np.float64)
        w[L.DURATIONS_ADDR] = self.durations.ctypes.data
        w[L.LATENESS_ADDR] = self.lateness.ctypes.data
        w[L.LAST_FRAMES] = -1
        self.xruns = 0
        self.xrun_at = np.zeros(64, np.int64)
        self._stop_bells = threading.Event()
        self._bell_thread: threading.Thread | None = None

    # --- set-up -----------------------------------------------------------------

    def _attach_input(self, writer: RingWriter | None) -> None:
        if writer is None:
            return
        w, spec = self.words, writer.spec
        view = self._views["in"] = _words_of(writer.segment.buf)
        w[L.IN_ADDR], w[L.IN_WORDS] = view.ctypes.data, view.size
        w[L.IN_CAP], w[L.IN_STRIDE] = spec.capacity, spec.stride // 8
        w[L.IN_READERS], w[L.IN_DROP] = spec.readers, int(spec.policy == "drop")
        w[L.IN_INDEX] = writer.index
        w[L.IN_SLOWEST] = writer.index - writer.used()
        for k in range(spec.readers):
            bell = Doorbell(_doorbell_path(writer.segment.name, f"r{k}"))
            self._bells.append(bell)
            w[L.IN_FDS + k] = bell.fileno()

    def _attach_output(self, reader: RingReader | None, r: int, key: str) -> None:
        """Reader state of output ring ``r`` (``layout.OUT0`` or ``OUT1``) from shared memory."""
        if reader is None:
            return
        w, spec = self.words, reader.spec
        view = self._views[key] = _words_of(reader.segment.buf)
        w[r + L.R_ADDR], w[r + L.R_WORDS] = view.ctypes.data, view.size
        w[r + L.R_CAP], w[r + L.R_STRIDE] = spec.capacity, spec.stride // 8
        w[r + L.R_SLOT] = reader.slot
        line = _R0 + _R_STRIDE * reader.slot
        w[r + L.R_INDEX], w[r + L.R_PEAK] = view[line + _R_INDEX], view[line + _R_PEAK]
        bell = Doorbell(_doorbell_path(reader.segment.name, "w"))
        self._bells.append(bell)
        w[r + L.R_SPACE_FD] = bell.fileno()

    def _set_clock(self, clock: MusicalClock) -> None:
        w, f = self.words, self.floats
        w[L.SAMPLE] = clock.sample
        seg = clock.current
        w[L.SEG_START], f[L.SEG_BEAT], f[L.SEG_TEMPO], w[L.SEG_BPB] = (
            seg.start_sample, seg.start_beat, seg.tempo, seg.beats_per_bar,
        )  # fmt: skip
        for k, p in enumerate(clock.pending[: L.PENDING_MAX]):
            e = L.PENDING + 4 * k
            w[e], f[e + 1] = p.start_sample, p.start_beat
            f[e + 2], w[e + 3] = p.tempo, p.beats_per_bar
        w[L.PENDING_N] = min(len(clock.pending), L.PENDING_MAX)

    # --- the block, from Python (paced backends, tests) -------------------------

    def process(self, indata: np.ndarray | None, outdata: np.ndarray, xrun: bool) -> None:
        """One block as the device thread runs it: ``indata`` (block, ≥1) or None,
        ``outdata`` float32 (block, channels) to fill."""
        if xrun:
            self.note_xrun()
        w = self.words
        w[L.HAS_INPUT] = int(indata is not None)
        if indata is not None:
            copy_input(indata, self.in_block.reshape(self.block_size, self.input_channels))
        empty = np.zeros(1, np.int64)
        iq = self._views.get("in", empty)
        oq0 = self._views.get("out", empty)
        oq1 = self._views.get("standby", empty)
        tq = self._views["transport"]
        rec_out = self.out_record.data if self.out_record is not None else np.zeros(1, np.float32)
        rec_in = self.in_record.data if self.in_record is not None else np.zeros(1, np.float32)
        process_block(
            w, self.floats, iq, iq.view(np.float32), oq0, oq0.view(np.float32),
            oq1, oq1.view(np.float32), tq, tq.view(np.float64), self.in_block, self.out_block,
            self.blocks, self.fades, rec_out, rec_in,
        )  # fmt: skip
        outdata[...] = self.out_block.reshape(self.block_size, self.channels)

    # --- what the actor's thread does -------------------------------------------

    def request_tempo(self, start: int, tempo: float, beat: float, beats_per_bar: int) -> bool:
        """Queue a tempo change for the callback; False when the queue is full."""
        w, f = self.words, self.floats
        written = int(w[L.REQ_WRITTEN])
        if written - int(w[L.REQ_READ]) >= L.REQ_MAX:
            return False
        e = L.REQ + 4 * (written % L.REQ_MAX)
        f[e], f[e + 1], f[e + 2], f[e + 3] = start, tempo, beat, beats_per_bar
        w[L.REQ_WRITTEN] = written + 1
        return True

    def note_xrun(self) -> None:
        """The server reported an xrun (its notification thread calls this)."""
        if self.xruns < self.xrun_at.size:
            self.xrun_at[self.xruns] = self.sample
        self.xruns += 1

    @property
    def sample(self) -> int:
        return int(self.words[L.SAMPLE])

    @property
    def callbacks(self) -> int:
        return int(self.words[L.CALLBACKS])

    @property
    def underruns(self) -> int:
        return int(self.words[L.UNDERRUNS])

    @property
    def late_blocks(self) -> int:
        return int(self.words[L.LATE_BLOCKS])

    def xrun_samples(self) -> list[int]:
        return self.xrun_at[: min(self.xruns, self.xrun_at.size)].tolist()

    def queued_blocks(self) -> int:
        """Blocks the active synth has rendered ahead of the callback."""
        active = int(self.words[L.ACTIVE])
        view = self._views.get(("out", "standby")[active])
        if view is None:
            return 0
        r = (L.OUT0, L.OUT1)[active]
        return max(0, int(view[_W_INDEX]) - int(self.words[r + L.R_INDEX]))

    @property
    def active(self) -> int:
        return int(self.words[L.ACTIVE])

    @property
    def trusted(self) -> list[bool]:
        return [bool(self.words[L.TRUSTED + k]) for k in range(2)]

    @property
    def diverged(self) -> list[int]:
        return [int(self.words[L.DIVERGED + k]) for k in range(2)]

    @property
    def switches(self) -> int:
        return int(self.words[L.SWITCHES])

    @property
    def prerolling(self) -> bool:
        return bool(self.words[L.PREROLLING])

    def callback_stats(self) -> dict[str, float | int]:
        """Callback duration p50/p99/max (ms), lateness and missed cycles by cause."""
        return cycle_figures(self.words, self.durations, self.lateness)

    def defer_bells(self) -> None:
        """Ring doorbells from a thread of this process instead of the device thread.

        A doorbell is a write to a FIFO that wakes another process: a system call
        whose tail (tens of µs on these virtual machines) would be the callback's.
        The callback only flags it; this thread rings what is flagged every
        ``BELL_PERIOD_S`` — the features actor and the synth hear of a new block up
        to a millisecond later, well inside their own slack (a hop; the look-ahead).
        """
        w = self.words
        pairs = [(L.BELL_PENDING + k, int(w[L.IN_FDS + k])) for k in range(int(w[L.IN_READERS]))]
        for k, r in enumerate((L.OUT0, L.OUT1)):
            if w[r + L.R_ADDR]:
                pairs.append((L.BELL_PENDING + 8 + k, int(w[r + L.R_SPACE_FD])))
        w[L.DEFER_BELLS] = 1
        self._bell_thread = threading.Thread(
            target=self._ring_flagged, args=(pairs,), name="kelly-bells", daemon=True
        )
        self._bell_thread.start()

    def _ring_flagged(self, pairs: list[tuple[int, int]]) -> None:
        w = self.words
        while not self._stop_bells.wait(BELL_PERIOD_S):
            for word, fd in pairs:
                if w[word]:
                    w[word] = 0  # cleared before ringing: a flag set meanwhile is rung next turn
                    with contextlib.suppress(BlockingIOError):
                        os.write(fd, b"\x01")

    def close(self) -> None:
        """Release the views and doorbells (after the callback is unregistered)."""
        self._stop_bells.set()
        if self._bell_thread is not None:
            self._bell_thread.join()
            self._bell_thread = None
        for bell in self._bells:
            bell.close()
        self._bells = []
        self._views = {}
