"""A supervisor that dies while the music plays: the watchdog's successor adopts the run.

Real ``kelly run`` processes, real SIGKILLs and SIGSTOPs; the figures come from the run's own
records (``run.json``, the event log, the recording) and from the process table.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import psutil
from performance import Performance, kelly, wait_until
from toml_config import tone_meter_toml

from kelly_actors.audio import wav
from kelly_actors.bus.namespace import run_is_dead, runtime_dir
from kelly_actors.supervisor.rundir import RunDir
from kelly_actors.supervisor.succession import RECORD_NAME


def _supervisor_pid(perf: Performance) -> int:
    info = RunDir(perf.run_dir).read()
    assert info is not None
    return info.pid


def _kill_supervisor_and_wait_for_successor(perf: Performance, successions: int) -> None:
    old = _supervisor_pid(perf)
    os.kill(old, signal.SIGKILL)

    def adopted() -> bool:
        info = RunDir(perf.run_dir).read()
        if info is None or info.pid == old:
            return False
        snap = perf.status()
        return snap["run"]["supervisor_restarts"] == successions and all(
            a["state"] == "ready" for a in snap["actors"]
        )

    wait_until(adopted, 30, f"successor {successions} to adopt the run", interval=0.1)


def _running(pids: list[int]) -> list[int]:
    def runs(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    return [p for p in pids if runs(p)]


def test_three_supervisor_kills_during_a_recorded_minute_leave_no_gap_and_a_complete_run(
    run_dir: Path,
) -> None:
    record = run_dir / "take"
    with Performance(run_dir, None, ["--duration", "60", "--record", str(record)]) as perf:
        snap = perf.wait_ready(60)
        tag = snap["run"]["tag"]
        block = snap["transport"]["block_size"]
        pids = [a["pid"] for a in snap["actors"]]
        for successions in (1, 2, 3):
            _kill_supervisor_and_wait_for_successor(perf, successions)
            assert [a["pid"] for a in perf.status()["actors"]] == pids, "an actor was replaced"
        shown = kelly("status", run_dir=run_dir)
        assert "supervisor restarted 3×" in shown.stdout, shown.stdout + shown.stderr
        assert "local in the inference actor, model " in shown.stdout  # the backend
        assert perf.proc.wait(90) == 0, perf.stderr()
        assert _running(pids) == [], "actors outlived the run"
        assert not list(runtime_dir().glob(f"kelly-{tag}*")), "the run left shared memory"

    summary = json.loads((record / "run.json").read_text())
    assert summary["reason"] == "duration reached"
    assert summary["supervisor_restarts"] == 3
    assert set(summary["restarts"].values()) == {0}
    audio = summary["actors"]["audio"]
    assert audio["recording_dropped_frames"] == 0
    assert sorted(p.name for p in record.glob("output*.wav")) == ["output.wav"]
    info = wav.read_info(record / "output.wav")
    played = audio["callbacks"] * block
    # Every block the callback played is in the file (the last telemetry lags the last
    # flush by under a second), and the file is one continuous take of the whole minute.
    assert played <= info.frames <= played + info.sample_rate
    assert info.frames >= 55 * info.sample_rate
    adoptions = [e for e in perf.events() if e["event"] == "supervisor_adopted"]
    assert [e["detail"]["lost"] for e in adoptions] == [[], [], []]
    assert not (run_dir / RECORD_NAME).exists()


def test_killing_supervisor_and_watchdog_stops_every_actor_within_grace_plus_a_second(
    run_dir: Path,
) -> None:
    grace = 2.0
    with Performance(run_dir, tone_meter_toml(adoption_grace=grace)) as perf:
        snap = perf.wait_ready()
        tag = snap["run"]["tag"]
        pids = [a["pid"] for a in snap["actors"]]
        supervisor = _supervisor_pid(perf)
        os.kill(perf.proc.pid, signal.SIGKILL)
        os.kill(supervisor, signal.SIGKILL)
        killed_at = time.monotonic()
        wait_until(lambda: not _running(pids), grace + 5, "every actor to stop")
        assert time.monotonic() - killed_at <= grace + 1.0
        leftovers = sorted(p.name for p in runtime_dir().glob(f"kelly-{tag}-*"))
        assert leftovers, "nobody was left to clean up"

    with Performance(run_dir, tone_meter_toml()) as second:
        second.wait_ready()
        swept = [e for e in second.events() if e["event"] == "swept_dead_runs"]
        assert swept and set(leftovers) <= set(swept[0]["detail"]["objects"])
        assert second.stop() == 0


def test_a_failed_adoption_stops_the_actors_after_the_grace_and_leaves_nothing(
    run_dir: Path,
) -> None:
    grace = 2.0
    with Performance(run_dir, tone_meter_toml(adoption_grace=grace)) as perf:
        snap = perf.wait_ready()
        tag = snap["run"]["tag"]
        pids = [a["pid"] for a in snap["actors"]]
        (run_dir / RECORD_NAME).write_text("{not json")
        os.kill(_supervisor_pid(perf), signal.SIGKILL)
        assert perf.proc.wait(grace + 15) == 1
        assert "no readable" in perf.stderr()
        assert _running(pids) == []
        assert not list(runtime_dir().glob(f"kelly-{tag}*"))


def test_a_stopped_watchdog_stops_no_music_and_resumes_its_watch(run_dir: Path) -> None:
    with Performance(run_dir, tone_meter_toml()) as perf:
        perf.wait_ready()
        os.kill(perf.proc.pid, signal.SIGSTOP)
        try:
            restarted = perf.request("restart", actor="meter")
            assert restarted
            perf.wait_actor(
                "meter",
                lambda a: a["state"] == "ready" and a["incarnation"] == 2,
                30,
                "the meter restarted while the watchdog is stopped",
            )
        finally:
            os.kill(perf.proc.pid, signal.SIGCONT)
        _kill_supervisor_and_wait_for_successor(perf, 1)
        meter = perf.actor("meter")
        assert (meter["incarnation"], meter["restarts"]) == (2, 1)
        assert perf.stop() == 0


def test_a_run_without_a_supervisor_stays_locked_so_another_runs_sweep_leaves_it_alone(
    run_dir: Path,
) -> None:
    grace = 30.0
    with Performance(run_dir / "a", tone_meter_toml(adoption_grace=grace)) as perf:
        snap = perf.wait_ready()
        tag = snap["run"]["tag"]
        objects = sorted(p.name for p in runtime_dir().glob(f"kelly-{tag}*"))
        os.kill(perf.proc.pid, signal.SIGSTOP)  # no successor until it continues
        try:
            os.kill(_supervisor_pid(perf), signal.SIGKILL)
            assert not run_is_dead(tag), "the watchdog holds the run's lock"
            with Performance(run_dir / "b", tone_meter_toml()) as other:
                other.wait_ready()
                swept = [e for e in other.events() if e["event"] == "swept_dead_runs"]
                assert not any(tag in o for e in swept for o in e["detail"]["objects"])
                assert other.stop() == 0
            assert sorted(p.name for p in runtime_dir().glob(f"kelly-{tag}*")) == objects
        finally:
            os.kill(perf.proc.pid, signal.SIGCONT)
        wait_until(lambda: perf.status()["run"]["supervisor_restarts"] == 1, grace, "the adoption")
        assert perf.stop() == 0, perf.stderr()
    assert not list(runtime_dir().glob(f"kelly-{tag}*"))
