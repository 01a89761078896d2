"""An ensemble's listeners → one listener emotion, by a configurable rule.

With ``[actors.options.ensemble] streams = N`` the inference actor publishes estimates of
N streams (one per performer, ``audio_in``'s column k is stream k). Each stream keeps its
own gated and smoothed estimate (a :class:`Voice`); at each bar line :func:`fuse` makes
one listener emotion of the streams that are *live* — an accepted estimate younger than
``dropout_s`` and a confidence at or above the gate — by the rule:

* ``mean``: the live streams' points averaged with equal weights;
* ``weighted``: averaged with ``weights[k]`` (renormalised over the live streams);
* ``leader``: the leader's point while it is live; when it goes silent, the mean of the
  others (the view's ``note`` says so, and the composer logs an ``ensemble`` event).

A stream that stops (silence gives confidence 0, which the gate refuses; a dead input
gives nothing) drops out of the fusion after ``dropout_s`` instead of pulling the
emotion towards neutral; with no stream live there is no listener emotion at all, as
with a silent solo performer. The result goes into the fusion with text, MIDI, sensors
and locks exactly as the solo listener's estimate does (:mod:`.fusion`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from kelly_actors.bus.frames import MAX_STREAMS
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.config.typed import Checked, setting

RULES = ("mean", "leader", "weighted")


@dataclass(frozen=True)
class EnsembleSettings(Checked):
    """The composer's ``[actors.options.ensemble]`` table.

    Attributes:
        streams: input streams (performers); 1 = a solo performance (no ensemble). Must
            match the ``frames`` ring's rows and the audio actor's ``input_channels``.
        rule: ``mean`` | ``leader`` | ``weighted`` (module docstring).
        leader: the leader stream for ``rule = "leader"``: its index (0…N−1) or its name.
        weights: one weight ≥ 0 per stream for ``rule = "weighted"`` (empty: equal).
        names: one name per stream (e.g. the performers'; empty: ``stream k``).
        dropout_s: seconds without an accepted estimate after which a stream drops out.
    """

    streams: int = setting(1, low=1, high=MAX_STREAMS)
    rule: str = setting("mean", choices=RULES)
    leader: int | str = 0
    weights: tuple[float, ...] = ()
    names: tuple[str, ...] = ()
    dropout_s: float = setting(1.0, above=0.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        n = self.streams
        if self.names and len(self.names) != n:
            raise ValueError(f"names has {len(self.names)} names for streams = {n}")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"names must be distinct, got {list(self.names)}")
        if self.weights and len(self.weights) != n:
            raise ValueError(
                f"weights has {len(self.weights)} values for streams = {n} (one per stream)"
            )
        if any(not math.isfinite(w) or w < 0 for w in self.weights):
            raise ValueError(f"weights must be finite and >= 0, got {list(self.weights)}")
        if self.weights and sum(self.weights) <= 0:
            raise ValueError("weights are all 0: no stream would count")
        if self.rule == "weighted" and not self.weights:
            raise ValueError("rule = 'weighted' needs weights (one per stream)")
        self.leader_index()

    @property
    def active(self) -> bool:
        """Whether this is an ensemble (more than one stream)."""
        return self.streams > 1

    def name(self, index: int) -> str:
        return self.names[index] if self.names else f"stream {index}"

    def weight(self, index: int) -> float:
        return self.weights[index] if self.weights else 1.0

    def leader_index(self) -> int:
        """The leader's index; ValueError naming ``leader`` when it names no stream."""
        leader = self.leader
        if isinstance(leader, str):
            if leader in self.names:
                return self.names.index(leader)
            if leader.isdigit():
                leader = int(leader)
            else:
                known = ", ".join(self.names) if self.names else "none: set names"
                raise ValueError(f"leader = {leader!r} names no stream (names: {known})")
        if not 0 <= leader < self.streams:
            raise ValueError(f"leader = {leader} is out of range: streams are 0…{self.streams - 1}")
        return leader


@dataclass(frozen=True)
class Voice:
    """One stream's smoothed accepted estimate: point, confidence (0–1), and when the last
    accepted estimate came (monotonic s)."""

    point: PAD
    confidence: float
    at: float


@dataclass(frozen=True)
class Part:
    """One stream at a bar line: its voice (None: never heard), age (s; None), whether it
    is live, its share of the fused emotion (0–1; 0 when out) and whether it leads."""

    index: int
    name: str
    voice: Voice | None
    age_s: float | None
    live: bool
    share: float
    leader: bool

    def to_dict(self) -> dict[str, Any]:
        v = self.voice
        axes = ("valence", "arousal", "dominance")
        point = v.point.as_tuple() if v else (None, None, None)
        return {
            "stream": self.index,
            "name": self.name,
            **{k: None if x is None else round(x, 4) for k, x in zip(axes, point, strict=True)},
            "confidence": round(v.confidence, 4) if v else None,
            "age_s": round(self.age_s, 2) if self.age_s is not None else None,
            "live": self.live,
            "share": round(self.share, 4),
            "leader": self.leader,
        }


@dataclass(frozen=True)
class EnsembleView:
    """The ensemble at a bar line: the fused point and confidence (None: no stream live),
    every stream's :class:`Part`, the rule, and a note when the rule had to fall back."""

    point: PAD | None
    confidence: float
    parts: tuple[Part, ...]
    rule: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "note": self.note,
            "live": sum(p.live for p in self.parts),
            "streams": [p.to_dict() for p in self.parts],
        }


