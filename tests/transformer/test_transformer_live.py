"""The transformer in a running performance: the composer asks the inference actor's
workers for each bar; their bars play when they come in time; a missing model, a
missing service or a missed deadline leaves the rule engines playing and says so."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
import zmq
from composer_support import composer_performance, read_note_log
from performance import Performance, wait_until
from toml_config import performance_toml

from kelly_actors.bus import messages, note_events, sockets
from kelly_actors.transformer.request import VariationRequest
from kelly_actors.transformer.tokens import Bar

pytestmark = pytest.mark.slow

INFERENCE = "kelly_actors.inference.actor:InferenceActor"
BASE = {"seed": 2, "midi": {"api": "none"}, "recording": {"directory": "off"},
        "emotion": {"arousal": 0.8, "valence": 0.5}}  # fmt: skip


def performance(
    run_dir: Path, inference: dict[str, Any] | None = None, **transformer: Any
) -> Performance:
    """Composer (+ tone clock, note log), and an inference actor when ``inference`` is given;
    ``transformer``: the composer's ``[actors.options.transformer]`` beyond engine hybrid."""
    options = {**BASE, "transformer": {"engine": "hybrid", **transformer}}
    actors, rings = composer_performance(run_dir / "notes.jsonl", options)
    if inference is not None:
        # The inference actor needs its frames ring; nobody feeds it here (no audio).
        rings.append({"name": "frames", "shape": [128], "capacity": 64, "policy": "overwrite",
                      "writer": "tone", "readers": ["inference"]})  # fmt: skip
        actors.append({"name": "inference", "target": INFERENCE, "options": inference})
    return Performance(run_dir, performance_toml(actors, rings))


def transformer(actor: dict[str, Any]) -> dict[str, Any]:
    return actor["telemetry"].get("transformer", {})


def variations(actor: dict[str, Any]) -> dict[str, Any]:
    return actor["telemetry"].get("variations", {})


def test_hybrid_bars_come_from_the_inference_workers_and_reach_the_notes_ring(
    run_dir: Path,
) -> None:
    # A generous deadline: this checks the path, not the speed (benchmarks/transformer.py).
    with performance(run_dir, {"workers": 1}, deadline_ms=5000.0) as perf:
        actor = perf.wait_actor(
            "composer", lambda a: transformer(a).get("bars", 0) >= 3, 60, "three model bars"
        )
        t = transformer(actor)
        assert t["served_by"] == "inference actor" and t["engines"] == ["melody", "counter"]
        # Its telemetry comes with its next heartbeat.
        inference = perf.wait_actor(
            "inference", lambda a: variations(a).get("served", 0) >= 3, 10, "three served"
        )
        assert variations(inference)["model"].startswith("transformer-")
        # Served by the worker process, not by the actor itself.
        assert inference["telemetry"]["pool"]["served"] >= 3
        assert perf.stop() == 0
    events = read_note_log(run_dir / "notes.jsonl")
    assert len(events[events[:, 1] == note_events.EventKind.NOTE_ON]) > 0


def test_a_sigkilled_worker_loses_no_bar_the_other_worker_serves_it(run_dir: Path) -> None:
    with performance(run_dir, {"workers": 2}, deadline_ms=5000.0) as perf:
        start = perf.wait_actor(
            "composer", lambda a: transformer(a).get("bars", 0) >= 2, 60, "two model bars"
        )
        # The first bar may go without (asked before the workers had loaded the model).
        fallbacks = transformer(start)["fallbacks"]
        for _ in range(2):
            pids = perf.actor("inference")["telemetry"]["pool"]["pids"]
            before = transformer(perf.actor("composer"))["bars"]
            os.kill(pids[0], signal.SIGKILL)
            perf.wait_actor(
                "composer", lambda a, b=before: transformer(a)["bars"] >= b + 2, 60, "more bars"
            )
        composer, inference = perf.actor("composer"), perf.actor("inference")
        assert transformer(composer)["fallbacks"] == fallbacks
        assert inference["telemetry"]["pool"]["worker_exits"] >= 2
        assert perf.stop() == 0


