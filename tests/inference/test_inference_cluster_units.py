"""The Ray backend's pieces that need no cluster: its settings, a replica's request check
and batching (the Replica class run on asyncio directly, the shipped model), and kelly
top's lines for it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from inference_support import SHIPPED

from kelly_actors.config.typed import from_mapping
from kelly_actors.console.inference_backend import backend_lines, backend_summary
from kelly_actors.inference.cluster.bridge import HELD_S, Bridge
from kelly_actors.inference.cluster.config import ClusterConfig
from kelly_actors.inference.cluster.replica import BadRequest, Replica, check_request
from kelly_actors.inference.config import InferenceConfig
from kelly_actors.inference.model import load_model

REPO = Path(__file__).resolve().parents[2]


def test_the_ray_backend_needs_a_local_worker_and_an_address(monkeypatch) -> None:
    with pytest.raises(ValueError, match="workers >= 1"):
        from_mapping(InferenceConfig, {"backend": "ray"}, "inference")
    monkeypatch.delenv("KELLY_RAY_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ValueError, match="KELLY_RAY_ADDRESS"):
        ClusterConfig().resolved_address()
    monkeypatch.setenv("KELLY_RAY_ADDRESS", "10.0.0.5:6379")
    assert ClusterConfig().resolved_address() == "10.0.0.5:6379"
    assert ClusterConfig(address="h:1").resolved_address() == "h:1"
    with pytest.raises(ValueError, match="min_replicas"):
        ClusterConfig(replicas=5, max_replicas=4)


def test_a_replica_refuses_a_malformed_request_with_the_reason() -> None:
    h = np.zeros((1, 1, 128), np.float32)
    with pytest.raises(BadRequest, match="frames must be"):
        check_request(np.zeros((1, 12), np.float32), h, h)
    with pytest.raises(BadRequest, match="float32"):
        check_request(np.zeros((1, 128)), h, h)
    with pytest.raises(BadRequest, match="NaN"):
        check_request(np.full((1, 128), np.nan, np.float32), h, h)
    assert check_request(np.zeros((3, 128), np.float32), h, h) == 3


def test_streams_arriving_together_run_as_one_model_call_with_each_stream_s_own_answer() -> None:
    model = load_model(SHIPPED)
    replica = Replica("r", "cpu", 1, max_batch=64, batch_wait_ms=2.0)
    replica.add_model(model.version, model.data)
    rng = np.random.default_rng(1)
    streams = [
        ((rng.standard_normal((1, 128)) * 5).astype(np.float32),
         (rng.standard_normal((1, 1, 128)) * 0.1).astype(np.float32),
         (rng.standard_normal((1, 1, 128)) * 0.1).astype(np.float32))
        for _ in range(16)
    ]  # fmt: skip

    async def together():
        return await replica.infer_many([(model.version, *s) for s in streams])

    answers = asyncio.run(together())
    assert replica.counts["calls"] == 1 and replica.counts["requests"] == 16
    for (frames, h, c), (emotion, h1, c1) in zip(streams, answers, strict=True):
        alone, h2, c2 = model.run(frames[:, None, :], h, c)
        np.testing.assert_allclose(emotion, alone[:, 0, :], atol=1e-5)
        np.testing.assert_allclose(h1, h2, atol=1e-5)
        np.testing.assert_allclose(c1, c2, atol=1e-5)
    bad = asyncio.run(replica.infer_many([("emotion-none", *streams[0])]))
    assert bad == ["BadRequest: model emotion-none is not loaded on r"]


def test_kelly_top_shows_the_cluster_and_each_replica_s_batches() -> None:
    replica = {"name": "kelly-replica-0", "host": "gpu1", "batch_mean": 12.5, "batch_max": 40,
               "call_ms_p50": 0.8, "call_ms_p99": 2.1}  # fmt: skip
    cluster = {"connected": True, "address": "10.0.0.5:6379", "rtt_ms_p50": 3.2,
               "rtt_ms_p99": 9.0, "replicas": [replica]}  # fmt: skip
    snap = {"actors": [{"telemetry": {"backend": "ray", "cluster": cluster}}]}
    lines = backend_lines(snap)
    assert lines[1] == "ray 10.0.0.5:6379 on  rtt 3.2/9.0 ms"
    assert lines[2] == "  kelly-replica-0 gpu1  batch 12.5/40  call 0.80/2.10 ms"
    away = {**cluster, "connected": False, "last_problem": "cluster lost"}
    snap = {"actors": [{"telemetry": {"backend": "ray", "cluster": away}}]}
    assert "away, local pool (cluster lost)" in backend_lines(snap)[1]
    assert backend_lines({"actors": [{"telemetry": {"backend": "pool"}}]}) == []


def test_kelly_status_names_the_local_backend_and_the_ray_one_with_its_replicas() -> None:
    solo = {"backend": "pool", "model": "emotion-1", "degraded": False}
    assert backend_summary({"actors": [{"telemetry": solo}]})[1] == (
        "local in the inference actor, model emotion-1"
    )
    pooled = {**solo, "pool": {"workers": 2, "ready": 1}, "degraded": True}
    assert backend_summary({"actors": [{"telemetry": pooled}]})[1] == (
        "local worker pool, 1/2 workers ready, the heuristic (no model)"
    )
    cluster = {"connected": True, "address": "10.0.0.5:6379", "replicas": []}
    ray = {"actors": [{"telemetry": {"backend": "ray", "cluster": cluster}}]}
    assert backend_summary(ray) == backend_lines(ray)
    assert backend_summary({"actors": [{"telemetry": {}}]}) == []


def test_kelly_cluster_serve_takes_its_bounds_from_the_performance_flags_over_them(
    tmp_path,
) -> None:
    from kelly_actors.cli import build_parser
    from kelly_actors.cli.cluster import _config

    text = (REPO / "examples" / "cluster.toml").read_text()
    text = text.replace("reconnect_s = 2.0\n", "reconnect_s = 2.0\nmin_replicas = 2\n"
                        "max_replicas = 6\nreplicas = 3\nmax_batch = 64\n")  # fmt: skip
    (tmp_path / "p.toml").write_text(text)
    args = build_parser().parse_args(
        ["cluster", "serve", "--config", str(tmp_path / "p.toml"), "--max-batch", "32"]
    )
    config = _config(args)
    assert (config.min_replicas, config.replicas, config.max_replicas) == (2, 3, 6)
    assert config.max_batch == 32 and config.namespace == "kelly"
    bad = build_parser().parse_args(["cluster", "serve", "--config", str(tmp_path / "nope")])
    with pytest.raises(ValueError):
        _config(bad)


def test_a_bridge_whose_loop_is_held_past_lost_s_and_more_is_known_to_be_stuck() -> None:
    bridge = object.__new__(Bridge)  # the check alone: no cluster, no sockets
    bridge.config = ClusterConfig(address="127.0.0.1:6379", lost_s=1.0)
    bridge.last_answer = 100.0
    assert bridge.held_for(100.0 + 1.0 + HELD_S / 2) is None  # check() decides until then
    assert bridge.held_for(100.0 + 1.0 + HELD_S + 0.5) == pytest.approx(1.0 + HELD_S + 0.5)
