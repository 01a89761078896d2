"""The pieces of a supervisor's succession, each on real processes, files and sockets:
the actor's watch for a successor, the adopted process handle, the succession record,
systemd notifications and the watchdog's restart rule."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from performance import env_with_support, wait_until

from kelly_actors.actor.launch import SUPERVISOR_INFO, Launch
from kelly_actors.actor.pids import alive
from kelly_actors.actor.supervisor_watch import SupervisorWatch
from kelly_actors.supervisor import notify
from kelly_actors.supervisor.adopted import AdoptedProcess, create_time
from kelly_actors.supervisor.succession import AdoptionError, SuccessionRecord


@pytest.fixture
def sleeper():
    """A real process standing in for a supervisor or an actor; killed at the end."""
    procs: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(["sleep", "60"])
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(10)


def _launch(supervisor_pid: int, run_dir: Path, grace: float) -> Launch:
    return Launch(
        name="x",
        target="m:C",
        options={},
        incarnation=1,
        supervisor_pid=supervisor_pid,
        endpoint="ipc://none",
        transport="none",
        run_dir=str(run_dir),
        tag="tag1",
        adoption_grace=grace,
    )


def _publish(run_dir: Path, pid: int, tag: str) -> None:
    (run_dir / SUPERVISOR_INFO).write_text(json.dumps({"pid": pid, "tag": tag}))


def test_an_actor_plays_on_while_its_supervisor_lives_and_for_the_grace_after_its_death(
    tmp_path, sleeper
) -> None:
    supervisor = sleeper()
    watch = SupervisorWatch(_launch(supervisor.pid, tmp_path, grace=5.0))
    assert watch.keep_running(100.0)
    supervisor.kill()
    supervisor.wait(10)
    assert watch.keep_running(100.0)  # orphaned at t=100
    assert watch.keep_running(104.9)
    assert not watch.keep_running(105.1)


def test_an_actor_stops_with_its_supervisor_when_the_grace_is_zero(tmp_path, sleeper) -> None:
    supervisor = sleeper()
    watch = SupervisorWatch(_launch(supervisor.pid, tmp_path, grace=0.0))
    supervisor.kill()
    supervisor.wait(10)
    assert not watch.keep_running(0.0)


def test_an_actor_follows_a_live_successor_of_its_own_run_and_reports_the_adoption_once(
    tmp_path, sleeper
) -> None:
    first, other_run, successor = sleeper(), sleeper(), sleeper()
    watch = SupervisorWatch(_launch(first.pid, tmp_path, grace=5.0))
    first.kill()
    first.wait(10)
    _publish(tmp_path, first.pid, "tag1")  # the dead supervisor's own file
    assert watch.keep_running(10.0)
    _publish(tmp_path, other_run.pid, "another-run")
    assert watch.keep_running(11.0)
    assert watch.take_adoption() is None
    (tmp_path / SUPERVISOR_INFO).write_text('{"pid": ')  # being rewritten
    assert watch.keep_running(11.5)
    _publish(tmp_path, successor.pid, "tag1")
    assert watch.keep_running(12.5)
    assert watch.pid == successor.pid
    assert watch.take_adoption() == (first.pid, 2.5)
    assert watch.take_adoption() is None
    assert watch.keep_running(100.0)  # the successor lives: no grace counts


def test_a_zombie_counts_as_dead() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        wait_until(lambda: psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, 10, "a zombie")
        assert not alive(pid)
    finally:
        os.waitpid(pid, 0)
    assert not alive(pid)


def test_an_adopted_process_is_signalled_and_waited_for_through_its_pidfd(sleeper) -> None:
    proc = sleeper()
    adopted = AdoptedProcess(proc.pid, create_time(proc.pid))
    try:
        assert adopted.is_alive()
        adopted.join(0.05)
        assert adopted.is_alive()
        adopted.terminate()
        proc.wait(10)  # our own child: reaped here, as the watchdog reaps an adopted one
        adopted.join(10)
        assert not adopted.is_alive()
        adopted.kill()  # a dead process: nothing to signal, no error
    finally:
        adopted.close()
    assert not adopted.is_alive()


def test_a_recycled_pid_is_not_adopted(sleeper) -> None:
    proc = sleeper()
    with pytest.raises(ProcessLookupError):
        AdoptedProcess(proc.pid, create_time(proc.pid) - 5.0)
    proc.kill()
    proc.wait(10)
    with pytest.raises(ProcessLookupError):
        AdoptedProcess(proc.pid, 0.0)
    assert create_time(proc.pid) == 0.0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no readable"),
        ("{garbage", "no readable"),
        ('{"v": 99, "tag": "tag1"}', "not a version"),
        ('["v"]', "not a version"),
    ],
)
def test_a_missing_or_unreadable_succession_record_refuses_adoption(
    tmp_path, content, reason
) -> None:
    record = SuccessionRecord(tmp_path)
    if content is not None:
        record.path.write_text(content)
    with pytest.raises(AdoptionError, match=reason):
        record.load("tag1")


def test_a_succession_record_of_another_run_refuses_adoption(tmp_path) -> None:
    record = SuccessionRecord(tmp_path)
    from kelly_actors.supervisor.succession import RECORD_VERSION

    record.path.write_text(json.dumps({"v": RECORD_VERSION, "tag": "other"}))
    with pytest.raises(AdoptionError, match="describes run other"):
        record.load("tag1")


def test_notifications_reach_the_service_managers_socket(tmp_path, monkeypatch) -> None:
    path = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        server.bind(str(path))
        server.settimeout(10)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert notify.notify("READY=1")
        assert server.recv(256) == b"READY=1"
        monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
        assert not notify.notify("WATCHDOG=1")
        monkeypatch.delenv("NOTIFY_SOCKET")
        assert not notify.notify("WATCHDOG=1")
    finally:
        server.close()


def test_the_keep_alive_period_is_half_of_systemds_and_only_for_the_watched_pid(
    monkeypatch,
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert notify.watchdog_period() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert notify.watchdog_period() is None
    monkeypatch.delenv("WATCHDOG_PID")
    monkeypatch.setenv("WATCHDOG_USEC", "soon")
    assert notify.watchdog_period() is None


_WATCHDOG_SCRIPT = """
import os, signal, sys
from pathlib import Path
from kelly_actors.supervisor.rundir import RunDir
from kelly_actors.supervisor.watchdog import Watchdog

