"""`kelly ctl` against a real run: each command's effect shows in `kelly status --json`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from performance import Performance, wait_until
from performance import kelly as run_kelly

pytestmark = pytest.mark.slow


def kelly(run_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return run_kelly(*argv, run_dir=run_dir)


def status(run_dir: Path) -> dict[str, Any]:
    done = kelly(run_dir, "status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def actor(run_dir: Path, name: str) -> dict[str, Any]:
    return next(a for a in status(run_dir)["actors"] if a["name"] == name)


def ctl(run_dir: Path, *argv: str) -> dict[str, Any]:
    done = kelly(run_dir, "ctl", *argv)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def composer_once(run_dir: Path, predicate, what: str) -> dict[str, Any]:
    """The composer's telemetry once ``predicate`` holds for it (polled via status --json)."""
    return wait_until(
        lambda: (t := actor(run_dir, "composer")["telemetry"]) and predicate(t) and t,
        20,
        what,
        interval=0.2,
    )


def test_every_ctl_command_shows_its_effect_in_status_json(run_dir: Path) -> None:
    with Performance(run_dir, None) as perf:
        perf.wait_ready()
        assert ctl(run_dir, "ping")["pong"] is True

        feel = ctl(run_dir, "feel", "I feel grief, but I want to get to acceptance")
        assert feel["nearest"][0] == "grief"
        t = composer_once(
            run_dir, lambda t: t["emotion"]["source"] == "text", "the feeling to land"
        )
        assert t["target"] == feel["target"] and t["journey_bars_left"] > 0

        ctl(run_dir, "set-emotion", "0.6", "0.8", "0.7")
        t = composer_once(
            run_dir, lambda t: t["emotion"]["source"] == "performer", "the override to land"
        )
        assert (t["emotion"]["valence"], t["tempo"]) == (0.6, 156.0)

        assert ctl(run_dir, "lock", "arousal")["locks"] == {"arousal": 0.8}
        assert actor(run_dir, "composer")["telemetry"]["locks"] == {"arousal": 0.8}
        ctl(run_dir, "unlock", "arousal")
        assert actor(run_dir, "composer")["telemetry"]["locks"] == {}

        bars = actor(run_dir, "composer")["telemetry"]["bars"]
        assert ctl(run_dir, "panic")["ring"] is True
        composer_once(run_dir, lambda t: t["bars"] > bars, "the music going on after panic")
        log = kelly(run_dir, "log")
        assert '"method": "panic"' in log.stdout

        old = actor(run_dir, "synth")
        assert ctl(run_dir, "restart", "synth") == {"actor": "synth", "restarting": True}
        wait_until(
            lambda: (a := actor(run_dir, "synth"))["pid"] != old["pid"] and a["state"] == "ready",
            20,
            "the synth back",
            interval=0.2,
        )
        assert actor(run_dir, "synth")["restarts"] == old["restarts"] + 1

        refused = kelly(run_dir, "ctl", "feel", "the table is brown")
        assert refused.returncode == 1 and "no emotion recognised" in refused.stderr

        assert ctl(run_dir, "stop") == {"stopping": True}
        assert perf.proc.wait(20) == 0
    gone = kelly(run_dir, "status", "--json")
    assert gone.returncode == 1 and "no performance is running" in gone.stderr


@pytest.mark.parametrize(
    "argv", [["feel", "I feel calm"], ["set-emotion", "0", "0.5", "0.5"], ["panic"], ["ping"]]
)
def test_composer_ctl_commands_exit_2_when_nothing_runs(run_dir: Path, argv: list[str]) -> None:
    done = kelly(run_dir, "ctl", *argv)
    assert done.returncode == 2
    assert f"no performance is running in {run_dir}" in done.stderr
