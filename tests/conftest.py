"""Shared fixtures: short run directories, a /dev/shm leak check, JACK gating."""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

from service_skip import skip_or_fail

from kelly_actors.bus import namespace
from kelly_actors.bus.namespace import runtime_dir


def _kelly_objects() -> set[str]:
    return {p.name for p in runtime_dir().glob("kelly-*")}


def _leaked(before: set[str]) -> set[str]:
    """New objects of runs that are over: nobody holds their lock any more.

    Objects of runs still alive belong to another process on the machine (a
    performance someone is playing, a parallel test run), not to this test,
    whose own processes are all ended by its fixtures.
    """
    new = _kelly_objects() - before
    return {name for name in new if (tag := _tag(name)) is None or namespace.run_is_dead(tag)}


def _tag(name: str) -> str | None:
    match = re.match(r"^kelly-([0-9a-f]{8})[-.]", name)
    return match.group(1) if match else None


@pytest.fixture(autouse=True)
def no_shm_leak() -> Iterator[None]:
    """Every test leaves /dev/shm as it found it (processes get a moment to exit)."""
    before = _kelly_objects()
    yield
    deadline = time.monotonic() + 5.0
    while (leaked := _leaked(before)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not leaked, f"shared-memory objects leaked: {sorted(leaked)}"


@pytest.fixture
def run_dir() -> Iterator[Path]:
    """A short directory (ipc socket paths must stay under 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="kt-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def jack_running() -> bool:
    """A JACK server accepts clients (``jack_wait -c`` prints "running")."""
    import subprocess

    try:
        done = subprocess.run(["jack_wait", "-c"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.stdout.strip() == "running"


@pytest.fixture
def jack() -> None:
    """Require a running JACK server (skip on a laptop without one; fail in CI)."""
    if not jack_running():
        skip_or_fail("no JACK server is running (start one with scripts/jack)")
