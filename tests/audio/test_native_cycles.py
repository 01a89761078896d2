"""How a missed JACK cycle is classed (:func:`kelly_actors.audio.native.cycles.time_cycle`):
ours only when our own CPU time did not fit, the machine's otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from kelly_actors.audio.native import layout as L
from kelly_actors.audio.native.cycles import cycle_figures, time_cycle

PERIOD_US = 5333
NFRAMES = 256


def _one_cycle(late_us: int, took_us: int, cpu_us: int) -> dict[str, float | int]:
    """Figures after one cycle that started ``late_us`` into its period, took ``took_us``
    of wall time and ``cpu_us`` of the thread's CPU."""
    w = np.zeros(L.WORDS, np.int64)
    w[L.LAST_FRAMES] = -1
    start = 1_000_000
    w[L.CYCLE_USECS], w[L.CYCLE_NEXT] = start, start + PERIOD_US
    durations, lateness = np.zeros(L.DURATION_HISTORY), np.zeros(L.DURATION_HISTORY)
    t0 = start + late_us
    time_cycle(
        w, w.view(np.float64), durations, lateness, t0, t0 + took_us, cpu_us / 1e6, 0, NFRAMES
    )
    return cycle_figures(w, durations, lateness)


@pytest.mark.parametrize(
    ("late_us", "took_us", "cpu_us", "kind"),
    [
        (100, 6000, 5500, "own_overruns"),  # on time, and our work did not fit
        (4000, 1400, 1400, "missed_late"),  # woken in the second half: the usual work misses
        (5400, 100, 100, "missed_late"),  # woken after the deadline
        (100, 6000, 100, "missed_preempted"),  # on time, little CPU, the thread did not run
        (100, 120, 120, None),  # finished in time: nothing missed
    ],
)
def test_a_cycle_is_ours_only_when_our_cpu_time_did_not_fit(
    late_us: int, took_us: int, cpu_us: int, kind: str | None
) -> None:
    figures = _one_cycle(late_us, took_us, cpu_us)
    kinds = ("own_overruns", "missed_late", "missed_preempted", "skipped_cycles")
    assert {k: figures[k] for k in kinds} == {k: int(k == kind) for k in kinds}
    assert figures["missed_cycles"] == (kind is not None)
