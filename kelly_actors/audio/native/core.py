"""One audio block, compiled: the rings' seqlock protocol, the clock, the fallback.

These ``njit`` functions do exactly what :class:`kelly_actors.audio.engine.AudioEngine`
and :mod:`kelly_actors.bus.ring` do in Python, on the same shared memory: a
torn or lapped slot is rejected, never played; a late block is skipped and
counted; an empty ring plays the hold-and-fade fallback. They take numpy
arrays, so the callback calls them on views of raw addresses and tests call
them on views of the same segments.

Arguments, all 1-D views:
    w:  int64 state words (:mod:`.layout`); f: their float64 view.
    iq: the ``audio_in`` segment as int64 words; ip: as float32.
    oq0 / op0, oq1 / op1: the output rings' segments likewise (``audio_out``, the
        standby's); ring ``k``'s reader state is at ``layout.OUT0`` / ``OUT1``.
    tq / tf: the transport block as int64 / float64 words.
    inb: float32 (block,) input scratch; outb: float32 (block × channels,) output.
    fades: float32 (2 × block,): fade-out then fade-in ramps.
    rec_out / rec_in: float32 recording buffers (frames × channels).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kelly_actors.audio.engine import PREROLL_BLOCKS
from kelly_actors.audio.native import layout as L
from kelly_actors.audio.native.pointers import call_write, fence
from kelly_actors.bus.ring_layout import (
    _HEADER_BYTES,
    _R0,
    _R_INDEX,
    _R_OVERRUNS,
    _R_PEAK,
    _R_STRIDE,
    _R_TORN,
    _R_UNDERRUNS,
    _R_WAIT0,
    _R_WAIT_STRIDE,
    _SLOT_HEADER_BYTES,
    _W_INDEX,
    _W_OVERRUNS,
    _W_PEAK,
    _W_WAITING,
)

SLOTS = _HEADER_BYTES // 8
SLOT_HEADER = _SLOT_HEADER_BYTES // 8
NONE = -(2**62)  # "no frame" for sample times


@njit(nogil=True, cache=True)
def ring_bell(w, fd_word, pending_word):
    """Wake a doorbell's waiter: flag it for the bell thread (``DEFER_BELLS``), else
    write one byte to its FIFO (non-blocking; a full pipe is already rung)."""
    if w[L.DEFER_BELLS]:
        w[pending_word] = 1
    elif w[fd_word] >= 0:
        call_write(w[L.FN_WRITE], w[fd_word], w.ctypes.data, 1)


@njit(nogil=True, cache=True)
def write_input(w, iq, ip, inb, sample):
    """``RingWriter.write`` of ``inb`` stamped ``sample``; False when a drop ring is full."""
    i = w[L.IN_INDEX]
    cap = w[L.IN_CAP]
    if i - w[L.IN_SLOWEST] >= cap:
        slowest = iq[_W_INDEX]
        for k in range(w[L.IN_READERS]):
            slowest = min(slowest, iq[_R0 + _R_STRIDE * k + _R_INDEX])
        w[L.IN_SLOWEST] = slowest
        if i - slowest >= cap:
            if w[L.IN_DROP]:
                iq[_W_OVERRUNS] += 1
                return False
            iq[_W_PEAK] = cap
    base = SLOTS + (i % cap) * w[L.IN_STRIDE]
    iq[base] = 2 * i + 1
    fence()
    p0 = (base + SLOT_HEADER) * 2
    for k in range(inb.size):
        ip[p0 + k] = inb[k]
    iq[base + 1] = i
    iq[base + 2] = sample
    fence()
    iq[base] = 2 * i + 2
    w[L.IN_INDEX] = i + 1
    fence()
    iq[_W_INDEX] = i + 1
    fence()
    for k in range(w[L.IN_READERS]):
        flag = _R_WAIT0 + _R_WAIT_STRIDE * k
        if iq[flag]:
            iq[flag] = 0
            ring_bell(w, L.IN_FDS + k, L.BELL_PENDING + k)
    return True


@njit(nogil=True, cache=True)
def _available(w, r, oq):
    """Unread frames of our position on ring ``r``; records the peak backlog."""
    backlog = oq[_W_INDEX] - w[r + L.R_INDEX]
    if backlog > w[r + L.R_PEAK]:
        w[r + L.R_PEAK] = min(backlog, w[r + L.R_CAP])
        oq[_R0 + _R_STRIDE * w[r + L.R_SLOT] + _R_PEAK] = w[r + L.R_PEAK]
    return backlog


@njit(nogil=True, cache=True)
def _set_index(w, r, oq, index):
    w[r + L.R_INDEX] = index
    oq[_R0 + _R_STRIDE * w[r + L.R_SLOT] + _R_INDEX] = index


@njit(nogil=True, cache=True)
def _count(w, r, oq, field, n):
    oq[_R0 + _R_STRIDE * w[r + L.R_SLOT] + field] += n


@njit(nogil=True, cache=True)
def _wake_writer(w, r, oq, index):
    """Ring the writer waiting for space once our index reaches what it asked for."""
    wanted = oq[_W_WAITING]
    if wanted and index + 1 >= wanted:
        oq[_W_WAITING] = 0
        ring_bell(w, r + L.R_SPACE_FD, L.BELL_PENDING + (9 if r == L.OUT1 else 8))


@njit(nogil=True, cache=True)
def _skip_lapped(w, r, oq, i, written, cap):
    """Lapped: the oldest frame still intact is ``written - cap + 1`` (the writer may
    already be rewriting the one before); skipped frames count as overruns."""
    if written - i <= cap:
        return i
    skip = written - cap + 1 - i
    _count(w, r, oq, _R_OVERRUNS, skip)
    w[r + L.R_INDEX] = i + skip
    return i + skip


@njit(nogil=True, cache=True)
def peek_output(w, r, oq):
    """``RingReader.peek_sample_time``: the next unread frame's sample time, or NONE."""
    cap = w[r + L.R_CAP]
    while _available(w, r, oq) > 0:
        i = w[r + L.R_INDEX]
        written = oq[_W_INDEX]
        i = _skip_lapped(w, r, oq, i, written, cap)
        base = SLOTS + (i % cap) * w[r + L.R_STRIDE]
        seq = oq[base]
        fence()
        sample_time = oq[base + 2]
        fence()
        if seq == 2 * i + 2 and oq[base] == seq:
            return sample_time
        _count(w, r, oq, _R_OVERRUNS, 1)
        _set_index(w, r, oq, i + 1)
    return NONE


