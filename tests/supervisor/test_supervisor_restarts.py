"""The supervisor with real processes: deaths, hangs, strategies, intensity, shutdown."""

from __future__ import annotations

import os
import signal

import pytest
from performance import Performance, wait_until
from toml_config import CRASHABLE, IDLE, STUBBORN, performance_toml, tone_meter_toml


def _pid_changed(old: int):
    return lambda a: a["pid"] not in (None, old) and a["state"] == "ready"


def test_an_actor_killed_with_sigkill_is_replaced_by_a_new_ready_process(run_dir) -> None:
    with Performance(run_dir, tone_meter_toml()) as perf:
        perf.wait_ready()
        old = perf.actor("meter")["pid"]
        os.kill(old, signal.SIGKILL)
        meter = perf.wait_actor("meter", _pid_changed(old), 15, "a new meter")
        assert meter["restarts"] == 1
        assert meter["last_exit"] == "killed by SIGKILL"
        assert perf.actor("tone")["restarts"] == 0
        assert perf.stop() == 0


def test_a_stopped_actor_is_found_through_missed_heartbeats_and_replaced(run_dir) -> None:
    config = performance_toml(
        [{"name": "idle", "target": IDLE, "heartbeat_interval": 0.1, "heartbeat_timeout": 1.0}]
    )
    with Performance(run_dir, config) as perf:
        perf.wait_ready()
        old = perf.actor("idle")["pid"]
        os.kill(old, signal.SIGSTOP)
        idle = perf.wait_actor("idle", _pid_changed(old), 15, "the hung actor replaced")
        assert idle["last_exit"].startswith("hung: no heartbeat for")
        assert perf.stop() == 0


def test_restart_intensity_escalates_exactly_at_max_restarts_plus_one(run_dir) -> None:
    config = performance_toml(
        [{"name": "idle", "target": IDLE}], max_restarts=3, max_seconds=120.0, backoff_initial=0.0
    )
    with Performance(run_dir, config) as perf:
        perf.wait_ready()
        for n in range(1, 4):
            old = perf.actor("idle")["pid"]
            os.kill(old, signal.SIGKILL)
            assert perf.wait_actor("idle", _pid_changed(old), 15, f"restart {n}")["restarts"] == n
        os.kill(perf.actor("idle")["pid"], signal.SIGKILL)
        assert perf.proc.wait(30) == 3
        escalations = [e for e in perf.events() if e["event"] == "escalation"]
        assert len(escalations) == 1
        assert "4 restarts within 120 s (max 3)" in escalations[0]["detail"]["reason"]


def test_rest_for_one_restarts_the_failed_actor_and_those_started_after_it(run_dir) -> None:
    config = performance_toml(
        [
            {"name": "a", "target": IDLE},
            {"name": "b", "target": IDLE, "depends_on": ["a"]},
            {"name": "c", "target": IDLE, "depends_on": ["b"]},
        ],
        strategy="rest_for_one",
    )
    with Performance(run_dir, config) as perf:
        before = {a["name"]: a["pid"] for a in perf.wait_ready()["actors"]}
        os.kill(before["b"], signal.SIGKILL)
        perf.wait_actor("c", _pid_changed(before["c"]), 15, "c restarted")
        after = {a["name"]: a for a in perf.wait_ready()["actors"]}
        assert after["a"]["pid"] == before["a"]
        assert after["b"]["pid"] != before["b"]
        assert after["c"]["pid"] != before["c"]
        assert after["c"]["last_exit"] == "exited cleanly"  # stopped by command, not crashed
        assert perf.stop() == 0


def test_one_for_all_restarts_every_actor(run_dir) -> None:
    config = performance_toml(
        [{"name": "a", "target": IDLE}, {"name": "b", "target": IDLE, "depends_on": ["a"]}],
        strategy="one_for_all",
    )
    with Performance(run_dir, config) as perf:
        before = {a["name"]: a["pid"] for a in perf.wait_ready()["actors"]}
        os.kill(before["b"], signal.SIGKILL)
        perf.wait_actor("a", _pid_changed(before["a"]), 15, "a restarted")
        perf.wait_actor("b", _pid_changed(before["b"]), 15, "b restarted")
        assert perf.stop() == 0


