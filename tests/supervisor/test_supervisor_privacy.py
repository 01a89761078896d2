"""A run's data is its user's alone: the run directory, its sockets, the event log and the
recordings, tested with a real performance and, as root, a real second user."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from performance import Performance, kelly
from toml_config import tone_meter_toml

OTHER_USER = "kelly-test-other"


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def open_parent() -> Iterator[Path]:
    """A directory every user may enter (0755), so only kelly's own modes keep others out."""
    path = Path(tempfile.mkdtemp(prefix="kp-", dir="/tmp"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def other_user() -> Iterator[str]:
    """A second local account (created and removed by the test; needs root)."""
    if os.geteuid() != 0:
        pytest.skip("creating a second user needs root (CI runs as root)")
    exists = subprocess.run(["id", OTHER_USER], capture_output=True).returncode == 0
    if not exists:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER_USER],
            check=True,
        )
    yield OTHER_USER
    if not exists:
        subprocess.run(["userdel", OTHER_USER], check=False)


def _as(user: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", user, "--", *command], capture_output=True, text=True, timeout=30
    )


def test_the_run_directory_sockets_log_and_recordings_are_readable_by_their_user_only(
    open_parent: Path, other_user: str
) -> None:
    run_dir, record = open_parent / "run", open_parent / "take"
    with Performance(run_dir, None, ["--record", str(record)]) as perf:
        perf.wait_ready(60)
        assert _mode(run_dir) == 0o700
        for sock in ("control", "status", "actors"):
            assert _mode(run_dir / f"{sock}.sock") & 0o077 == 0, sock
        assert _mode(run_dir / "events.jsonl") == 0o600
        assert _mode(run_dir / "supervisor.json") == 0o600
        connect = (
            "import socket; s = socket.socket(socket.AF_UNIX); "
            f"s.connect({str(run_dir / 'control.sock')!r})"
        )
        refused = _as(other_user, "/usr/bin/python3", "-c", connect)
        assert refused.returncode != 0 and "PermissionError" in refused.stderr
        assert _as(other_user, "cat", str(run_dir / "events.jsonl")).returncode != 0
        assert perf.stop() == 0
    assert _mode(record) == 0o700
    recorded = [p for p in record.rglob("*") if p.is_file()]
    assert {p.suffix for p in recorded} >= {".wav", ".mid", ".json"}
    assert {p.name: _mode(p) for p in recorded} == {p.name: 0o600 for p in recorded}
    for path in recorded:
        assert _as(other_user, "cat", str(path)).returncode != 0, path


@pytest.mark.parametrize("kind", ["symlink", "group_writable", "other_owner"])
def test_kelly_run_refuses_a_run_directory_it_cannot_trust_and_says_why(
    open_parent: Path, kind: str
) -> None:
    run_dir = open_parent / "run"
    if kind == "symlink":
        (open_parent / "real").mkdir()
        run_dir.symlink_to(open_parent / "real")
        reason = "symbolic link"
    elif kind == "group_writable":
        run_dir.mkdir()
        os.chmod(run_dir, 0o770)
        reason = "writable by its group"
    else:
        if os.geteuid() != 0:
            pytest.skip("only root can give a directory to another user")
        run_dir.mkdir(mode=0o700)
        os.chown(run_dir, 65534, 65534)
        reason = "belongs to uid 65534"
    config = open_parent / "performance.toml"
    config.write_text(tone_meter_toml())
    done = kelly("run", str(config), "--duration", "1", run_dir=run_dir)
    assert done.returncode == 1
    assert reason in done.stderr
    assert not (open_parent / "real" / "supervisor.json").exists()