log = Path(sys.argv[1])
plan = sys.argv[2].split(",")  # per supervisor: "kill", "crash" or an exit code

def start(successor_of):
    with log.open("a") as f:
        f.write(f"{successor_of}\\n")
    step = plan[min(len(log.read_text().splitlines()), len(plan)) - 1]
    if step == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if step == "crash":
        raise RuntimeError("a bug in the supervisor")
    return int(step)

record = Path(sys.argv[3]) if len(sys.argv) > 3 else None
run = RunDir(log.parent / "run")
run.path.mkdir(exist_ok=True)
# What the last supervisor left for a successor: each actor's restarts and state.
(run.path / "supervision.json").write_text(
    '{"children": {"synth": {"restarts": 2, "state": "running"}}}'
)
sys.exit(Watchdog(start, run, grace=0.5, record_dir=record).run())
"""


def _watchdog(tmp_path: Path, plan: str, *record: Path) -> tuple[int, list[str], str]:
    log = tmp_path / "starts.log"
    proc = subprocess.run(
        [sys.executable, "-c", _WATCHDOG_SCRIPT, str(log), plan, *map(str, record)],
        env=env_with_support(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, log.read_text().splitlines(), proc.stderr


def test_the_watchdog_starts_a_successor_after_each_supervisor_death_and_returns_the_last_exit(
    tmp_path,
) -> None:
    code, starts, stderr = _watchdog(tmp_path, "kill,crash,3")
    assert code == 3
    assert starts == ["None", "killed by SIGKILL", "exit code 70"]
    assert "a successor adopts the run" in stderr
    assert "a bug in the supervisor" in stderr


def test_the_watchdog_gives_up_when_supervisors_keep_dying_and_still_writes_run_json(
    tmp_path,
) -> None:
    code, starts, stderr = _watchdog(tmp_path, "kill", tmp_path / "take")
    assert code == 1
    assert len(starts) == 6  # the first and five successors
    assert "giving up" in stderr
    summary_path = tmp_path / "take" / "run.json"
    assert summary_path.stat().st_mode & 0o777 == 0o600
    summary = json.loads(summary_path.read_text())
    assert summary["exit_code"] == 1
    assert summary["complete"] is False
    assert summary["written_by"] == "watchdog"
    assert summary["supervisor_restarts"] == 5
    assert "died 6 times" in summary["reason"]
    assert summary["restarts"] == {"synth": 2}
    assert summary["last_states"] == {"synth": "running"}


def test_a_run_the_watchdog_did_not_give_up_on_gets_no_run_json_from_it(tmp_path) -> None:
    code, _, _ = _watchdog(tmp_path, "kill,0", tmp_path / "take")
    assert code == 0
    assert not (tmp_path / "take" / "run.json").exists()
