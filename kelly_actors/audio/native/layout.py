"""The state region: int64 words shared by the compiled callback and the actor's thread.

One numpy ``int64`` array (its ``float64`` view for the words marked *f*),
allocated by :class:`kelly_actors.audio.native.engine.NativeEngine` and
handed to the callback by address. The callback writes the counters and the
clock; the actor's thread writes only the tempo-request queue (``REQ_*``,
then ``REQ_WRITTEN``) and the recording read positions (``REC_*_READ``).
Every word is one aligned 8-byte store, which x86 makes atomic and ordered.

Words holding addresses point at arrays or mappings that the engine keeps
alive while the callback is registered.
"""

from __future__ import annotations

import itertools

_next = itertools.count()


def _word() -> int:
    return next(_next)


def _words(n: int) -> int:
    first = next(_next)
    for _ in range(n - 1):
        next(_next)
    return first


# The block.
BLOCK = _word()  # frames per cycle
CHANNELS = _word()  # output channels (2)
SAMPLE_RATE = _word()  # Hz
HAS_INPUT = _word()  # 1: the device gives input this cycle
IN_CHANNELS = _word()  # input channels N: audio_in is (block, N), PORT_IN holds N ports

# audio_in: this process is its writer.
IN_ADDR = _word()  # address of the ring segment (0: no input ring)
IN_WORDS = _word()  # segment size in int64 words
IN_CAP = _word()
IN_STRIDE = _word()  # slot stride in int64 words
IN_READERS = _word()
IN_DROP = _word()  # 1: "drop" policy
IN_INDEX = _word()  # the next index to write
IN_SLOWEST = _word()  # slowest reader's index as last read
IN_FDS = _words(8)  # doorbell descriptors of the readers

# The output rings: audio_out (OUT0) and the standby synth's (OUT1); this
# process is reader R_SLOT of each. Words of one ring, from its base:
R_ADDR, R_WORDS, R_CAP, R_STRIDE, R_SLOT, R_INDEX, R_PEAK, R_SPACE_FD = range(8)
OUT0 = _words(8)
OUT1 = _words(8)
ACTIVE = _word()  # which output ring plays: 0 or 1
TRUSTED = _words(2)  # 1: the ring's last compared block matched the active one's
DIVERGED = _words(2)  # blocks of each ring that differed from the active one's
SWITCHES = _word()  # times the standby took over
BLOCKS_ADDR = _word()  # float32 (2, block × channels): each ring's block this cycle
PREROLLING = _word()  # 1: a fresh clock waits for the first block
PREROLL_BLOCKS = _word()  # cycles spent waiting

# Doorbells: rung from the device thread, or (DEFER_BELLS = 1) flagged here and
# rung by the actor's bell thread, which keeps two wake-up system calls a cycle
# off the real-time path (see engine.py). Flags 0–7: audio_in's readers
# (IN_FDS); 8, 9: the space doorbells of OUT0, OUT1.
DEFER_BELLS = _word()
BELL_PENDING = _words(10)

# The transport block and the clock.
TRANSPORT_ADDR = _word()
SAMPLE = _word()  # frames played since the start
SEG_START = _word()  # current tempo segment: start sample
SEG_BEAT = _word()  # f: beat at SEG_START
SEG_TEMPO = _word()  # f: bpm
SEG_BPB = _word()  # beats per bar
PENDING_MAX = 16
PENDING_N = _word()
PENDING = _words(4 * PENDING_MAX)  # (start, f beat, f tempo, bpb) sorted by start

# Tempo requests from the actor's thread (single producer, single consumer).
REQ_MAX = 16
REQ_WRITTEN = _word()
REQ_READ = _word()
REQ = _words(4 * REQ_MAX)  # f: start, tempo, beat, beats per bar

# The block's outcome.
CALLBACKS = _word()
UNDERRUNS = _word()
LATE_BLOCKS = _word()
RECOVERING = _word()
LAST = _words(2)  # f: the last output sample per channel (float32 values)

# Scratch blocks and fades (float32 arrays).
IN_BLOCK_ADDR = _word()  # float32 (block × IN_CHANNELS,), frames interleaved
OUT_BLOCK_ADDR = _word()  # (block, channels) interleaved: what plays
FADES_ADDR = _word()  # fade-out (block,) then fade-in (block,)

