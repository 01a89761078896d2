"""events.jsonl rotates by size (0600, N old files); a successor reopens it after a SIGKILL;
`kelly log` prints the rotated files oldest first and `-f` follows across a rotation."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from performance import env_with_support, kelly, wait_until

from kelly_actors.console.eventlog import follow_lines, read_lines
from kelly_actors.supervisor.events import EventLog, rotated_path, rotated_paths

#: Small enough that a few events fill a file (one event here is about 80 bytes).
SMALL = 400


def seqs(lines: list[str]) -> list[int]:
    return [json.loads(line)["detail"]["seq"] for line in lines if line.strip()]


def log_files(path: Path) -> list[Path]:
    return [*rotated_paths(path), path]


def test_the_log_rotates_at_the_limit_keeping_n_private_files(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = EventLog(path, max_bytes=SMALL, keep=3)
    for seq in range(100):
        log.write("tick", seq=seq)
    log.close()
    assert rotated_paths(path) == [rotated_path(path, n) for n in (3, 2, 1)]
    assert not rotated_path(path, 4).exists()
    for file in log_files(path):
        assert 0 < file.stat().st_size <= SMALL
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    kept = seqs(list(read_lines(path)))
    # Oldest first, nothing torn, nothing repeated: the newest events, in order.
    assert kept == list(range(100 - len(kept), 100)) and len(kept) > 10


def test_an_event_larger_than_the_limit_gets_a_file_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = EventLog(path, max_bytes=SMALL, keep=2)
    log.write("small", seq=0)
    log.write("big", seq=1, traceback="x" * (2 * SMALL))
    log.write("small", seq=2)
    log.close()
    assert [seqs(f.read_text().splitlines()) for f in log_files(path)] == [[0], [1], [2]]


def test_keep_zero_keeps_only_the_current_file(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = EventLog(path, max_bytes=SMALL, keep=0)
    for seq in range(30):
        log.write("tick", seq=seq)
    log.close()
    assert rotated_paths(path) == [] and seqs(path.read_text().splitlines())[-1] == 29


WRITER = """
import sys
from pathlib import Path
from kelly_actors.supervisor.events import EventLog
log = EventLog(Path(sys.argv[1]), max_bytes=int(sys.argv[2]), keep=int(sys.argv[3]))
seq = 0
while True:
    log.write("tick", seq=seq)
    seq += 1
