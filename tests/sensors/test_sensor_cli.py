"""``kelly sensor simulate`` sends real OSC datagrams, on time, to the host and port given."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from kelly_actors.osc import wire


def test_simulate_sends_heart_rate_eda_and_motion_over_udp() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10.0)
        port = sock.getsockname()[1]
        argv = [sys.executable, "-m", "kelly_actors.cli", "sensor", "simulate"]
        argv += ["--hr", "70..150", "--eda", "3", "--motion", "0.05..0.5", "--rate", "10"]
        argv += ["--period", "4", "--duration", "1.5", "--drop", "0", "--port", str(port)]
        argv += ["--quiet"]
        start = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        got: dict[str, list[float]] = {}
        sock.settimeout(0.0)
        while True:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                break
            (timed,) = wire.decode(memoryview(data), time.time(), 10.0)
            assert timed.message.tags == "f"
            got.setdefault(timed.message.address, []).append(timed.message.args[0])
    assert time.monotonic() - start >= 1.5  # played in real time, not all at once
    assert len(got["/kelly/sensor/eda"]) == len(got["/kelly/sensor/motion"]) == 16
    assert all(abs(v - 3.0) < 0.6 for v in got["/kelly/sensor/eda"])
    beats = got["/kelly/sensor/heart_rate"]
    assert 1 <= len(beats) <= 4 and all(60 < v < 160 for v in beats)


def test_simulate_without_a_stream_or_with_a_bad_range_is_a_usage_error() -> None:
    base = [sys.executable, "-m", "kelly_actors.cli", "sensor", "simulate"]
    none = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert none.returncode == 2 and "at least one of --hr" in none.stderr
    bad = subprocess.run([*base, "--hr", "fast"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "expected LOW..HIGH" in bad.stderr
    host = subprocess.run(
        [*base, "--hr", "70", "--host", "stage.local"], capture_output=True, text=True, timeout=60
    )
    assert host.returncode == 2 and "--host must be an IP address" in host.stderr
