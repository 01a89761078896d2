"""The listeners' agreement with the composer: a pure function of the ``bar`` records."""

from __future__ import annotations

from typing import Any

import pytest

from kelly_actors.composer.live.agreement import (
    MIN_CONFIDENCE,
    WINDOW_BARS,
    agreement,
    quadrant_of,
    summary,
)


def _pad(v: float, a: float, d: float = 0.5, confidence: float = 0.8) -> dict[str, Any]:
    return {"valence": v, "arousal": a, "dominance": d, "confidence": confidence, "source": "x"}


def record(
    bar: int,
    emotion: dict[str, Any],
    listener: dict[str, Any] | None = None,
    midi: dict[str, Any] | None = None,
    gated: int = 0,
) -> dict[str, Any]:
    sources = {"listener": listener, "midi": midi, "listener_gated": gated}
    return {"bar": bar, "emotion": emotion, "sources": sources}


def test_per_axis_distance_and_quadrant_share_over_the_heard_bars() -> None:
    records = [
        record(0, _pad(0.5, 0.8, 0.6), _pad(0.3, 0.6, 0.5)),  # same quadrant
        record(1, _pad(0.5, 0.8, 0.6), _pad(-0.1, 0.7, 0.9)),  # valence sign differs
        record(2, _pad(-0.4, 0.3, 0.4), None),  # no reading: not counted
    ]
    got = agreement(records, "audio")
    assert (got.bars, got.heard) == (3, 2)
    assert got.distance == pytest.approx({"valence": 0.4, "arousal": 0.15, "dominance": 0.2})
    assert got.quadrant == 0.5
    assert got.last == {"valence": -0.1, "arousal": 0.7, "dominance": 0.9, "confidence": 0.8,
                        "bar": 1}  # fmt: skip
    assert got.reason == ""


def test_only_the_last_window_bars_count() -> None:
    old = [record(i, _pad(0.5, 0.8), _pad(-0.5, 0.2)) for i in range(10)]
    new = [record(10 + i, _pad(0.5, 0.8), _pad(0.5, 0.8)) for i in range(4)]
    got = agreement(old + new, "audio", window=4)
    assert (got.bars, got.heard, got.quadrant) == (4, 4, 1.0)
    assert got.distance == {"valence": 0.0, "arousal": 0.0, "dominance": 0.0}


def test_a_reading_under_the_minimum_confidence_is_low_confidence_not_agreement() -> None:
    records = [record(0, _pad(0.5, 0.8), _pad(-0.5, 0.2, confidence=0.1))]
    got = agreement(records, "audio", min_confidence=0.2)
    assert got.heard == 0 and got.distance is None and got.quadrant is None
    assert got.reason == "confidence low (at most 0.10 < 0.20)"


def test_estimates_refused_by_the_gate_read_as_low_confidence() -> None:
    records = [record(0, _pad(0.0, 0.5), None, gated=12), record(1, _pad(0.0, 0.5), None, gated=3)]
    got = agreement(records, "audio")
    assert got.reason == "confidence low (15 estimates under the gate)"


def test_no_reading_at_all_says_so() -> None:
    assert agreement([record(0, _pad(0.0, 0.5))], "audio").reason == "no listener reading"
    assert agreement([record(0, _pad(0.0, 0.5))], "midi").reason == "no listener reading"
    assert agreement([], "audio").reason == "no bar composed yet"


def test_the_midi_listener_is_read_from_its_own_source() -> None:
    records = [record(0, _pad(-0.5, 0.2), _pad(0.5, 0.8), _pad(-0.6, 0.3))]
    assert agreement(records, "midi").quadrant == 1.0
    assert agreement(records, "audio").quadrant == 0.0


def test_quadrant_edges_count_zero_valence_and_half_arousal_as_positive_and_high() -> None:
    assert quadrant_of(0.0, 0.5) == (True, True)
    assert quadrant_of(-0.01, 0.49) == (False, False)


def test_summary_names_the_window_and_each_listener() -> None:
    got = summary([record(0, _pad(0.2, 0.6), _pad(0.2, 0.6))], ("audio", "midi"))
    assert got["window"] == WINDOW_BARS and got["min_confidence"] == MIN_CONFIDENCE
    assert got["audio"]["quadrant"] == 1.0 and got["midi"]["heard"] == 0


@pytest.mark.parametrize(("listener", "window"), [("eyes", 4), ("audio", 0)])
def test_a_bad_listener_or_window_is_refused(listener: str, window: int) -> None:
    with pytest.raises(ValueError, match=r"(listener|window) must be"):
        agreement([], listener, window)
