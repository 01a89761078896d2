"""CPU headroom: a synth render (plus one call of each model) per block, against its time."""

from __future__ import annotations

import time

import numpy as np

from kelly_actors.console.doctor.result import FAIL, PASS, CheckResult
from kelly_actors.synth.voices import Synth

#: Blocks rendered for the measurement (one second at 48 kHz × 256).
BLOCKS = 188
#: Voices sounding during the load (the default arrangement uses about a dozen).
VOICES = 16
#: Fail when the mean load is at or above this fraction of the block's time.
MAX_LOAD = 0.7


def check_cpu(
    sample_rate: int, block_size: int, preset: str, inference_ms: float, max_load: float = MAX_LOAD
) -> CheckResult:
    """Render :data:`BLOCKS` blocks with :data:`VOICES` voices; load = time / period.

    ``inference_ms`` (the models' steady per-call time, summed) is added to
    each block: a pessimistic one inference per block.
    """
    synth = Synth(sample_rate=sample_rate, channels=2, preset=preset, max_block=block_size)
    for i in range(VOICES):
        synth.note_on(0, 36 + 3 * i, velocity=100, channel=i % 4)
    out = np.zeros((block_size, 2), np.float32)
    period_ms = 1000 * block_size / sample_rate
    times = np.empty(BLOCKS)
    for i in range(BLOCKS):
        started = time.perf_counter()
        synth.render(block_size, out)
        times[i] = 1000 * (time.perf_counter() - started) + inference_ms
    mean, p99 = float(times.mean()), float(np.percentile(times, 99))
    load = mean / period_ms
    figure = (
        f"{VOICES} voices + {inference_ms:.2f} ms inference per {period_ms:.2f} ms block: "
        f"mean {mean:.2f} ms ({100 * load:.0f} %), p99 {p99:.2f} ms, "
        f"headroom {100 * (1 - load):.0f} %"
    )
    if load >= max_load:
        return CheckResult("CPU headroom", FAIL, f"{figure}; needs < {100 * max_load:.0f} % load")
    return CheckResult("CPU headroom", PASS, figure)
