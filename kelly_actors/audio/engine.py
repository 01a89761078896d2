"""What happens in the audio callback, independent of any device.

:class:`AudioEngine.process` is the whole real-time path: input block →
``audio_in`` ring; ``audio_out`` ring → output block (or the fallback);
the clock advances and the transport is written; the block is copied into
the recorder's buffer; the callback's own duration is stored. Everything it
touches is preallocated; it never locks, logs, prints or waits.

Fallback when ``audio_out`` has no block for this moment: the last output
sample is held and faded to zero over one block (continuous, so no click),
silence follows, and the first block after recovery fades in over one block.

Warm standby: with a second synth writing ``audio_out_b`` in lockstep, every
block is taken from both rings. The active synth's block plays; when it has
none (dead, stopped, late) the standby's block for the same sample plays and
the standby becomes the active one — within the block, and without a click,
because the two render sample-identical blocks. Whenever both have a block
they are compared: a standby whose block differs is *diverged* (counted, and
not switched to) until its blocks match again. Trust is earned by matching an
audible block: before the music, a standby on another preset matches the silence,
and switching to it then would play the wrong instrument for the whole piece.

Pre-roll: a fresh performance's clock does not run until the first block
arrives (at most ``PREROLL_BLOCKS`` cycles): the cycles before it play silence
and count no under-run. A block stamped ahead of the held clock moves the
clock to it.
"""

from __future__ import annotations

import collections
import time

import numpy as np

from kelly_actors.bus.clock import MusicalClock
from kelly_actors.bus.ring import RingReader, RingWriter
from kelly_actors.bus.transport import Transport

DURATION_HISTORY = 4096
#: Cycles a fresh clock waits for the synth's first block before running anyway (2.7 s).
PREROLL_BLOCKS = 512


def input_columns(in_writer: RingWriter | None) -> int:
    """Input channels the ``audio_in`` ring carries: its shape is (block, N)."""
    return int(in_writer.spec.shape[1]) if in_writer is not None else 1


def copy_input(indata: np.ndarray, block: np.ndarray) -> None:
    """The device's input float32 (frames, M) into ``block`` (frames, N): column k from
    channel k; channels the device did not give (M < N) are silence. No allocation
    beyond two views."""
    n = min(indata.shape[1], block.shape[1])
    block[:, :n] = indata[:, :n]
    if n < block.shape[1]:
        block[:, n:] = 0.0


class RecordBuffer:
    """Single-producer (callback) / single-consumer (main loop) frame buffer."""

    def __init__(self, frames: int, channels: int) -> None:
        self.data = np.zeros((frames, channels), np.float32)
        self.written = 0
        self.read = 0
        self.dropped = 0

    def push(self, block: np.ndarray) -> None:
        n, cap = block.shape[0], self.data.shape[0]
        if self.written + n - self.read > cap:
            self.dropped += n
            return
        start = self.written % cap
        end = start + n
        if end <= cap:
            self.data[start:end] = block
        else:
            split = cap - start
            self.data[start:] = block[:split]
            self.data[: end - cap] = block[split:]
        self.written += n

    def pop_all(self) -> np.ndarray:
        """Everything pushed since the last pop (a new array; main loop only)."""
        written, cap = self.written, self.data.shape[0]
        n = written - self.read
        idx = (self.read + np.arange(n)) % cap
        self.read = written
        return self.data[idx]