@njit(nogil=True, cache=True)
def skip_output(w, r, oq):
    """``RingReader.skip``: drop the next unread frame."""
    if _available(w, r, oq) > 0:
        index = w[r + L.R_INDEX] + 1
        _set_index(w, r, oq, index)
        _wake_writer(w, r, oq, index)


@njit(nogil=True, cache=True)
def read_output(w, r, oq, op, block):
    """``RingReader.read_into``: copy the next intact frame into ``block``; False if none."""
    cap = w[r + L.R_CAP]
    for _ in range(cap + 2):  # each turn consumes a frame: bounded, never a spin
        i = w[r + L.R_INDEX]
        written = oq[_W_INDEX]
        if i >= written:
            _count(w, r, oq, _R_UNDERRUNS, 1)
            return False
        i = _skip_lapped(w, r, oq, i, written, cap)
        base = SLOTS + (i % cap) * w[r + L.R_STRIDE]
        seq = oq[base]
        fence()
        if seq == 2 * i + 2:
            p0 = (base + SLOT_HEADER) * 2
            for k in range(block.size):
                block[k] = op[p0 + k]
            fence()
            if oq[base] == seq:
                _set_index(w, r, oq, i + 1)
                _wake_writer(w, r, oq, i + 1)
                return True
            _count(w, r, oq, _R_TORN, 1)
        _count(w, r, oq, _R_OVERRUNS, 1)
        _set_index(w, r, oq, i + 1)
    return False


@njit(nogil=True, cache=True)
def take_block(w, r, oq, op, block, sample):
    """``AudioEngine._take``: ring ``r``'s block stamped ``sample``; stale ones skipped."""
    if w[r + L.R_ADDR] == 0:
        return False
    # Bounded: each turn consumes a frame, and a real-time thread must never spin.
    for _ in range(w[r + L.R_CAP] + 2):
        ts = peek_output(w, r, oq)
        if ts == NONE or ts > sample:
            return False
        if ts < sample:
            skip_output(w, r, oq)
            w[L.LATE_BLOCKS] += 1
            continue
        return read_output(w, r, oq, op, block)
    return False


