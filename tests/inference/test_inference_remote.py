"""Remote workers over TCP with CurveZMQ: served with the right keys, refused (and logged)
without them; TCP is never opened without keys."""

from __future__ import annotations

import subprocess
import sys

import pytest
from inference_support import SHIPPED, Estimates, inference_toml, telemetry
from performance import Performance, env_with_support, wait_until

KELLY = [sys.executable, "-m", "kelly_actors.cli"]


def _keys(directory) -> None:
    done = subprocess.run(
        [*KELLY, "keys", "generate", str(directory)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def _tcp(perf) -> str:
    return wait_until(lambda: telemetry(perf).get("pool", {}).get("tcp"), 20, "the TCP endpoint")


def _worker(endpoint: str, keys) -> subprocess.Popen:
    return subprocess.Popen(
        [*KELLY, "worker", "--connect", endpoint, "--keys", str(keys)],
        env=env_with_support(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.terminate()
    _, err = proc.communicate(timeout=20)
    return err


@pytest.mark.slow
def test_a_remote_worker_with_the_right_keys_serves_over_loopback_tcp(run_dir) -> None:
    keys = run_dir / "keys"
    _keys(keys)
    options = {"model": str(SHIPPED), "remote_endpoint": "tcp://127.0.0.1:*", "keys_dir": str(keys)}
    with Performance(run_dir, inference_toml(options)) as perf:
        perf.wait_ready()
        worker = _worker(_tcp(perf), keys)
        try:
            est = Estimates(run_dir)
            wait_until(lambda: telemetry(perf)["pool"]["ready"] == 1, 30, "the remote worker")
            seen = telemetry(perf)["pool"]["served"]
            wait_until(lambda: telemetry(perf)["pool"]["served"] > seen + 20, 20, "remote results")
            wait_until(lambda: len(est.drain()) > 50, 20, "estimates served remotely")
            est.close()
            assert not any(e["degraded"] for e in est.received)
            assert telemetry(perf)["pool"]["refused"] == 0
        finally:
            _stop(worker)
        assert perf.stop() == 0


@pytest.mark.slow
def test_a_worker_with_other_keys_is_refused_and_the_refusal_is_logged(run_dir) -> None:
    keys, other = run_dir / "keys", run_dir / "other"
    _keys(keys)
    _keys(other)
    # The intruder knows the server's public key but holds a client key not on the list.
    (other / "server.key").write_bytes((keys / "server.key").read_bytes())
    options = {"model": str(SHIPPED), "remote_endpoint": "tcp://127.0.0.1:*", "keys_dir": str(keys)}
    with Performance(run_dir, inference_toml(options)) as perf:
        perf.wait_ready()
        worker = _worker(_tcp(perf), other)
        try:
            code = worker.wait(30)
        finally:
            err = _stop(worker)
        assert code == 1 and "refused" in err
        wait_until(
            lambda: any(e["event"] == "worker_refused" for e in perf.events()), 10, "the log line"
        )
        refusal = next(e for e in perf.events() if e["event"] == "worker_refused")
        assert refusal["detail"]["reason"] == "unknown client key"
        assert telemetry(perf)["pool"]["ready"] == 0
        assert perf.stop() == 0


def test_a_worker_asked_for_tcp_without_keys_refuses_to_connect() -> None:
    done = subprocess.run(
        [*KELLY, "worker", "--connect", "tcp://127.0.0.1:5999"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "needs --keys" in done.stderr


def test_a_remote_endpoint_without_keys_is_a_config_error(run_dir) -> None:
    (run_dir / "p.toml").write_text(
        inference_toml({"model": str(SHIPPED), "remote_endpoint": "tcp://127.0.0.1:5998"})
    )
    done = subprocess.run(
        [*KELLY, "--run-dir", str(run_dir), "run", str(run_dir / "p.toml")],
        env=env_with_support(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "never opened without CurveZMQ keys" in done.stderr
