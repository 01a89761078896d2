"""How many cycles does this machine lose by itself? The compiled reference client answers.

A JACK client whose callback writes a sine and nothing else misses only the
cycles the machine takes from it (a virtual CPU taken away, a late server
wake-up). Its miss rate is the floor: misses of a performance above it are
Kelly's, at it are the machine's.
"""

from __future__ import annotations

import time

from kelly_actors.audio.backends.base import BackendError
from kelly_actors.console.doctor.result import FAIL, PASS, CheckResult

#: How long the reference client runs.
MACHINE_SECONDS = 5.0


def check_machine(seconds: float = MACHINE_SECONDS) -> CheckResult:
    """Run the reference client for ``seconds`` and report its missed cycles by cause."""
    try:
        from kelly_actors.audio.native.reference import ReferenceClient

        client = ReferenceClient(name="kelly-doctor-reference")
    except (BackendError, ImportError, OSError) as exc:
        return CheckResult("machine", FAIL, f"the reference client cannot run: {exc}")
    try:
        time.sleep(seconds)  # the client measures on JACK's thread meanwhile
        figures = client.figures()
    finally:
        client.close()
    missed = figures["missed_cycles"]
    per_minute = 60.0 * missed / max(figures["seconds"], 1e-9)
    return CheckResult(
        "machine",
        PASS,
        f"a compiled reference client missed {missed} of {figures['cycles_timed']} cycles in "
        f"{figures['seconds']:.1f} s ({per_minute:.1f}/min: started late "
        f"{figures['missed_late']}, preempted {figures['missed_preempted']}, skipped "
        f"{figures['skipped_cycles']}); Kelly's misses above this rate are Kelly's",
    )