@njit(nogil=True, cache=True)
def _compare(w, blocks):
    """Both rings had a block: the one not playing is trusted while it matches; two silent
    blocks leave the trust as it was (``AudioEngine._compare``)."""
    other = 1 - w[L.ACTIVE]
    n = blocks.shape[1]
    for k in range(n):
        if blocks[0, k] != blocks[1, k]:
            w[L.DIVERGED + other] += 1
            w[L.TRUSTED + other] = 0
            return
    for k in range(n):
        if blocks[other, k] != 0.0:
            w[L.TRUSTED + other] = 1
            return


@njit(nogil=True, cache=True)
def output_source(w, oq0, op0, oq1, op1, blocks, sample):
    """``AudioEngine._source``: 0 or 1 for the ring whose block plays, -1 for the fallback."""
    got0 = take_block(w, L.OUT0, oq0, op0, blocks[0], sample)
    got1 = take_block(w, L.OUT1, oq1, op1, blocks[1], sample)
    if got0 and got1:
        _compare(w, blocks)
    active = w[L.ACTIVE]
    if (got0 and active == 0) or (got1 and active == 1):
        return active
    other = 1 - active
    if ((got0 and other == 0) or (got1 and other == 1)) and w[L.TRUSTED + other]:
        w[L.ACTIVE] = other
        w[L.TRUSTED + active] = 0
        w[L.SWITCHES] += 1
        return other
    return -1


@njit(nogil=True, cache=True)
def fill_output(w, f, oq0, op0, oq1, op1, blocks, outb, fades, sample):
    """The block stamped ``sample`` from the active (or a trusted standby) ring, or
    the hold-and-fade fallback."""
    n = w[L.BLOCK]
    ch = w[L.CHANNELS]
    source = output_source(w, oq0, op0, oq1, op1, blocks, sample)
    if source >= 0:
        outb[:] = blocks[source]
        if w[L.RECOVERING]:
            for t in range(n):
                for c in range(ch):
                    outb[t * ch + c] = outb[t * ch + c] * fades[n + t]
            w[L.RECOVERING] = 0
        for c in range(ch):
            f[L.LAST + c] = outb[(n - 1) * ch + c]
    else:
        w[L.UNDERRUNS] += 1
        for t in range(n):
            for c in range(ch):
                outb[t * ch + c] = fades[t] * np.float32(f[L.LAST + c])
        for c in range(ch):
            f[L.LAST + c] = 0.0
        w[L.RECOVERING] = 1


@njit(nogil=True, cache=True)
def preroll(w, f, oq0, oq1):
    """``AudioEngine._preroll``: True while a fresh clock still waits for its first block."""
    w[L.PREROLL_BLOCKS] += 1
    if w[L.PREROLL_BLOCKS] > PREROLL_BLOCKS:
        w[L.PREROLLING] = 0
        return False
    sample = w[L.SAMPLE]
    first = NONE
    if w[L.OUT0 + L.R_ADDR] != 0:
        ts = peek_output(w, L.OUT0, oq0)
        if ts != NONE and ts >= sample:
            first = ts
    if w[L.OUT1 + L.R_ADDR] != 0:
        ts = peek_output(w, L.OUT1, oq1)
        if ts != NONE and ts >= sample and (first == NONE or ts < first):
            first = ts
    if first == NONE:
        return True
    advance_clock(w, f, first - sample)
    w[L.PREROLLING] = 0
    return False


@njit(nogil=True, cache=True)
def record(w, buf, base, block, channels):
    """``RecordBuffer.push``: append ``block`` (frames × channels, flat) or count it dropped."""
    frames = w[base + 1]
    n = block.size // channels
    written = w[base + 2]
    if written + n - w[base + 3] > frames:
        w[base + 4] += n
        return
    start = written % frames
    for t in range(n):
        row = (start + t) % frames
        for c in range(channels):
            buf[row * channels + c] = block[t * channels + c]
    fence()
    w[base + 2] = written + n


