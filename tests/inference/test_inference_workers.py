"""Scale-out: with two worker processes, killing or freezing one loses no frame."""

from __future__ import annotations

import os
import signal

import pytest
from inference_support import SHIPPED, Estimates, inference_toml, sample_gaps, telemetry
from performance import Performance, wait_until


def _pool(perf) -> dict:
    """The pool's figures (empty until the first heartbeat carries them)."""
    return telemetry(perf).get("pool", {"ready": 0, "pids": [], "worker_exits": 0, "retried": 0})


@pytest.mark.slow
def test_sigkill_of_one_of_two_workers_mid_stream_loses_no_frame(run_dir) -> None:
    with Performance(run_dir, inference_toml({"model": str(SHIPPED), "workers": 2})) as perf:
        perf.wait_ready()
        est = Estimates(run_dir)
        wait_until(lambda: _pool(perf)["ready"] == 2, 20, "two workers with the model")
        wait_until(lambda: len(est.drain()) > 50, 20, "estimates before the kill")
        victim = _pool(perf)["pids"][0]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: _pool(perf)["worker_exits"] == 1, 10, "the pool to see the death")
        wait_until(lambda: _pool(perf)["ready"] == 2, 20, "a replacement worker")
        seen = len(est.drain())
        wait_until(lambda: len(est.drain()) > seen + 100, 20, "estimates after the kill")
        est.close()
        inf = telemetry(perf)
        assert victim not in inf["pool"]["pids"] and inf["pool"]["spawned"] == 3
        assert inf["lost"] == 0 and inf["late"] == 0 and inf["gaps"] == 0
        assert sample_gaps(est.received) == 0
        assert perf.stop() == 0


@pytest.mark.slow
def test_a_frozen_worker_s_request_is_served_by_the_other_within_its_deadline(run_dir) -> None:
    options = {"model": str(SHIPPED), "workers": 2, "retry_s": 0.05, "deadline_s": 1.0}
    with Performance(run_dir, inference_toml(options)) as perf:
        perf.wait_ready()
        est = Estimates(run_dir)
        wait_until(lambda: _pool(perf)["ready"] == 2, 20, "two workers with the model")
        frozen = _pool(perf)["pids"][1]
        os.kill(frozen, signal.SIGSTOP)
        try:
            wait_until(lambda: _pool(perf)["retried"] >= 1, 20, "a request retried elsewhere")
            seen = len(est.drain())
            wait_until(lambda: len(est.drain()) > seen + 100, 20, "estimates from the other worker")
        finally:
            os.kill(frozen, signal.SIGCONT)
        est.close()
        inf = telemetry(perf)
        assert inf["lost"] == 0 and inf["gaps"] == 0
        assert sample_gaps(est.received) == 0
        assert perf.stop() == 0
