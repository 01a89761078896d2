"""A JACK server (dummy driver) of a test's own, under a name apart from the shared one."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


def jack_env(server: str) -> dict[str, str]:
    """The environment whose JACK clients and tools reach ``server`` and never start one."""
    return {**os.environ, "JACK_DEFAULT_SERVER": server, "JACK_NO_START_SERVER": "1"}


@contextmanager
def jack_server(rate: int = 48_000, period: int = 256) -> Iterator[str]:
    """Start ``jackd -n NAME -d dummy`` (no real-time), yield NAME once it takes clients;
    afterwards SIGTERM, then SIGKILL if it has not ended within 10 s."""
    name = f"kelly-test-{os.getpid()}-{rate}-{period}"
    proc = subprocess.Popen(
        ["jackd", "--no-realtime", "-n", name, "-d", "dummy", "-r", str(rate), "-p", str(period)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        up = subprocess.run(
            ["jack_wait", "-w", "-t", "20"], env=jack_env(name), capture_output=True, timeout=30
        )
        assert up.returncode == 0 and proc.poll() is None, f"jackd {name} did not come up"
        yield name
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