# Recording buffers (float32, frames × channels), read by the actor's thread.
REC_OUT_ADDR = _word()
REC_OUT_FRAMES = _word()
REC_OUT_WRITTEN = _word()
REC_OUT_READ = _word()
REC_OUT_DROPPED = _word()
REC_IN_ADDR = _word()
REC_IN_FRAMES = _word()
REC_IN_WRITTEN = _word()
REC_IN_READ = _word()
REC_IN_DROPPED = _word()

# Timing of each cycle (see cycles.py).
DURATIONS_ADDR = _word()  # f64 (DURATION_HISTORY,): seconds the callback took
LATENESS_ADDR = _word()  # f64 (DURATION_HISTORY,): µs from the cycle's start to ours
DURATION_HISTORY = 4096
TIMED = _word()  # cycles timed
MAX_TOOK = _word()  # f: seconds
MAX_CPU = _word()  # f: seconds of thread CPU time in one callback
MISSED_LATE = _word()  # finished past the deadline, having started late (the machine)
MISSED_PREEMPTED = _word()  # started on time, finished late, our CPU time fitted (the machine)
OVERRUNS = _word()  # our own CPU time did not fit in what was left of the period (ours)
SKIPPED = _word()  # cycles the server ran without calling us (the machine)
LAST_FRAMES = _word()  # the previous cycle's first frame (-1: none yet)
TIMESPEC = _words(2)  # scratch for clock_gettime
CYCLE_FRAMES = _word()  # scratch for jack_get_cycle_times: uint32 frames
CYCLE_USECS = _word()  # uint64 µs when the cycle started
CYCLE_NEXT = _word()  # uint64 µs when the next one starts (the deadline)
CYCLE_PERIOD = _word()  # float32 µs per period

# C functions the callback calls, by address (see pointers.py).
FN_WRITE = _word()
FN_CLOCK_GETTIME = _word()
FN_PORT_GET_BUFFER = _word()
FN_GET_TIME = _word()
FN_GET_CYCLE_TIMES = _word()

# JACK.
CLIENT = _word()  # jack_client_t*
#: Most input ports (an ensemble's performers): the audio actor's input_channels bound.
MAX_INPUTS = 8
PORT_IN = _words(MAX_INPUTS)  # jack_port_t* of in_1..in_N (0: none)
PORT_OUT = _words(2)
SINE_PHASE = _word()  # f: the reference client's oscillator phase (cycles)

# MIDI out (see midi_out.py): the ``midi`` ring's messages and the MIDI clock, written
# into a JACK MIDI port at their frames in the cycle.
MIDI_PORT = _word()  # jack_port_t* of the MIDI output (0: no MIDI out)
FN_MIDI_CLEAR = _word()  # jack_midi_clear_buffer
FN_MIDI_WRITE = _word()  # jack_midi_event_write
MIDI_RING = _words(8)  # reader state of the ``midi`` ring (R_* words; R_ADDR 0: none)
MIDI_PENDING_ADDR = _word()  # int64 (MIDI_PENDING_MAX, 2): (sample time, packed bytes)
MIDI_PENDING_MAX = 2048
MIDI_PENDING_N = _word()  # messages taken from the ring, waiting for their cycle
MIDI_OUT_ADDR = _word()  # int64 (MIDI_OUT_MAX, 3): this cycle's (frame, packed, length)
MIDI_OUT_MAX = 256
MIDI_CLOCK = _word()  # 1: send MIDI clock (24 per beat), song position and start
MIDI_NEXT_TICK = _word()  # the next clock tick to send (beats × 24); -1: not started
MIDI_START_TICK = _word()  # the tick that song position and start/continue precede
MIDI_SCRATCH = _word()  # one message's bytes, handed to jack_midi_event_write
MIDI_SENT = _word()  # messages written into the port (clock ticks included)
MIDI_TICKS = _word()  # clock ticks written
MIDI_LATE = _word()  # messages whose time had passed when their cycle came (sent at once)
MIDI_STALE = _word()  # note-ons later than MIDI_STALE_S: dropped, never played late
MIDI_FULL = _word()  # messages the port's buffer refused (full): dropped
MIDI_BAD = _word()  # ring slots that held no valid message: skipped
MIDI_STOPPING = _word()  # 1: the actor stops: send MIDI Stop, no more ticks; 2: sent
# JACK frame − transport sample of the last cycle, mod 2^32 (JACK's frame counter is a
# uint32): one word, so a reader never sees half of a cycle's mapping.
MIDI_FRAME_OFFSET = _word()

WORDS = next(_next)