def test_a_missing_model_at_the_inference_actor_degrades_the_composer_and_rules_play(
    run_dir: Path,
) -> None:
    gone = str(run_dir / "gone.onnx")
    with performance(run_dir, {"workers": 1, "transformer_model": gone}) as perf:
        actor = perf.wait_actor(
            "composer", lambda a: transformer(a).get("fallbacks", 0) >= 3, 60, "three bars"
        )
        assert actor["state"] == "degraded"
        assert "transformer model not found" in actor["degraded_reason"]
        assert transformer(actor)["bars"] == 0 and actor["telemetry"]["bars"] >= 3
        assert "gone.onnx" in variations(perf.actor("inference"))["problem"]
        assert perf.stop() == 0


def test_without_an_inference_actor_the_rules_play_and_status_names_the_missing_service(
    run_dir: Path,
) -> None:
    with performance(run_dir) as perf:
        actor = perf.wait_actor(
            "composer", lambda a: transformer(a).get("fallbacks", 0) >= 2, 60, "two bars"
        )
        assert actor["state"] == "degraded"
        assert "no inference actor answers on ipc://" in actor["degraded_reason"]
        assert actor["telemetry"]["bars"] >= 2
        assert perf.stop() == 0


def test_a_missed_deadline_plays_the_rules_bar_and_both_sides_count_it(run_dir: Path) -> None:
    # 1 µs: no worker answers that fast, so every bar falls back.
    with performance(run_dir, {"workers": 1}, deadline_ms=0.001) as perf:
        actor = perf.wait_actor(
            "composer", lambda a: transformer(a).get("late", 0) >= 2, 60, "two late bars"
        )
        assert actor["state"] == "degraded" and "late" in actor["degraded_reason"]
        assert actor["telemetry"]["bars"] >= 2
        wait_until(
            lambda: (
                variations(perf.actor("inference"))["expired"]
                + variations(perf.actor("inference"))["late"]
                >= 2
            ),
            30,
            "the inference actor's count",
        )
        assert variations(perf.actor("inference"))["served"] == 0
        assert perf.stop() == 0


def test_malformed_asks_are_refused_with_the_reason_and_the_service_goes_on(
    run_dir: Path,
) -> None:
    with performance(run_dir, {"workers": 0}, deadline_ms=5000.0) as perf:
        perf.wait_actor("inference", lambda a: a["state"] == "ready", 30, "inference")
        sock = sockets.make(zmq.Context.instance(), zmq.DEALER, sockets.VARIATIONS_MAX_BYTES)
        try:
            sock.connect(f"ipc://{run_dir / 'variations.sock'}")
            sock.send_multipart([b"not json"])
            bad = VariationRequest(1, 0, ("melody",), 0.5, 0.5, "ionian", Bar(120.0, ()))
            text = bad.to_bytes().replace(b'"ionian"', b'"nonsense"')
            sock.send_multipart(messages.frames_of("ask", text, id=7, deadline_ms=100.0))
            assert sock.poll(10_000), "no answer to the bad request"
            answer = messages.decode(sock.recv_multipart())
            assert (answer.type, answer["id"]) == ("failed", 7)
            assert "bad request: unknown mode 'nonsense'" in answer["error"]
        finally:
            sock.close(0)
        wait_until(
            lambda: variations(perf.actor("inference")).get("bad", 0) == 2, 10, "two refusals"
        )
        # The composer's own asks are still served (by this process's thread: workers = 0).
        perf.wait_actor(
            "composer", lambda a: transformer(a).get("bars", 0) >= 2, 60, "two model bars"
        )
        assert perf.stop() == 0


def test_in_the_composer_thread_a_missing_model_degrades_and_the_rules_keep_playing(
    run_dir: Path,
) -> None:
    options = {"service": "", "model": str(run_dir / "gone.onnx")}
    with performance(run_dir, **options) as perf:
        actor = perf.wait_actor(
            "composer", lambda a: a["telemetry"].get("bars", 0) >= 3, 60, "three bars"
        )
        assert actor["state"] == "degraded"
        assert "transformer model not found" in actor["degraded_reason"]
        assert transformer(actor)["fallbacks"] >= 3 and transformer(actor)["bars"] == 0
        assert perf.stop() == 0


def test_in_the_composer_thread_model_bars_play(run_dir: Path) -> None:
    options = {"service": "", "deadline_ms": 5000.0}
    with performance(run_dir, **options) as perf:
        actor = perf.wait_actor(
            "composer", lambda a: transformer(a).get("bars", 0) >= 3, 60, "three model bars"
        )
        t = transformer(actor)
        assert t["served_by"] == "composer thread" and t["model"] == "transformer.onnx"
        assert perf.stop() == 0
