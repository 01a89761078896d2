"""How each cycle went: started late, overran, or missed by the machine.

JACK gives every client the time its cycle started and the time the next one
starts (``jack_get_cycle_times``): the next start is the deadline, since a
client not finished by then is an xrun for the whole graph. A callback that
finished past it is classed:

- ``overruns`` (ours): our own CPU time in the callback did not fit in what
  was left of the period when we started;
- ``missed_late`` (the machine): we started after the deadline, or so late
  (more than half a period) that an on-budget callback could not finish;
- ``missed_preempted`` (the machine): we started on time and used less CPU
  than was left, but the thread was not running while the clock ran;
- ``skipped`` (the machine): cycles the server ran without calling us at all
  (the frame counter jumped by more than one period).

The same function times our callback and the reference client's, so the two
are measured alike in the same run.
"""

from __future__ import annotations

from numba import njit

from kelly_actors.audio.native import layout as L


@njit(nogil=True, cache=True)
def time_cycle(w, f, durations, lateness, t0_us, t1_us, cpu_s, frames, nframes):
    """Record one cycle.

    Args:
        w / f: the state words and their float64 view (:mod:`.layout`); the
            cycle's start and deadline are in ``CYCLE_USECS`` / ``CYCLE_NEXT``.
        durations / lateness: float64 (DURATION_HISTORY,) histories: seconds
            the callback took, µs from the cycle's start to the callback's.
        t0_us / t1_us: ``jack_get_time()`` at the callback's start and end (µs).
        cpu_s: the callback thread's CPU time in the callback (s).
        frames: the cycle's first frame (``jack_get_cycle_times``).
        nframes: frames per cycle.
    """
    start = w[L.CYCLE_USECS]
    deadline = w[L.CYCLE_NEXT]
    slot = w[L.TIMED] % L.DURATION_HISTORY
    took = (t1_us - t0_us) / 1e6
    durations[slot] = took
    lateness[slot] = t0_us - start
    w[L.TIMED] += 1
    if took > f[L.MAX_TOOK]:
        f[L.MAX_TOOK] = took
    if cpu_s > f[L.MAX_CPU]:
        f[L.MAX_CPU] = cpu_s
    last = w[L.LAST_FRAMES]
    if last >= 0:
        gap = (frames - last) & 0xFFFFFFFF
        if gap > nframes:
            w[L.SKIPPED] += gap // nframes - 1
    w[L.LAST_FRAMES] = frames
    if t1_us <= deadline:
        return
    period_us = deadline - start
    # A start in the period's second half is the machine's, whatever our CPU time: a
    # callback woken 4 ms into 5.3 ms that needs its usual 0.1 ms of CPU may still not
    # fit in what is left (a clean-clone CI run once counted that as our overrun).
    if t0_us >= deadline or t0_us - start > period_us / 2:
        w[L.MISSED_LATE] += 1
    elif cpu_s * 1e6 >= deadline - max(t0_us, start):
        w[L.OVERRUNS] += 1
    else:
        w[L.MISSED_PREEMPTED] += 1


def cycle_figures(w, durations, lateness) -> dict[str, float | int]:
    """Counts and percentiles for telemetry, from the state words and histories."""
    import numpy as np

    n = min(int(w[L.TIMED]), L.DURATION_HISTORY)
    f = w.view(np.float64)
    figures: dict[str, float | int] = {
        "cycles_timed": int(w[L.TIMED]),
        "missed_late": int(w[L.MISSED_LATE]),
        "missed_preempted": int(w[L.MISSED_PREEMPTED]),
        "own_overruns": int(w[L.OVERRUNS]),
        "skipped_cycles": int(w[L.SKIPPED]),
        "callback_max_ms": round(float(f[L.MAX_TOOK]) * 1e3, 4),
        "callback_cpu_max_ms": round(float(f[L.MAX_CPU]) * 1e3, 4),
    }
    figures["missed_cycles"] = (
        figures["missed_late"]
        + figures["missed_preempted"]
        + figures["own_overruns"]
        + figures["skipped_cycles"]
    )
    if n:
        p50, p99 = np.percentile(durations[:n] * 1e3, [50, 99])
        figures["callback_p50_ms"] = round(float(p50), 4)
        figures["callback_p99_ms"] = round(float(p99), 4)
        figures["start_late_p99_ms"] = round(float(np.percentile(lateness[:n], 99)) / 1e3, 4)
    else:
        figures.update(callback_p50_ms=0.0, callback_p99_ms=0.0, start_late_p99_ms=0.0)
    return figures