class AudioEngine:
    """The callback's state and work.

    Args:
        clock: the musical clock (owned by the callback from now on).
        transport: the transport block to publish to after each block.
        in_writer: writer of ``audio_in``, float32 (block, N): one column per input
            channel (N from the ring's shape; an ensemble's performers), or None.
        out_reader: reader of ``audio_out`` (shape (block, 2)), or None.
        block_size: frames per callback.
        record_output / record_input: keep copies of the blocks for WAV recording.
        standby_reader: reader of the standby synth's ring (same shape), or None.
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
        self.clock = clock
        self.transport = transport
        self.in_writer = in_writer
        self.out_reader = out_reader
        self.block_size = block_size
        self.channels = channels
        self.tempo_requests: collections.deque[tuple[int, float, float, int]] = collections.deque()
        self._fade_out = np.linspace(1.0, 0.0, block_size, dtype=np.float32)[:, None]
        self._fade_in = np.linspace(0.0, 1.0, block_size, dtype=np.float32)[:, None]
        self._last = np.zeros((1, channels), np.float32)
        #: Input channels: the ``audio_in`` ring's columns (1 without a ring).
        self.input_channels = input_columns(in_writer)
        self._in_block = np.zeros((block_size, self.input_channels), np.float32)
        self._recovering = False
        seconds = 10
        frames = clock.sample_rate * seconds
        self.out_record = RecordBuffer(frames, channels) if record_output else None
        self.in_record = RecordBuffer(frames, self.input_channels) if record_input else None
        self.durations = np.zeros(DURATION_HISTORY, np.float64)
        self.callbacks = 0
        self.max_duration = 0.0
        self.xruns = 0
        self.xrun_at = np.zeros(64, np.int64)  # sample times of the first xruns
        self.underruns = 0
        self.late_blocks = 0
        self.peak_out = 0.0
        self.standby_reader = standby_reader
        self._blocks = np.zeros((2, block_size, channels), np.float32)
        self._differ = np.zeros((block_size, channels), np.bool_)
        self.active = 0  # which ring plays: 0 the out ring, 1 the standby's
        self.trusted = [True, False]  # a ring whose last compared block matched
        self.diverged = [0, 0]  # blocks of each ring that differed from the active one's
        self.switches = 0
        self.prerolling = preroll
        self.preroll_blocks = 0

    def process(self, indata: np.ndarray | None, outdata: np.ndarray, xrun: bool) -> None:
        """One block: ``indata`` (block, ≥1) or None, ``outdata`` (block, channels) to fill."""
        start = time.perf_counter()
        if xrun:
            self.note_xrun()
        if self.prerolling and self._preroll(self.clock.sample):
            outdata.fill(0.0)
            self.clock.publish(self.transport, running=False)
            return
        sample = self.clock.sample
        if self.in_writer is not None:
            if indata is None:
                self._in_block.fill(0.0)
            else:
                copy_input(indata, self._in_block)
            self.in_writer.write(self._in_block, sample)
            if self.in_record is not None:
                self.in_record.push(self._in_block)
        self._fill_output(sample, outdata)
        if self.out_record is not None:
            self.out_record.push(outdata)
        while self.tempo_requests:
            self.clock.request(*self.tempo_requests.popleft())
        self.clock.advance(outdata.shape[0])
        self.clock.publish(self.transport)
        took = time.perf_counter() - start
        self.durations[self.callbacks % DURATION_HISTORY] = took
        if took > self.max_duration:
            self.max_duration = took
        self.callbacks += 1

    def _take(self, reader: RingReader, sample: int, out: np.ndarray) -> bool:
        """Read ``reader``'s block stamped ``sample`` into ``out``; stale ones are
        skipped and counted late. False when it has none (yet)."""
        while True:
            ts = reader.peek_sample_time()
            if ts is None or ts > sample:
                return False
            if ts < sample:  # rendered for a moment already past
                reader.skip()
                self.late_blocks += 1
                continue
            return reader.read_into(out)

    def _compare(self) -> None:
        """Both rings had a block: the one not playing is trusted while it matches. Only an
        audible match earns trust: silence matches a synth on any preset, so two silent
        blocks leave the trust as it was."""
        other = 1 - self.active
        np.not_equal(self._blocks[0], self._blocks[1], out=self._differ)
        if self._differ.any():
            self.diverged[other] += 1
            self.trusted[other] = False
        elif self._blocks[other].any():
            self.trusted[other] = True

    def _source(self, sample: int) -> int:
        """Which ring's block plays at ``sample``: the active one's, else a trusted
        standby's (which becomes active), else -1 (the fallback)."""
        got = [False, False]
        if self.out_reader is not None:
            got[0] = self._take(self.out_reader, sample, self._blocks[0])
        if self.standby_reader is not None:
            got[1] = self._take(self.standby_reader, sample, self._blocks[1])
        if got[0] and got[1]:
            self._compare()
        if got[self.active]:
            return self.active
        other = 1 - self.active
        if got[other] and self.trusted[other]:
            self.active = other
            self.trusted[1 - other] = False  # the one that missed must prove itself again
            self.switches += 1
            return other
        return -1

    def _preroll(self, sample: int) -> bool:
        """While the fresh clock waits for the first block: True (play silence, hold)."""
        self.preroll_blocks += 1
        if self.preroll_blocks > PREROLL_BLOCKS:
            self.prerolling = False
            return False
        first = None
        for reader in (self.out_reader, self.standby_reader):
            if reader is not None:
                ts = reader.peek_sample_time()
                if ts is not None and ts >= sample and (first is None or ts < first):
                    first = ts
        if first is None:
            return True
        self.clock.advance(first - sample)  # the clock starts at the first block
        self.prerolling = False
        return False

    def _fill_output(self, sample: int, outdata: np.ndarray) -> None:
        source = self._source(sample)
        if source >= 0:
            outdata[...] = self._blocks[source]
            if self._recovering:
                np.multiply(outdata, self._fade_in, out=outdata)
                self._recovering = False
            self._last[0] = outdata[-1]
        else:
            self.underruns += 1
            np.multiply(self._fade_out, self._last, out=outdata)
            self._last.fill(0.0)
            self._recovering = True

    def note_xrun(self) -> None:
        """Count an xrun the device reported, at the current sample."""
        if self.xruns < self.xrun_at.size:
            self.xrun_at[self.xruns] = self.clock.sample
        self.xruns += 1

    @property
    def sample(self) -> int:
        """Frames played since the start."""
        return self.clock.sample

    def request_tempo(self, start: int, tempo: float, beat: float, beats_per_bar: int) -> bool:
        """Queue a tempo change; the callback applies it (always accepted)."""
        self.tempo_requests.append((start, tempo, beat, beats_per_bar))
        return True

    def xrun_samples(self) -> list[int]:
        return self.xrun_at[: min(self.xruns, self.xrun_at.size)].tolist()

    def queued_blocks(self) -> int:
        """Blocks the active synth has rendered ahead of the callback."""
        reader = (self.out_reader, self.standby_reader)[self.active]
        return max(0, reader.available()) if reader is not None else 0

    def callback_stats(self) -> dict[str, float]:
        """Callback duration p50/p99/max (ms) over the recent history."""
        n = min(self.callbacks, DURATION_HISTORY)
        if n == 0:
            return {"callback_p50_ms": 0.0, "callback_p99_ms": 0.0, "callback_max_ms": 0.0}
        recent = self.durations[:n] * 1e3
        p50, p99 = np.percentile(recent, [50, 99])
        return {
            "callback_p50_ms": round(float(p50), 4),
            "callback_p99_ms": round(float(p99), 4),
            "callback_max_ms": round(self.max_duration * 1e3, 4),
        }
