"""How far the listeners agree with the composer, over the last bars.

A pure function of the composer's ``bar`` records (:mod:`~kelly_actors.composer.live.bar_log`,
the fields ``docs/protocol.md`` lists), so the composer's telemetry (``kelly top``), the
web console and ``kelly report`` (which reads the same records from the event log) all show
the same figures.

For each bar the composer's emotion is the fused one it composed the bar for
(``emotion``); a listener's reading is the one that counted at that bar line
(``sources.listener``: the audio listener's smoothed estimate, fresh and above the
fusion's confidence gate; ``sources.midi``: the symbolic listener's, weighed by its
confidence then). A bar counts when the listener's confidence there is at least
``min_confidence``. Over the counted bars of the window:

* ``distance``: mean absolute difference per axis (valence on −1…1, so up to 2;
  arousal and dominance on 0…1);
* ``quadrant``: the share of bars whose valence sign (≥ 0 counts as positive) and
  arousal side (≥ 0.5 counts as high) are the same for both.

The composer's emotion already includes what the listener said, weighed by
``neural_weight`` / ``symbolic_weight`` (docs/composer.md): agreement here is "does the
music the composer aims for sound, to the listener, like the performer", not an
independent test of the model (that is ``benchmarks/closed_loop.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Bars the composer's telemetry looks back over (16 bars: half a minute at 120 bpm).
WINDOW_BARS = 16
#: The listeners, by the key of their reading in a bar record's ``sources``.
LISTENERS = {"audio": "listener", "midi": "midi"}
AXES = ("valence", "arousal", "dominance")
#: Below this confidence a reading does not count (the issue's bar for "not sure": bad
#: input — silence, noise — must stay at or under 0.2).
MIN_CONFIDENCE = 0.2


@dataclass(frozen=True)
class Agreement:
    """One listener against the composer over the last ``bars`` bars.

    Attributes:
        listener: ``audio`` or ``midi``.
        bars: bars in the window (at most the window asked for; fewer early on).
        heard: bars of those where the listener's confidence was ≥ ``min_confidence``.
        distance: mean |listener − composer| per axis over the heard bars (None: none heard).
        quadrant: share (0…1) of heard bars in the same valence × arousal quadrant.
        last: the newest heard reading (valence, arousal, dominance, confidence) and its
            bar; None when no bar was heard.
        reason: why nothing was heard ("" when something was).
    """

    listener: str
    bars: int
    heard: int
    distance: dict[str, float] | None
    quadrant: float | None
    last: dict[str, Any] | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "listener": self.listener,
            "bars": self.bars,
            "heard": self.heard,
            "distance": self.distance,
            "quadrant": None if self.quadrant is None else round(self.quadrant, 4),
            "last": self.last,
            "reason": self.reason,
        }


def quadrant_of(valence: float, arousal: float) -> tuple[bool, bool]:
    """(valence ≥ 0, arousal ≥ 0.5)."""
    return valence >= 0.0, arousal >= 0.5


def _reading(record: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    sources = record.get("sources") or {}
    reading = sources.get(key)
    return reading if isinstance(reading, Mapping) else None


def _why_not(listener: str, window: Sequence[Mapping[str, Any]], min_confidence: float) -> str:
    key = LISTENERS[listener]
    if not window:
        return "no bar composed yet"
    readings = [r for r in (_reading(rec, key) for rec in window) if r is not None]
    if readings:
        best = max(float(r["confidence"]) for r in readings)
        return f"confidence low (at most {best:.2f} < {min_confidence:.2f})"
    gated = sum(int((rec.get("sources") or {}).get("listener_gated") or 0) for rec in window)
    if listener == "audio" and gated:
        return f"confidence low ({gated} estimates under the gate)"
    return "no listener reading"


def agreement(
    records: Sequence[Mapping[str, Any]],
    listener: str = "audio",
    window: int = WINDOW_BARS,
    min_confidence: float = MIN_CONFIDENCE,
) -> Agreement:
    """``listener`` (audio | midi) against the composer over the last ``window`` records.

    ``records``: ``bar`` records in bar order (dicts with ``bar``, ``emotion`` and
    ``sources``). ValueError for an unknown listener or a window < 1.
    """
    if listener not in LISTENERS:
        raise ValueError(f"listener must be one of {', '.join(LISTENERS)}, got {listener!r}")
    if window < 1:
        raise ValueError(f"window must be at least 1 bar, got {window}")
    recent = list(records)[-window:]
    key = LISTENERS[listener]
    pairs = [
        (rec, reading)
        for rec in recent
        if (reading := _reading(rec, key)) is not None
        and float(reading["confidence"]) >= min_confidence
        and float(reading["confidence"]) > 0.0
    ]
    if not pairs:
        reason = _why_not(listener, recent, max(min_confidence, 0.0))
        return Agreement(listener, len(recent), 0, None, None, None, reason)
    distance = {
        axis: round(
            sum(abs(float(r[axis]) - float(rec["emotion"][axis])) for rec, r in pairs) / len(pairs),
            4,
        )
        for axis in AXES
    }
    same = sum(
        quadrant_of(float(r["valence"]), float(r["arousal"]))
        == quadrant_of(float(rec["emotion"]["valence"]), float(rec["emotion"]["arousal"]))
        for rec, r in pairs
    )
    rec, newest = pairs[-1]
    last = {
        **{axis: round(float(newest[axis]), 4) for axis in (*AXES, "confidence")},
        "bar": rec.get("bar"),
    }
    return Agreement(listener, len(recent), len(pairs), distance, same / len(pairs), last, "")


def summary(
    records: Sequence[Mapping[str, Any]],
    listeners: Sequence[str] = ("audio",),
    window: int = WINDOW_BARS,
    min_confidence: float = MIN_CONFIDENCE,
) -> dict[str, Any]:
    """``{"window": window, "min_confidence": …, LISTENER: Agreement.to_dict(), …}``."""
    out: dict[str, Any] = {"window": window, "min_confidence": min_confidence}
    for name in listeners:
        out[name] = agreement(records, name, window, min_confidence).to_dict()
    return out
