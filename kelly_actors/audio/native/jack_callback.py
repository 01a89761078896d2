"""JACK process callbacks as C function pointers (numba ``cfunc``).

``engine_process`` runs the performance's block (:func:`.core.process_block`)
between JACK's port buffers, and writes the cycle's MIDI (:mod:`.midi_out`) when a
MIDI port is registered; ``reference_process`` writes a sine and nothing
else. Both time their cycle with :func:`.cycles.time_cycle`, so the machine's
own misses (the reference) and ours are measured alike.

Signature: ``int process(jack_nframes_t nframes, void *arg)`` with ``arg`` the
address of the state words (:mod:`.layout`). Importing this module loads
both from numba's on-disk cache (compiled the first time: a few seconds).
"""

from __future__ import annotations

import numpy as np
from numba import carray, cfunc, njit, types

from kelly_actors.audio.native import layout as L
from kelly_actors.audio.native.core import process_block
from kelly_actors.audio.native.cycles import time_cycle
from kelly_actors.audio.native.midi_out import plan_from_state, write_from_state
from kelly_actors.audio.native.pointers import (
    CLOCK_THREAD_CPUTIME_ID,
    address_of,
    call_clock_gettime,
    call_get_cycle_times,
    call_get_time,
    call_port_get_buffer,
    f32_ptr,
    f64_ptr,
    i64_ptr,
)

SIGNATURE = types.int32(types.uint32, types.CPointer(types.int64))


@njit(nogil=True, cache=True)
def _thread_cpu_s(w, base):
    call_clock_gettime(w[L.FN_CLOCK_GETTIME], CLOCK_THREAD_CPUTIME_ID, base + 8 * L.TIMESPEC)
    return w[L.TIMESPEC] + w[L.TIMESPEC + 1] * 1e-9


@njit(nogil=True, cache=True)
def _cycle_times(w, base):
    """Fill CYCLE_FRAMES / CYCLE_USECS / CYCLE_NEXT; the cycle's first frame."""
    w[L.CYCLE_FRAMES] = 0
    call_get_cycle_times(
        w[L.FN_GET_CYCLE_TIMES],
        w[L.CLIENT],
        base + 8 * L.CYCLE_FRAMES,
        base + 8 * L.CYCLE_USECS,
        base + 8 * L.CYCLE_NEXT,
        base + 8 * L.CYCLE_PERIOD,
    )
    return w[L.CYCLE_FRAMES] & 0xFFFFFFFF


@njit(nogil=True, cache=True)
def _port(w, word, nframes):
    """The float32 (nframes,) buffer of the port whose pointer is in ``w[word]``."""
    buffer = call_port_get_buffer(w[L.FN_PORT_GET_BUFFER], w[word], nframes)
    return carray(f32_ptr(buffer), nframes)


@njit(nogil=True, cache=True)
def _interleave_inputs(w, inb, n_in, nframes):
    """Ports in_1..in_N into ``inb`` float32 (nframes × N,), frame-major as audio_in's
    (block, N) slot lays them out."""
    for k in range(n_in):
        port = _port(w, L.PORT_IN + k, nframes)
        for t in range(nframes):
            inb[t * n_in + k] = port[t]


@njit(nogil=True, cache=True)
def _segment(w, addr_word, words_word, base):
    """A ring segment as int64 and float32 views (the state words if there is none)."""
    addr = w[addr_word]
    n = w[words_word]
    if addr == 0:
        addr, n = base, 1
    return carray(i64_ptr(addr), n), carray(f32_ptr(addr), 2 * n)


@njit(nogil=True, cache=True)
def _end_cycle(w, f, base, t0, cpu0, frames, nframes):
    """Time the cycle that began at ``t0`` µs with ``cpu0`` s of thread CPU time."""
    t1 = call_get_time(w[L.FN_GET_TIME])
    cpu = _thread_cpu_s(w, base) - cpu0
    durations = carray(f64_ptr(w[L.DURATIONS_ADDR]), L.DURATION_HISTORY)
    lateness = carray(f64_ptr(w[L.LATENESS_ADDR]), L.DURATION_HISTORY)
    time_cycle(w, f, durations, lateness, t0, t1, cpu, frames, nframes)


