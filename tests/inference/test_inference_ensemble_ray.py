"""An ensemble's streams on the Ray backend: each stream's requests under its own id reach
the replicas together and are run in one model call (a real local Ray cluster)."""

from __future__ import annotations

from importlib.util import find_spec

import pytest
from performance import Performance, wait_until
from test_inference_cluster import _stop, serve
from test_inference_ensemble import ensemble_toml, three_performers

from kelly_actors.inference.cluster.local import LocalCluster

pytestmark = pytest.mark.skipif(find_spec("ray") is None, reason="needs the cluster extra")


@pytest.mark.timeout(240)
def test_three_streams_on_ray_are_estimated_apart_and_batched_in_one_model_call(
    run_dir, tmp_path
) -> None:
    cluster = LocalCluster(tmp_path / "ray", nodes=1, cpus=2)
    try:
        done = serve(cluster.address)
        assert done.returncode == 0, done.stderr
        ray = {"backend": "ray",
               "cluster": {"address": cluster.address, "node_ip": "127.0.0.1", "slots": 4,
                           "connect_timeout_s": 8.0}}  # fmt: skip
        wav = three_performers(tmp_path / "ensemble.wav")
        with Performance(run_dir, ensemble_toml(wav, inference=ray)) as perf:
            perf.wait_ready()

            def telemetry() -> dict:
                return perf.actor("inference")["telemetry"]

            def batched() -> dict | None:
                # The streams of a hop reach the cluster together: a model call runs two
                # or more of them (the replicas' figures arrive with the bridge's reports).
                t = telemetry()
                reps = t.get("cluster", {}).get("replicas") or []
                return t if reps and max(r["batch_max"] for r in reps) >= 2 else None

            t = wait_until(batched, 60, "a Ray model call with two streams or more")
            assert t["cluster"]["served"] > 0
            bright, broken, dark = t["streams"]
            assert bright["estimates"] > 0 and dark["estimates"] > 0
            assert broken["estimates"] == 0 and broken["nonfinite"] > 0
            assert perf.stop() == 0
    finally:
        _stop(cluster)