"""


def test_a_successor_appends_after_a_writer_killed_mid_stream(tmp_path: Path) -> None:
    """A writer SIGKILLed wherever it is (mid-rotation included): whole lines only, and
    the successor's events follow its predecessor's without a gap in what is kept."""
    path = tmp_path / "events.jsonl"
    for _ in range(3):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(SMALL), "50"], env=env_with_support()
        )
        try:
            wait_until(lambda: len(rotated_paths(path)) >= 10, 30, "ten rotations")
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        kept = seqs(list(read_lines(path)))
        last = kept[-1]
        assert kept == list(range(kept[0], last + 1))
        successor = EventLog(path, max_bytes=SMALL, keep=50)
        for seq in range(last + 1, last + 20):
            successor.write("tick", seq=seq)
        successor.close()
        assert seqs(list(read_lines(path)))[-19:] == list(range(last + 1, last + 20))
        for file in log_files(path):
            file.unlink()


def test_rotation_goes_on_after_a_kill_left_a_number_missing(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = EventLog(path, max_bytes=SMALL, keep=4)
    seq = 0
    while len(rotated_paths(path)) < 3:
        log.write("tick", seq=seq)
        seq += 1
    log.close()
    # What a kill between `.1 → .2` and `events.jsonl → .1` leaves: no `.1`.
    os.replace(rotated_path(path, 2), rotated_path(path, 3))
    os.replace(rotated_path(path, 1), rotated_path(path, 2))
    before = seqs(list(read_lines(path)))
    log = EventLog(path, max_bytes=SMALL, keep=4)
    for _ in range(20):
        log.write("tick", seq=seq)
        seq += 1
    log.close()
    after = seqs(list(read_lines(path)))
    assert after == sorted(set(after)) and after[-1] == seq - 1
    assert after[0] >= before[0]


def test_kelly_log_prints_the_rotated_files_oldest_first(run_dir: Path) -> None:
    path = run_dir / "events.jsonl"
    log = EventLog(path, max_bytes=SMALL, keep=5)
    for seq in range(20):
        log.write("actor_ready", actor=f"a{seq}", seq=seq)
    log.close()
    assert len(rotated_paths(path)) >= 2
    done = kelly("log", run_dir=run_dir)
    assert done.returncode == 0, done.stderr
    actors = [line.split()[2] for line in done.stdout.splitlines()]
    assert actors == [f"a{seq}" for seq in seqs(list(read_lines(path)))]
    assert actors[-1] == "a19"
    # Only rotated files (the current one not created yet): still a log.
    path.unlink()
    done = kelly("log", run_dir=run_dir)
    assert done.returncode == 0 and done.stdout.splitlines()[-1].split()[2] != "a19"


class Follower:
    """``follow_lines`` on a thread, collecting what it yields until stopped."""

    def __init__(self, path: Path) -> None:
        self.lines: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self.thread.start()

    def _run(self, path: Path) -> None:
        for line in follow_lines(path, lambda: not self.stop.is_set(), poll_s=0.005):
            self.lines.append(line)

    def seqs(self) -> list[int]:
        return seqs(list(self.lines))

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


@pytest.fixture
def follower(tmp_path: Path) -> Iterator[tuple[EventLog, Follower]]:
    path = tmp_path / "events.jsonl"
    log = EventLog(path, max_bytes=SMALL, keep=100)
    log.write("tick", seq=0)
    follower = Follower(path)
    yield log, follower
    follower.stop.set()
    log.close()


def test_follow_goes_on_across_each_rotation(follower: tuple[EventLog, Follower]) -> None:
    log, reader = follower
    for seq in range(1, 60):
        # Each event only once the reader is waiting at the end: every rotation happens
        # while it sits on the file that is renamed away.
        wait_until(lambda s=seq: len(reader.lines) == s, 10, f"event {seq - 1} followed")
        log.write("tick", seq=seq)
    wait_until(lambda: len(reader.lines) == 60, 10, "the last event followed")
    assert len(rotated_paths(log.path)) >= 5
    reader.finish()
    assert reader.seqs() == list(range(60))


def test_follow_catches_up_after_several_rotations_between_two_looks(
    follower: tuple[EventLog, Follower],
) -> None:
    log, reader = follower
    wait_until(lambda: len(reader.lines) == 1, 10, "the first event followed")
    for seq in range(1, 200):  # a burst: many files between two polls of the reader
        log.write("tick", seq=seq)
    log.write("run_stopped", seq=200)
    reader.thread.join(10)  # run_stopped ends the follow by itself
    assert not reader.thread.is_alive()
    assert reader.seqs() == list(range(201))


def test_follow_reads_a_truncated_log_again_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with path.open("w") as file:
        file.writelines(json.dumps({"event": "tick", "detail": {"seq": s}}) + "\n" for s in (0, 1))
    reader = Follower(path)
    wait_until(lambda: len(reader.lines) == 2, 10, "the first events followed")
    os.truncate(path, 0)
    with path.open("a") as file:
        file.write(json.dumps({"event": "tick", "detail": {"seq": 2}}) + "\n")
    wait_until(lambda: len(reader.lines) == 3, 10, "the event after the truncation")
    reader.finish()
    assert reader.seqs() == [0, 1, 2]


def test_an_earlier_runs_stop_does_not_end_the_follow(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    for seq, event in enumerate(("run_started", "run_stopped", "run_started")):
        log.write(event, seq=seq)
    reader = Follower(path)
    wait_until(lambda: len(reader.lines) == 3, 10, "the log so far")
    log.write("actor_ready", seq=3)
    log.write("run_stopped", seq=4)
    reader.thread.join(10)
    assert not reader.thread.is_alive() and not reader.stop.is_set()
    assert reader.seqs() == [0, 1, 2, 3, 4]
    log.close()