@cfunc(SIGNATURE, nopython=True, cache=True)
def engine_process(nframes, state):
    base = address_of(state)
    w = carray(state, L.WORDS)
    t0 = call_get_time(w[L.FN_GET_TIME])
    cpu0 = _thread_cpu_s(w, base)
    frames = _cycle_times(w, base)
    n = w[L.BLOCK]
    ch = w[L.CHANNELS]
    left = _port(w, L.PORT_OUT, nframes)
    right = _port(w, L.PORT_OUT + 1, nframes)
    midi = w[L.MIDI_PORT] != 0
    if nframes != n:
        # The server changed its period under us: silence, never a torn block.
        left[:] = 0.0
        right[:] = 0.0
        if midi:
            write_from_state(w, base, 0, nframes)
        return 0
    f = carray(f64_ptr(base), L.WORDS)
    n_in = w[L.IN_CHANNELS]
    inb = carray(f32_ptr(w[L.IN_BLOCK_ADDR]), n * n_in)
    outb = carray(f32_ptr(w[L.OUT_BLOCK_ADDR]), n * ch)
    w[L.HAS_INPUT] = 0
    if w[L.PORT_IN] != 0:
        _interleave_inputs(w, inb, n_in, nframes)
        w[L.HAS_INPUT] = 1
    iq, ip = _segment(w, L.IN_ADDR, L.IN_WORDS, base)
    oq0, op0 = _segment(w, L.OUT0 + L.R_ADDR, L.OUT0 + L.R_WORDS, base)
    oq1, op1 = _segment(w, L.OUT1 + L.R_ADDR, L.OUT1 + L.R_WORDS, base)
    blocks = carray(f32_ptr(w[L.BLOCKS_ADDR]), (2, n * ch))
    tq = carray(i64_ptr(w[L.TRANSPORT_ADDR]), 8)
    tf = carray(f64_ptr(w[L.TRANSPORT_ADDR]), 8)
    fades = carray(f32_ptr(w[L.FADES_ADDR]), 2 * n)
    rec_out = carray(f32_ptr(w[L.REC_OUT_ADDR] or base), w[L.REC_OUT_FRAMES] * ch or 1)
    rec_in = carray(f32_ptr(w[L.REC_IN_ADDR] or base), w[L.REC_IN_FRAMES] or 1)
    # MIDI is planned with the tempo segment this block plays with, i.e. before the
    # block advances the clock; a clock still held by the pre-roll plays no MIDI, and
    # the block that ends it plays from where the pre-roll moved the clock.
    planned = midi and w[L.PREROLLING] == 0
    midi_count = plan_from_state(w, f, w[L.SAMPLE], n, frames) if planned else 0
    process_block(
        w, f, iq, ip, oq0, op0, oq1, op1, tq, tf, inb, outb, blocks, fades, rec_out, rec_in
    )
    if midi and not planned and w[L.PREROLLING] == 0:
        midi_count = plan_from_state(w, f, w[L.SAMPLE] - n, n, frames)
    if midi:
        write_from_state(w, base, midi_count, nframes)
    for t in range(n):
        left[t] = outb[t * ch]
        right[t] = outb[t * ch + 1]
    _end_cycle(w, f, base, t0, cpu0, frames, n)
    return 0


@cfunc(SIGNATURE, nopython=True, cache=True)
def reference_process(nframes, state):
    base = address_of(state)
    w = carray(state, L.WORDS)
    t0 = call_get_time(w[L.FN_GET_TIME])
    f = carray(f64_ptr(base), L.WORDS)
    cpu0 = _thread_cpu_s(w, base)
    frames = _cycle_times(w, base)
    out = _port(w, L.PORT_OUT, nframes)
    step = 440.0 / w[L.SAMPLE_RATE]
    phase = f[L.SINE_PHASE]
    for t in range(nframes):
        out[t] = np.float32(0.05 * np.sin(2.0 * np.pi * phase))
        phase += step
        if phase >= 1.0:
            phase -= 1.0
    f[L.SINE_PHASE] = phase
    w[L.CALLBACKS] += 1
    _end_cycle(w, f, base, t0, cpu0, frames, nframes)
    return 0