@njit(nogil=True, cache=True)
def take_tempo_requests(w, f):
    """``MusicalClock.request`` for every queued request: refuse nonsense; a request
    replaces the pending ones that start at or after it."""
    read = w[L.REQ_READ]
    written = w[L.REQ_WRITTEN]
    fence()
    while read < written:
        e = L.REQ + 4 * (read % L.REQ_MAX)
        start, tempo, beat, bpb = f[e], f[e + 1], f[e + 2], f[e + 3]
        read += 1
        if not (20.0 <= tempo <= 400.0) or bpb < 1 or start < 0:
            continue
        kept = 0
        for k in range(w[L.PENDING_N]):
            p = L.PENDING + 4 * k
            if w[p] < int(start):
                q = L.PENDING + 4 * kept
                w[q], f[q + 1], f[q + 2], w[q + 3] = w[p], f[p + 1], f[p + 2], w[p + 3]
                kept += 1
        if kept < L.PENDING_MAX:
            q = L.PENDING + 4 * kept
            w[q], f[q + 1], f[q + 2], w[q + 3] = int(start), beat, tempo, int(bpb)
            kept += 1
        w[L.PENDING_N] = kept
    w[L.REQ_READ] = read


@njit(nogil=True, cache=True)
def advance_clock(w, f, frames):
    """``MusicalClock.advance``: move on, switching to each tempo segment that has begun."""
    w[L.SAMPLE] += frames
    while w[L.PENDING_N] > 0 and w[L.PENDING] <= w[L.SAMPLE]:
        p = L.PENDING
        w[L.SEG_START], f[L.SEG_BEAT], f[L.SEG_TEMPO], w[L.SEG_BPB] = (
            w[p],
            f[p + 1],
            f[p + 2],
            w[p + 3],
        )
        for k in range(1, w[L.PENDING_N]):
            src, dst = L.PENDING + 4 * k, L.PENDING + 4 * (k - 1)
            for j in range(4):
                w[dst + j] = w[src + j]
        w[L.PENDING_N] -= 1


@njit(nogil=True, cache=True)
def publish_transport(w, f, tq, tf, running):
    """``Transport.write`` of the clock's state (the seqlock of transport.py)."""
    sample = w[L.SAMPLE]
    tempo = f[L.SEG_TEMPO]
    beat = f[L.SEG_BEAT] + (sample - w[L.SEG_START]) * tempo / 60.0 / w[L.SAMPLE_RATE]
    odd = tq[0] | 1
    tq[0] = odd
    fence()
    tq[1] = sample
    tq[2] = w[L.SAMPLE_RATE]
    tq[3] = w[L.BLOCK]
    tf[4] = tempo
    tf[5] = beat
    tq[6] = w[L.SEG_BPB]
    tq[7] = running
    fence()
    tq[0] = odd + 1


@njit(nogil=True, cache=True)
def process_block(
    w, f, iq, ip, oq0, op0, oq1, op1, tq, tf, inb, outb, blocks, fades, rec_out, rec_in
):
    """One block, in the order of ``AudioEngine.process`` (without its timing).

    ``inb`` holds this cycle's input (zeros when ``w[HAS_INPUT]`` is 0 — the
    caller fills it); ``outb`` receives the output; ``blocks`` is float32
    (2, block × channels) scratch for the two output rings.
    """
    if w[L.PREROLLING] and preroll(w, f, oq0, oq1):
        outb[:] = 0.0
        publish_transport(w, f, tq, tf, 0)
        return
    sample = w[L.SAMPLE]
    if w[L.IN_ADDR] != 0:
        if not w[L.HAS_INPUT]:
            inb[:] = 0.0
        write_input(w, iq, ip, inb, sample)
        if w[L.REC_IN_ADDR] != 0:
            record(w, rec_in, L.REC_IN_ADDR, inb, w[L.IN_CHANNELS])
    fill_output(w, f, oq0, op0, oq1, op1, blocks, outb, fades, sample)
    if w[L.REC_OUT_ADDR] != 0:
        record(w, rec_out, L.REC_OUT_ADDR, outb, w[L.CHANNELS])
    take_tempo_requests(w, f)
    advance_clock(w, f, w[L.BLOCK])
    publish_transport(w, f, tq, tf, 1)
    w[L.CALLBACKS] += 1
