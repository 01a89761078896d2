"""The transformer in a running performance: its bars play when they come in time; a
missing model or a missed deadline leaves the rule engines playing and says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from composer_support import composer_performance, read_note_log
from performance import Performance
from toml_config import performance_toml

from kelly_actors.bus import note_events

pytestmark = pytest.mark.slow


def performance(run_dir: Path, **options: Any) -> Performance:
    base = {"seed": 2, "midi_api": "none", "recording_dir": "off", "engine": "hybrid",
            "arousal": 0.8, "valence": 0.5}  # fmt: skip
    actors, rings = composer_performance(run_dir / "notes.jsonl", {**base, **options})
    return Performance(run_dir, performance_toml(actors, rings))


def transformer(actor: dict[str, Any]) -> dict[str, Any]:
    return actor["telemetry"].get("transformer", {})


def test_hybrid_bars_from_the_model_reach_the_notes_ring(run_dir: Path) -> None:
    # A generous deadline: this checks the path, not the speed (benchmarks/transformer.py).
    with performance(run_dir, transformer_deadline_ms=5000.0) as perf:
        actor = perf.wait_actor(
            "composer", lambda a: transformer(a).get("bars", 0) >= 3, 60, "three model bars"
        )
        t = transformer(actor)
        assert t["model"] == "transformer.onnx" and t["engines"] == ["melody", "counter"]
        assert actor["state"] == "ready"
        assert perf.stop() == 0
    events = read_note_log(run_dir / "notes.jsonl")
    ons = events[events[:, 1] == note_events.NOTE_ON]
    assert len(ons) > 0


def test_a_missing_model_degrades_the_composer_and_the_rules_keep_playing(run_dir: Path) -> None:
    with performance(run_dir, transformer_model=str(run_dir / "gone.onnx")) as perf:
        actor = perf.wait_actor(
            "composer", lambda a: a["telemetry"].get("bars", 0) >= 3, 60, "three bars"
        )
        assert actor["state"] == "degraded"
        assert "transformer model not found" in actor["degraded_reason"]
        assert transformer(actor)["fallbacks"] >= 3 and transformer(actor)["bars"] == 0
        assert perf.stop() == 0


def test_a_missed_deadline_plays_the_rules_bar_and_counts_it_late(run_dir: Path) -> None:
    # 1 µs: no model answers that fast, so every bar falls back.
    with performance(run_dir, transformer_deadline_ms=0.001) as perf:
        actor = perf.wait_actor(
            "composer", lambda a: transformer(a).get("late", 0) >= 2, 60, "two late bars"
        )
        assert actor["state"] == "degraded" and "late" in actor["degraded_reason"]
        assert actor["telemetry"]["bars"] >= 2
        assert perf.stop() == 0
