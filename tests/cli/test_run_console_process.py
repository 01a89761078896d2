"""`kelly run`'s console process on its own: a real process reading a real event log and a
real status PUB that this test plays the supervisor on (the whole `kelly run` is tested in
test_run_console.py)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
from run_output import Output
from test_run_lines import snapshot

from kelly_actors.bus import messages
from kelly_actors.console import run_console
from kelly_actors.console.run_lines import RunFacts
from kelly_actors.supervisor.rundir import RunDir, RunInfo

ACTORS = ("audio", "features", "synth", "composer")
TAG = "0badc0de"


class FakeSupervisor:
    """Publishes what a supervisor would: ``supervisor.json``, events, status snapshots."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.ctx = zmq.Context()
        self.pub = self.ctx.socket(zmq.PUB)
        self.pub.bind(RunDir(run_dir).ipc_endpoint("status"))

    def publish_run(self) -> None:
        status = RunDir(self.run_dir).ipc_endpoint("status")
        info = RunInfo(os.getpid(), TAG, "", status, "", time.time(), "default")
        RunDir(self.run_dir).publish(info)

    def event(self, event: str, **detail: object) -> None:
        with (self.run_dir / "events.jsonl").open("a") as log:
            log.write(json.dumps({"time": time.time(), "event": event, "detail": detail}) + "\n")

    def status(self) -> None:
        msg = messages.make("status", snapshot=snapshot())
        self.pub.send_multipart([b"status", *messages.encode(msg)])

    def close(self) -> None:
        self.pub.close(linger=0)
        self.ctx.term()


@pytest.fixture
def supervisor(run_dir: Path) -> Iterator[FakeSupervisor]:
    fake = FakeSupervisor(run_dir)
    yield fake
    fake.close()


def test_the_console_says_only_this_runs_story_and_sums_it_up(run_dir, supervisor) -> None:
    # Another run's records, already in the log and still coming: never shown.
    supervisor.event("run_started", pid=1, tag="0ther000")
    facts = RunFacts(run_dir=str(run_dir), config="", actors=ACTORS, record_dir="",
                     audio_choice="the built-in performance's choice", started=time.time(),
                     watchdog_pid=os.getpid(), tag=TAG)  # fmt: skip
    proc = subprocess.Popen(
        run_console.argv(facts, None), stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    out = Output(proc)
    try:
        supervisor.event("actor_exited", actor="someone_elses", reason="x", commanded=False)
        supervisor.event("run_started", pid=os.getpid(), tag=TAG)
        supervisor.publish_run()
        for actor in ACTORS:
            supervisor.event("actor_spawned", actor=actor)
            supervisor.event("actor_ready", actor=actor, incarnation=1)
        out.wait_for("all 4 actors ready", 10)
        # Snapshots until the console shows one (a SUB misses what precedes its connection).
        out.wait_for("audio      null (silence on a clock", 10, meanwhile=supervisor.status)
        supervisor.event("actor_exited", actor="synth", reason="killed by SIGKILL", commanded=False)
        supervisor.event("actor_ready", actor="synth", incarnation=2)
        out.wait_for("✓ synth ready again (incarnation 2)", 10)
        supervisor.event("run_stopped", reason="duration reached", exit_code=0)
        run_console.finish(proc, 0, "")
        assert proc.returncode == 0
        text = out.pump()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
    assert "someone_elses" not in text
    assert text.count("ready in") == len(ACTORS)
    assert "✗ synth exited: killed by SIGKILL — restarting" in text
    assert "■ stopping: duration reached" in text
    assert "stopped after 1:02: duration reached (exit code 0)" in text
    assert "restarts   synth 1" in text
    assert "♪" not in text, "a status line in a pipe"
