"""MIDI out from the compiled callback: each message at its frame in the cycle, and MIDI clock.

The composer writes every MIDI message into the ``midi`` ring when it composes it,
stamped with the transport sample it belongs to (:mod:`kelly_actors.bus.midi_wire`). Each
JACK cycle the callback plays the block stamped ``start`` (``n`` frames), so a message
stamped ``start + k`` (``0 <= k < n``) is written at frame ``k`` of this cycle: it leaves
with the audio sample it belongs to, exactly. The functions here:

- :func:`take_messages` moves what the ring holds into ``pending`` (int64
  (MIDI_PENDING_MAX, 2): sample time, packed message), kept sorted by time, so a panic
  written after a bar's future notes still leaves first;
- :func:`plan_cycle` fills ``out`` (int64 (MIDI_OUT_MAX, 3): frame, packed message,
  length) with this cycle's messages in frame order: pending ones that are due and, with
  ``MIDI_CLOCK``, the clock ticks (24 per beat at the clock's tempo), song position and
  Start/Continue before the first, and Stop once the actor stops (``MIDI_STOPPING``);
- :func:`write_cycle` clears the JACK port's buffer and writes ``out`` into it.

A message whose time has passed is written at frame 0 and counted late; a note-on later
than ``STALE_S`` is dropped (counted), never played out of time. A full port buffer
refuses a message: counted, never waited for. ``take_messages`` and ``plan_cycle`` touch
only arrays, so tests run them on numpy arrays without a JACK server.
"""

from __future__ import annotations

import ctypes

import numpy as np
from llvmlite import ir
from numba import carray, njit, types
from numba.extending import intrinsic

from kelly_actors.audio.native import layout as L
from kelly_actors.audio.native.core import SLOT_HEADER, SLOTS, _count, _set_index, _skip_lapped
from kelly_actors.audio.native.pointers import _emit_call, call_port_get_buffer, fence, i64_ptr
from kelly_actors.bus import midi_wire as wire
from kelly_actors.bus.ring_layout import _R_OVERRUNS, _R_TORN, _W_INDEX

#: A note-on this late (s) when its cycle comes is dropped instead of played.
STALE_S = 0.1
#: Ring slots taken per cycle at most: bounds the cycle's work whatever the ring holds
#: (each is an insertion into ``pending``, O(1) for messages in time order).
TAKE_MAX = 256
_expected_length = njit(nogil=True, cache=True)(wire.expected_length)
_ASAP = wire.ASAP
_CLOCK, _START, _CONTINUE, _STOP = wire.CLOCK, wire.START, wire.CONTINUE, wire.STOP
_TICKS_PER_BEAT, _TICKS_PER_16TH = wire.TICKS_PER_BEAT, wire.TICKS_PER_SIXTEENTH
_SPP, _SPP_WRAP = wire.SONG_POSITION, wire.SONG_POSITION_WRAP


@intrinsic
def call_midi_clear_buffer(typingctx, fn, buffer):
    """``void jack_midi_clear_buffer(void *port_buffer)`` at address ``fn``."""

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer()])
        function = builder.inttoptr(args[0], fnty.as_pointer())
        builder.call(function, [builder.inttoptr(args[1], ir.IntType(8).as_pointer())])
        return context.get_dummy_value()

    return types.void(types.int64, types.int64), codegen


@intrinsic
def call_midi_event_write(typingctx, fn, buffer, frame, data, size):
    """``int jack_midi_event_write(void *buffer, jack_nframes_t time, const jack_midi_data_t
    *data, size_t size)`` at address ``fn``: 0, or ENOBUFS when the buffer is full."""

    def codegen(context, builder, signature, args):
        return _emit_call(builder, args, "i32", ("ptr", "i32", "ptr", "i64"))

    return types.int64(*([types.int64] * 5)), codegen


def jack_midi_addresses() -> tuple[int, int]:
    """Addresses of ``jack_midi_clear_buffer`` and ``jack_midi_event_write``; OSError
    where libjack cannot be loaded."""
    lib = ctypes.CDLL("libjack.so.0")
    return tuple(  # type: ignore[return-value]
        ctypes.cast(getattr(lib, name), ctypes.c_void_p).value or 0
        for name in ("jack_midi_clear_buffer", "jack_midi_event_write")
    )


@njit(nogil=True, cache=True)
def _valid(word):
    length = (word >> 24) & 0xFF
    if word < 0 or word >> 32 != 0 or length < 1 or length > 3:
        return False
    if _expected_length(word & 0xFF) != length:
        return False
    # Data bytes below 0x80, and nothing past the message's length.
    return word & 0x808000 == 0 and (word & 0xFFFFFF) >> (8 * length) == 0