def is_live(voice: Voice | None, now: float, dropout_s: float, gate: float) -> bool:
    """A stream counts while its last accepted estimate is fresh and confident enough."""
    return voice is not None and now - voice.at <= dropout_s and voice.confidence >= gate


def rule_weights(settings: EnsembleSettings, live: list[bool]) -> tuple[list[float], str]:
    """Each stream's share (summing to 1 over the live streams, or all 0 when none is
    live) and a note when the rule fell back."""
    n = settings.streams
    note = ""
    if settings.rule == "leader":
        lead = settings.leader_index()
        if live[lead]:
            raw = [1.0 if k == lead else 0.0 for k in range(n)]
        else:
            raw = [1.0 if live[k] else 0.0 for k in range(n)]
            others = "the others' mean" if any(raw) else "nobody else plays"
            note = f"leader {settings.name(lead)} silent: {others}"
    elif settings.rule == "weighted":
        raw = [settings.weight(k) if live[k] else 0.0 for k in range(n)]
    else:
        raw = [1.0 if live[k] else 0.0 for k in range(n)]
    total = sum(raw)
    return ([w / total for w in raw] if total > 0 else [0.0] * n), note


def fuse(
    settings: EnsembleSettings, voices: dict[int, Voice], now: float, gate: float
) -> EnsembleView:
    """The listener emotion of the live streams at ``now`` (monotonic s) by the rule."""
    n = settings.streams
    got = [voices.get(k) for k in range(n)]
    live = [is_live(v, now, settings.dropout_s, gate) for v in got]
    shares, note = rule_weights(settings, live)
    lead = settings.leader_index() if settings.rule == "leader" else -1
    ages = [None if v is None else max(0.0, now - v.at) for v in got]
    parts = tuple(
        Part(k, settings.name(k), v, ages[k], live[k], shares[k], k == lead)
        for k, v in enumerate(got)
    )
    counted = [(v, w) for v, w in zip(got, shares, strict=True) if v is not None and w > 0]
    if not counted:
        return EnsembleView(None, 0.0, parts, settings.rule, note or "no stream live")
    axes = [sum(w * v.point.as_tuple()[i] for v, w in counted) for i in range(3)]
    confidence = sum(w * v.confidence for v, w in counted)
    return EnsembleView(PAD.clamped(*axes), confidence, parts, settings.rule, note)


def status(
    settings: EnsembleSettings, voices: dict[int, Voice], now: float, gate: float
) -> dict[str, Any]:
    """The ensemble as it stands at ``now`` for status: the rule, the leader's name (for
    ``leader``), the fallback note, and each stream's V/A/D, confidence, age, share."""
    view = fuse(settings, voices, now, gate)
    leader = settings.name(settings.leader_index()) if settings.rule == "leader" else None
    fused = None
    if view.point is not None:
        v, a, d = view.point.as_tuple()
        fused = {"valence": round(v, 4), "arousal": round(a, 4), "dominance": round(d, 4)}
    return {**view.to_dict(), "leader": leader, "fused": fused}