def test_an_actor_ignoring_sigterm_is_killed_at_the_shutdown_timeout_in_a_commanded_restart(
    run_dir,
) -> None:
    # max_restarts = 0: a single crash would escalate, a commanded restart must not.
    config = performance_toml(
        [{"name": "stubborn", "target": STUBBORN, "shutdown_timeout": 1.0}], max_restarts=0
    )
    with Performance(run_dir, config) as perf:
        perf.wait_ready()
        old = perf.actor("stubborn")["pid"]
        perf.request("restart", actor="stubborn")
        stubborn = perf.wait_actor("stubborn", _pid_changed(old), 15, "the stubborn actor replaced")
        assert stubborn["last_exit"] == "did not stop within 1 s"
        assert perf.proc.poll() is None
        assert perf.stop() == 0


def test_a_replacement_starts_from_its_predecessors_declared_state(run_dir) -> None:
    config = performance_toml([{"name": "c", "target": CRASHABLE}])
    with Performance(run_dir, config) as perf:
        perf.wait_ready()
        for _ in range(2):
            perf.request("call", actor="c", method="bump", args={})
        old = perf.actor("c")["pid"]
        wait_until(lambda: perf.actor("c")["control_state"] == {"counter": 2}, 10, "state recorded")
        with pytest.raises(Exception, match="did not answer"):
            perf.client().timeout = 1.0
            perf.request("call", actor="c", method="crash", args={})
        perf.client().timeout = 10.0
        c = perf.wait_actor("c", _pid_changed(old), 15, "a new incarnation")
        assert c["last_exit"] == "exit code 13"
        assert perf.request("call", actor="c", method="get", args={})["counter"] == 2
        assert perf.stop() == 0


def test_a_temporary_actor_that_crashes_is_not_restarted(run_dir) -> None:
    config = performance_toml(
        [{"name": "idle", "target": IDLE}, {"name": "once", "target": IDLE, "restart": "temporary"}]
    )
    with Performance(run_dir, config) as perf:
        perf.wait_ready()
        os.kill(perf.actor("once")["pid"], signal.SIGKILL)
        once = perf.wait_actor("once", lambda a: a["state"] == "failed", 15, "once failed")
        assert once["restarts"] == 0 and once["pid"] is None
        assert perf.stop() == 0


def test_actors_start_in_dependency_order_each_after_the_previous_is_ready(run_dir) -> None:
    config = performance_toml(
        [
            {"name": "late", "target": IDLE, "depends_on": ["early"]},
            {"name": "early", "target": IDLE},
        ]
    )
    with Performance(run_dir, config) as perf:
        perf.wait_ready()
        assert perf.stop() == 0
        order = [
            (e["event"], e["detail"]["actor"])
            for e in perf.events()
            if e["event"] in ("actor_spawned", "actor_ready", "actor_exited")
        ]
        assert order == [
            ("actor_spawned", "early"),
            ("actor_ready", "early"),
            ("actor_spawned", "late"),
            ("actor_ready", "late"),
            ("actor_exited", "late"),
            ("actor_exited", "early"),
        ]


def test_an_actor_that_fails_at_start_backs_off_and_then_escalates(run_dir) -> None:
    config = performance_toml(
        [{"name": "bad", "target": CRASHABLE, "options": {"crash_on_start": True}}],
        max_restarts=3,
        backoff_initial=0.05,
    )
    with Performance(run_dir, config) as perf:
        assert perf.proc.wait(60) == 3
        delays = [e["detail"]["delay_s"] for e in perf.events() if e["event"] == "actor_restarting"]
        assert delays[0] == 0.0
        assert all(0 < d <= 0.05 * 2 ** (n - 1) for n, d in enumerate(delays[1:], start=1))
        crashes = [e for e in perf.events() if e["event"] == "crash"]
        assert crashes and "crash_on_start is set" in crashes[0]["detail"]["error"]


def test_an_actor_that_raises_runs_its_on_failure_hook_before_it_is_replaced(run_dir) -> None:
    config = performance_toml([{"name": "crashy", "target": CRASHABLE}], backoff_initial=0.0)
    with Performance(run_dir, config) as perf:
        perf.wait_ready()
        old = perf.actor("crashy")["pid"]
        perf.request("call", actor="crashy", method="raise", args={})
        perf.wait_actor("crashy", _pid_changed(old), 15, "the raising actor replaced")
        names = [e["event"] for e in perf.events() if e["detail"].get("actor") == "crashy"]
        assert names.index("crash") < names.index("on_failure") < names.index("actor_exited")
        assert perf.stop() == 0