@njit(nogil=True, cache=True)
def _insert(pending, n, time, word):
    """Insert (time, word) into the sorted first ``n`` rows, after equal times (their
    order as written stays: a note-off before the next note-on at the same sample)."""
    k = n
    while k > 0 and pending[k - 1, 0] > time:
        pending[k, 0] = pending[k - 1, 0]
        pending[k, 1] = pending[k - 1, 1]
        k -= 1
    pending[k, 0] = time
    pending[k, 1] = word


@njit(nogil=True, cache=True)
def take_messages(w, mq, pending):
    """Move the ``midi`` ring's unread messages into ``pending`` while it has room.

    ``mq``: the ring's segment as int64 words; our reader state is at ``MIDI_RING``.
    A torn or lapped slot is skipped and counted on the ring, as the audio rings do.
    """
    r = L.MIDI_RING
    if w[r + L.R_ADDR] == 0:
        return
    cap = w[r + L.R_CAP]
    n = w[L.MIDI_PENDING_N]
    for _ in range(min(cap + 2, TAKE_MAX)):  # each turn consumes a slot: never a spin
        if n >= L.MIDI_PENDING_MAX:
            break
        i = w[r + L.R_INDEX]
        written = mq[_W_INDEX]
        if i >= written:
            break
        i = _skip_lapped(w, r, mq, i, written, cap)
        base = SLOTS + (i % cap) * w[r + L.R_STRIDE]
        seq = mq[base]
        fence()
        if seq == 2 * i + 2:
            time = mq[base + 2]
            word = mq[base + SLOT_HEADER]
            fence()
            if mq[base] == seq:
                _set_index(w, r, mq, i + 1)
                if _valid(word):
                    _insert(pending, n, time, word)
                    n += 1
                else:
                    w[L.MIDI_BAD] += 1
                continue
            _count(w, r, mq, _R_TORN, 1)
        _count(w, r, mq, _R_OVERRUNS, 1)
        _set_index(w, r, mq, i + 1)
    w[L.MIDI_PENDING_N] = n


@njit(nogil=True, cache=True)
def _tick_sample(w, f, tick):
    """The transport sample of clock tick ``tick`` (beats × 24) at the current tempo."""
    frames_per_tick = 60.0 * w[L.SAMPLE_RATE] / f[L.SEG_TEMPO] / _TICKS_PER_BEAT
    exact = w[L.SEG_START] + (tick - f[L.SEG_BEAT] * _TICKS_PER_BEAT) * frames_per_tick
    return np.int64(np.floor(exact + 0.5))


@njit(nogil=True, cache=True)
def _resync_clock(w, f, start):
    """Start (or, after the clock jumped, restart) the MIDI clock at the next 16th."""
    frames_per_tick = 60.0 * w[L.SAMPLE_RATE] / f[L.SEG_TEMPO] / _TICKS_PER_BEAT
    ticks_now = f[L.SEG_BEAT] * _TICKS_PER_BEAT + (start - w[L.SEG_START]) / frames_per_tick
    sixteenth = max(0, np.int64(np.ceil(ticks_now / _TICKS_PER_16TH - 1e-9)))
    w[L.MIDI_NEXT_TICK] = sixteenth * _TICKS_PER_16TH
    w[L.MIDI_START_TICK] = w[L.MIDI_NEXT_TICK]


@njit(nogil=True, cache=True)
def _emit(out, count, frame, word):
    out[count, 0] = frame
    out[count, 1] = word & 0xFFFFFF
    out[count, 2] = (word >> 24) & 0xFF
    return count + 1


