"""What a real ``kelly run`` says: in a real terminal (tmux, reading the pane), in a pipe
(plain lines), to a reader that leaves (the run goes on), and nothing with ``--quiet``."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from performance import Performance, env_with_support, kelly, wait_until
from run_output import Output
from toml_config import default_with_osc, tone_meter_toml

from kelly_actors.supervisor.client import ControlClient
from kelly_actors.supervisor.rundir import RunDir

ACTORS = ("audio", "features", "inference", "synth", "synth_b", "composer", "osc")
#: How long the built-in performance may take to start on a loaded two-core machine (s).
START_S = 40.0
ANSI = re.compile(r"\x1b\[")


def kelly_run(run_dir: Path, config_text: str, *args: str) -> list[str]:
    config = run_dir / "performance.toml"
    config.write_text(config_text)
    return [sys.executable, "-m", "kelly_actors.cli", "run", str(config),
            "--run-dir", str(run_dir), *args]  # fmt: skip


def stop_run(proc_or_pid: subprocess.Popen[bytes] | int) -> None:
    """Stop whatever is left of a run started by a test (its watchdog, then its group)."""
    pid = proc_or_pid if isinstance(proc_or_pid, int) else proc_or_pid.pid
    try:
        watchdog = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    with_children = [watchdog, *watchdog.children(recursive=True)]
    watchdog.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(with_children, timeout=20)
    for proc in alive:
        proc.kill()
    psutil.wait_procs(alive, timeout=5)


def status(run_dir: Path) -> dict:
    with ControlClient(RunDir(run_dir), timeout=10) as client:
        return client.request("status")


@pytest.mark.slow
def test_in_a_pipe_kelly_run_prints_start_events_and_summary_as_plain_lines(run_dir) -> None:
    record = run_dir / "take"
    proc = subprocess.Popen(
        kelly_run(run_dir, default_with_osc(port=0), "--record", str(record)),
        env=env_with_support(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    out = Output(proc)
    try:
        out.wait_for(f"all {len(ACTORS)} actors ready", START_S)
        out.wait_for('feel "I feel calm', 15)  # the start lines end with the commands
        features = next(a for a in status(run_dir)["actors"] if a["name"] == "features")
        os.kill(features["pid"], signal.SIGKILL)
        out.wait_for("features exited: killed by SIGKILL", 10)
        out.wait_for("features ready again (incarnation 2)", 20)
        assert kelly("ctl", "feel", "I feel calm", run_dir=run_dir).returncode == 0
        out.wait_for("» feel 'I feel calm'", 10)
        assert kelly("ctl", "stop", run_dir=run_dir).returncode == 0
        assert proc.wait(30) == 0
        text = out.pump()
    finally:
        stop_run(proc)
        assert proc.stdout is not None
        proc.stdout.close()
    assert not ANSI.search(text), "escape codes in a pipe"
    assert "♪" not in text, "a status line in a pipe"
    for name in ACTORS:
        assert re.search(rf"✓ {name} +ready in \d+\.\d\d s", text), name
    assert "audio      null (silence on a clock: nothing is heard) — null as set in" in text
    assert "48000 Hz, block 256 frames (5.33 ms)" in text
    assert re.search(r"latency    \d+\.\d ms = audio in \(1 block\)", text)
    assert f"recording  {record}" in text and f"run dir    {run_dir}" in text
    assert "kelly top --run-dir" in text
    summary = json.loads((record / "run.json").read_text())
    tail = text[text.index("stopped after") :]
    assert f"(exit code {summary['exit_code']})" in tail
    assert re.search(r"restarts   .*features 1", tail) and summary["restarts"]["features"] == 1
    assert f"xruns      {summary['xruns']}" in tail
    assert re.search(rf"files      {re.escape(str(record))}: .*output\.wav.*run\.json", tail)
    assert f"events     {run_dir / 'events.jsonl'}" in tail
    # Event lines carry the time; the start and summary facts do not.
    assert re.search(r"^\d\d:\d\d:\d\d ✗ features exited", text, re.MULTILINE)


def _tmux(sock: Path, *args: str) -> str:
    done = subprocess.run(["tmux", "-S", str(sock), *args], capture_output=True, text=True,
                          timeout=10)  # fmt: skip
    return done.stdout


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Path]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (scripts/setup dev installs it)")
    sock = tmp_path / "tmux.sock"
    yield sock
    _tmux(sock, "kill-server")


def wait_for_pane(sock: Path, seen: Callable[[str], bool], timeout: float, what: str) -> str:
    return wait_until(
        lambda: (text := _tmux(sock, "capture-pane", "-p")) and seen(text) and text,
        timeout,
        what,
        interval=0.1,
    )


@pytest.mark.slow
def test_in_a_terminal_kelly_run_redraws_one_status_line_under_its_events(run_dir, tmux) -> None:
    command = " ".join(kelly_run(run_dir, default_with_osc(port=0)))
    env = env_with_support()
    _tmux(tmux, "new-session", "-d", "-x", "180", "-y", "50",
          "-e", f"PYTHONPATH={env['PYTHONPATH']}",
          f"{command}; echo EXIT=$?; sleep 120")  # fmt: skip
    try:
        wait_for_pane(tmux, lambda t: "actors ready" in t, START_S, "every actor ready")
        first = wait_for_pane(tmux, lambda t: "♪ " in t, 15, "the status line")
        line = next(x for x in first.splitlines() if x.startswith("♪ "))
        for part in ("bar ", " bpm", "voices ", "xruns ", "under-runs ", "restarts "):
            assert part in line, (part, line)
        # Redrawn in place: later the one line shows a later time, and stays the last.
        later = wait_for_pane(
            tmux,
            lambda t: "♪ " in t and line not in t.splitlines(),
            10,
            "the status line redrawn",
        )
        lines = [x for x in later.splitlines() if x.strip()]
        assert sum(x.startswith("♪ ") for x in lines) == 1, later
        assert lines[-1].startswith("♪ "), later
        assert kelly("ctl", "feel", "I feel joyful and excited", run_dir=run_dir).returncode == 0
        wait_for_pane(tmux, lambda t: "» feel 'I feel joyful and excited'" in t, 10, "the feel")
        wait_for_pane(tmux, lambda t: "(text" in t, 15, "the emotion's source: text")
        # A supervisor's death is a line, and the status comes on from its successor. (The
        # watchdog's own word on stderr lands on the status line's row: that copy scrolls up.)
        os.kill(RunDir(run_dir).running().pid, signal.SIGKILL)
        wait_for_pane(tmux, lambda t: "adopted the run" in t, 20, "the successor's line")
        wait_for_pane(tmux, lambda t: "(+1 supervisor)" in t, 10, "status from the successor")
        assert kelly("ctl", "stop", run_dir=run_dir).returncode == 0
        final = wait_for_pane(tmux, lambda t: "EXIT=" in t, 30, "kelly run to exit")
    finally:
        info = RunDir(run_dir).read()  # still published: the run did not end by itself
        if info is not None:
            with contextlib.suppress(psutil.Error):
                stop_run(psutil.Process(info.pid).ppid())
    assert "EXIT=0" in final, final
    end = final[final.index("■ stopping") :]
    assert "♪ " not in end, "the status line is left on the screen"
    assert "stopped after" in end and "restarts   " in end and "supervisor 1" in end
    assert "audio      null" in final and "kelly top --run-dir" in final
    assert re.search(r"\d\d:\d\d:\d\d ■ stopping: ", final), final


def test_a_reader_that_leaves_does_not_stop_the_run(run_dir) -> None:
    record = run_dir / "take"
    duration = 4.0
    proc = subprocess.Popen(
        kelly_run(run_dir, tone_meter_toml(), "--duration", str(duration), "--record", str(record)),
        env=env_with_support(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(b"kelly run: ")
        proc.stdout.close()  # `kelly run | head -1`
        assert proc.wait(30) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        stop_run(proc)
        if proc.stderr:
            proc.stderr.close()
    summary = json.loads((record / "run.json").read_text())
    assert summary["exit_code"] == 0 and summary["reason"] == "duration reached"
    assert summary["duration_s"] >= duration - 0.5


def test_no_console_starts_for_dev_null(run_dir) -> None:
    with Performance(run_dir, tone_meter_toml()) as perf:  # stdout is /dev/null
        perf.wait_ready()
        children = psutil.Process(perf.proc.pid).children()
        assert children, "no supervisor under kelly run"
        assert not [c for c in children if "run_console" in " ".join(c.cmdline())]
        assert perf.stop() == 0


def test_quiet_says_nothing_on_stdout(run_dir) -> None:
    started = time.monotonic()
    done = subprocess.run(
        kelly_run(run_dir, tone_meter_toml(), "--duration", "1.5", "--quiet"),
        env=env_with_support(),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b""
    assert time.monotonic() - started >= 1.5
