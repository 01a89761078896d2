"""Ableton Link: how closely Kelly's clock follows a Link session, against Link itself.

Runs ``tests/link/link_scenario.py`` inside a private network namespace (``unshare -n``,
loopback with multicast: no packet leaves the machine; needs root): a ``kelly run`` whose
audio actor follows the session (null backend), an ``aalink`` peer that starts the session
at 150 bpm and watches Kelly's transport (shared memory) beside its own timeline every
~2 ms, then jumps the tempo by 100 bpm; and, as the baseline measured in the same run, a
second plain ``aalink`` peer in a process of its own, compared with the first the same way.

Per window (locked at the start tempo; locked again after the jump): the largest tempo gap
(bpm) and the largest and p99 beat-phase gap (ms) between Kelly's sample clock and the
peer, and the same phase figures between the two plain peers (``baseline_*``); the
composer's bar lines' distance from the session's (ms); how long Kelly took to lock after
the performance was ready, and to lock again after the jump (s).

    sudo python benchmarks/link.py [--quick]     # 3 runs, or 1

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "support"))
sys.path.insert(0, str(REPO / "tests" / "link"))

import link_scenario  # noqa: E402
import numpy as np  # noqa: E402
from performance import env_with_support  # noqa: E402

LOOPBACK = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo"


def one_run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kl-", dir="/tmp") as run_dir:
        command = f'{LOOPBACK} && exec "$0" "$1" "$2" "$3"'
        scenario = str(REPO / "tests" / "link" / "link_scenario.py")
        args = ["unshare", "-n", "sh", "-c", command, sys.executable, scenario, run_dir]
        done = subprocess.run(
            [*args, "--baseline"],
            env=env_with_support(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"scenario failed ({done.returncode}):\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
    figures = link_scenario.figures(result)
    rows = np.asarray(result["rows"], dtype=np.float64)
    base = link_scenario.baseline_ms(result, rows)
    for name in ("before_jump", "after_jump"):
        figures[name]["baseline_phase_ms_max"] = base[f"{name}_max"]
        figures[name]["baseline_phase_ms_p99"] = base[f"{name}_p99"]
    figures["counts"] = {
        k: result["status"][k] for k in ("corrections", "relocks", "tempo_jumps", "peer_changes")
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run instead of three")
    runs = [one_run() for _ in range(1 if parser.parse_args().quick else 3)]
    for k, run in enumerate(runs):
        print(f"run {k + 1}: {json.dumps(run)}")

    def worst(window: str, key: str) -> float:
        return round(max(r[window][key] for r in runs), 4)

    summary = {
        "runs": len(runs),
        **{
            f"{w}_{k}": worst(w, k)
            for w in ("before_jump", "after_jump")
            for k in (
                "tempo_gap_bpm_max",
                "phase_ms_max",
                "phase_ms_p99",
                "baseline_phase_ms_max",
                "baseline_phase_ms_p99",
            )
        },
        "bar_line_ms_max": round(max(r["bar_line_ms_max"] or 0.0 for r in runs), 4),
        "lock_s_max": round(max(r["lock_s"] for r in runs), 3),
        "relock_s_max": round(max(r["relock_s"] for r in runs), 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