@njit(nogil=True, cache=True)
def _emit_tick(w, out, count, frame):
    """Clock tick ``MIDI_NEXT_TICK`` at ``frame``, with song position and Start/Continue
    before the first one after a (re)start."""
    tick = w[L.MIDI_NEXT_TICK]
    if tick == w[L.MIDI_START_TICK]:
        position = (tick // _TICKS_PER_16TH) % _SPP_WRAP
        spp = _SPP | (position & 0x7F) << 8 | (position >> 7) << 16 | 3 << 24
        count = _emit(out, count, frame, spp)
        count = _emit(out, count, frame, (_START if tick == 0 else _CONTINUE) | 1 << 24)
        w[L.MIDI_START_TICK] = -1
    count = _emit(out, count, frame, _CLOCK | 1 << 24)
    w[L.MIDI_NEXT_TICK] = tick + 1
    w[L.MIDI_TICKS] += 1
    return count


@njit(nogil=True, cache=True)
def plan_cycle(w, f, pending, out, start, n):
    """This cycle's messages into ``out`` in frame order; returns how many.

    ``start``: the transport sample of the cycle's first frame; ``n``: frames. The
    clock's tempo segment (``SEG_*`` words) is the one this block plays with.
    """
    end = start + n
    stale = np.int64(STALE_S * w[L.SAMPLE_RATE])
    clock = w[L.MIDI_CLOCK] != 0 and f[L.SEG_TEMPO] > 0.0 and w[L.MIDI_STOPPING] == 0
    if clock and (w[L.MIDI_NEXT_TICK] < 0 or _tick_sample(w, f, w[L.MIDI_NEXT_TICK]) < start - n):
        _resync_clock(w, f, start)
    count = 0
    if w[L.MIDI_STOPPING] == 1:
        if w[L.MIDI_CLOCK] != 0:
            count = _emit(out, count, 0, _STOP | 1 << 24)
        w[L.MIDI_STOPPING] = 2
    taken = 0
    waiting = w[L.MIDI_PENDING_N]
    room = L.MIDI_OUT_MAX - 3  # a tick may bring song position and start with it
    while count < room:
        tick_frame = -1
        if clock:
            t = _tick_sample(w, f, w[L.MIDI_NEXT_TICK])
            if t < end:
                tick_frame = max(0, t - start)
        note_frame = -1
        if taken < waiting and pending[taken, 0] < end:
            time = pending[taken, 0]
            note_frame = 0 if time == _ASAP else max(0, time - start)
        if tick_frame >= 0 and (note_frame < 0 or tick_frame <= note_frame):
            count = _emit_tick(w, out, count, tick_frame)
            continue
        if note_frame < 0:
            break
        time, word = pending[taken, 0], pending[taken, 1]
        taken += 1
        if time != _ASAP and time < start:
            velocity = (word >> 16) & 0xFF
            if word & 0xF0 == 0x90 and velocity > 0 and start - time > stale:
                w[L.MIDI_STALE] += 1
                continue
            w[L.MIDI_LATE] += 1
        count = _emit(out, count, note_frame, word)
    for k in range(waiting - taken):
        pending[k, 0] = pending[k + taken, 0]
        pending[k, 1] = pending[k + taken, 1]
    w[L.MIDI_PENDING_N] = waiting - taken
    return count


@njit(nogil=True, cache=True)
def write_cycle(w, base, out, count, nframes):
    """Clear the MIDI port's buffer (JACK wants it every cycle) and write ``out[:count]``."""
    buffer = call_port_get_buffer(w[L.FN_PORT_GET_BUFFER], w[L.MIDI_PORT], nframes)
    call_midi_clear_buffer(w[L.FN_MIDI_CLEAR], buffer)
    data = base + 8 * L.MIDI_SCRATCH
    for k in range(count):
        w[L.MIDI_SCRATCH] = out[k, 1]
        if call_midi_event_write(w[L.FN_MIDI_WRITE], buffer, out[k, 0], data, out[k, 2]) == 0:
            w[L.MIDI_SENT] += 1
        else:
            w[L.MIDI_FULL] += 1


@njit(nogil=True, cache=True)
def plan_from_state(w, f, start, n, frames):
    """:func:`take_messages` and :func:`plan_cycle` on the arrays the state words point
    at, for the cycle whose first JACK frame is ``frames``; returns the count."""
    pending = carray(i64_ptr(w[L.MIDI_PENDING_ADDR]), (L.MIDI_PENDING_MAX, 2))
    out = carray(i64_ptr(w[L.MIDI_OUT_ADDR]), (L.MIDI_OUT_MAX, 3))
    r = L.MIDI_RING
    if w[r + L.R_ADDR] != 0:
        take_messages(w, carray(i64_ptr(w[r + L.R_ADDR]), w[r + L.R_WORDS]), pending)
    w[L.MIDI_FRAME_OFFSET] = (frames - start) & 0xFFFFFFFF
    return plan_cycle(w, f, pending, out, start, n)


@njit(nogil=True, cache=True)
def write_from_state(w, base, count, nframes):
    """:func:`write_cycle` of the state's ``out`` array."""
    write_cycle(w, base, carray(i64_ptr(w[L.MIDI_OUT_ADDR]), (L.MIDI_OUT_MAX, 3)), count, nframes)
