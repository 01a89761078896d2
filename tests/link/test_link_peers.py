"""Two Link peers in a private network namespace: Kelly (a real ``kelly run`` whose audio
actor follows the session) and an ``aalink`` peer in another process
(tests/link/link_scenario.py), which starts the session at 150 bpm, watches Kelly's
transport beside its own timeline, then jumps the tempo by 100 bpm.

The namespace (``unshare -n``: loopback up, multicast on, 224.0.0.0/4 routed to ``lo``)
keeps every Link packet on this machine. One run of the scenario (~14 s) serves the
first three tests; a leading Kelly has a run of its own (~9 s).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import link_scenario
import numpy as np
import pytest
from performance import env_with_support

SCENARIO = Path(__file__).resolve().parent / "link_scenario.py"
LOOPBACK = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="unshare -n needs root (CAP_SYS_ADMIN) for a network namespace"
)


def _run(*args: str) -> dict[str, Any]:
    """Run the scenario in a fresh network namespace; its JSON result."""
    run_dir = Path(tempfile.mkdtemp(prefix="kl-", dir="/tmp"))
    command = f'{LOOPBACK} && exec "$0" "$@"'
    proc = subprocess.Popen(
        ["unshare", "-n", "sh", "-c", command, sys.executable, str(SCENARIO), str(run_dir), *args],
        env=env_with_support(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the scenario stops its run on the way out
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(run_dir, ignore_errors=True)
    assert proc.returncode == 0, f"scenario failed ({proc.returncode}):\n{err[-4000:]}"
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def scenario() -> Iterator[dict[str, Any]]:
    yield _run()


def test_kelly_and_a_link_peer_agree_on_tempo_and_phase_at_the_sample_clock(
    scenario: dict[str, Any],
) -> None:
    found = link_scenario.figures(scenario)
    for name in ("before_jump", "after_jump"):
        window = found[name]
        assert window["observations"] > 300, f"{name}: too few observations: {found}"
        assert window["tempo_gap_bpm_max"] < 0.01, f"{name}: tempo apart: {found}"
        assert window["phase_ms_max"] < 2.0, f"{name}: beat phase apart: {found}"


def test_the_composers_bar_lines_fall_on_the_sessions_bar_lines(
    scenario: dict[str, Any],
) -> None:
    rows = np.asarray(scenario["rows"], dtype=np.float64)
    checked = link_scenario.bar_lines_ms(scenario, rows, link_scenario.offsets(rows))
    assert len(checked) >= 2, f"too few bar lines to check: {scenario['status']['composer_bars']}"
    assert max(abs(c) for c in checked) < 2.0, f"bar lines off the session's (ms): {checked}"


def test_a_peer_jumping_100_bpm_is_slewed_counted_and_the_music_never_stops(
    scenario: dict[str, Any],
) -> None:
    status, rows = scenario["status"], np.asarray(scenario["rows"], dtype=np.float64)
    assert status["tempo_jumps"] == 1 and status["relocks"] >= 1
    assert status["locked"] and status["tempo"] == pytest.approx(scenario["jump_bpm"], abs=0.01)
    during = (rows[:, 0] >= scenario["t_jump"]) & (rows[:, 0] <= scenario["t_relocked"])
    t, counter, tempo = rows[during, 0], rows[during, 1], rows[during, 3]
    assert tempo[0] == pytest.approx(scenario["start_bpm"], abs=0.01)  # no jump at once
    # Per second of the clock's own time: after a late block it plays several at once.
    elapsed = np.maximum(np.diff(t), np.diff(counter) / link_scenario.RATE)
    slew = 120.0  # bpm/s, the scenario's slew_bpm_per_s
    steps = np.abs(np.diff(tempo)) - slew * (elapsed + 0.02)
    assert steps.max() <= 0.0, "Kelly's tempo moved faster than its slew"
    assert rows[:, 4].all(), "the clock stopped"
    assert scenario["composer"]["bars"] >= scenario["bars_before"] + 4
    assert set(scenario["restarts"].values()) == {0} and scenario["exit"] == 0


def test_a_leading_kelly_sets_the_sessions_tempo_and_phase_and_undoes_a_peers_change() -> None:
    result = _run("--lead")
    rows = np.asarray(result["rows"], dtype=np.float64)
    window = link_scenario.windows(result, rows)["before_jump"]
    phase = link_scenario.phase_ms(rows, link_scenario.offsets(rows))[window]
    assert window.sum() > 150 and np.abs(phase).max() < 2.0, f"phase apart (ms): {phase}"
    assert (rows[window, 6] == link_scenario.START_BPM).all()  # the session plays Kelly's tempo
    assert result["status"]["overridden"] >= 1 and result["undone_s"] < 1.0
    assert result["exit"] == 0
