"""Emotion fusion: text, neural estimates and the performer's overrides → one PAD per bar.

Sources:

* **text** (``feel``): :func:`~kelly_actors.composer.emotion.text.analyse`
  gives the present emotion (with a confidence) and maybe a desired one. With
  a desire (or the ``soothe`` strategy) the intent planner lays out a journey
  of ``journey_bars`` bars; without one the music expresses the feeling.
* **performer** (``set_emotion``): the point itself, confidence 1, no journey.
* **neural** (``estimate``): an estimate below ``confidence_gate`` is
  ignored; accepted ones are smoothed exponentially
  (``s ← s + α·(x − s)``, α = ``smoothing``, confidence likewise) and count
  while fresher than ``estimate_timeout_s``. An ensemble (``[actors.options.ensemble]``
  with ``streams`` > 1) has one such estimate per stream, made one listener emotion
  at each bar line by the ensemble's rule (:mod:`.ensemble`).
* **sensors** (``sensor``: a :class:`~kelly_actors.sensors.reading.Reading` per
  sensor from the ``sensors`` ring): the arousal (motion: and dominance) each
  sensor proposes, weighed by ``weight × confidence``, the confidence decaying
  with the reading's age (:func:`~kelly_actors.sensors.signal.confidence`).
* **midi** (``symbolic``: a :class:`~kelly_actors.symbolic.reading.Reading` from the
  ``midi_in`` ring): what the symbolic listener hears in the performer's notes, weighed
  by ``symbolic_weight × confidence``, the confidence low with few notes and decaying
  once the performer stops (docs/midi.md).

At each bar line (:meth:`EmotionFusion.next_bar`) the explicit point (text or
performer; the journey's next point while one runs), the neural one and the midi one
are averaged with weights ``explicit confidence``, ``neural_weight × neural
confidence`` and ``symbolic_weight × midi confidence``; then arousal and dominance
are averaged with the sensors' proposals, the point so far keeping that same weight
(0 when nobody spoke: the body alone moves the music); locked axes keep their locked value, so a
lock wins over every source; a result closer than ``deadband`` (PAD
distance) to the emotion now playing does not move the music (hysteresis on
top of the mapper's mode hysteresis).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from kelly_actors.composer.emotion import intent, thesaurus
from kelly_actors.composer.emotion.pad import NEUTRAL, PAD
from kelly_actors.composer.emotion.text import TextEmotion
from kelly_actors.composer.live.ensemble import EnsembleSettings, EnsembleView, Voice, fuse
from kelly_actors.config.typed import Checked, setting
from kelly_actors.sensors.reading import Reading
from kelly_actors.symbolic import reading as symbolic_reading

AXES = ("valence", "arousal", "dominance")
_RANGES = {"valence": (-1.0, 1.0), "arousal": (0.0, 1.0), "dominance": (0.0, 1.0)}


class FusionError(ValueError):
    """A request the fusion refuses; the message says why."""


@dataclass(frozen=True)
class FusionSettings(Checked):
    """The composer's ``[actors.options.fusion]`` table.

    Attributes:
        strategy: express | soothe | transform — how ``feel`` with a desire travels.
        journey_bars: bars a journey takes.
        confidence_gate: neural estimates below this confidence (0–1) are ignored.
        smoothing: α (0–1) of the exponential smoothing, per accepted estimate.
        estimate_timeout_s: seconds an estimate stays valid.
        neural_weight: the neural estimate's weight (0–1) relative to an explicit
            emotion of equal confidence.
        deadband: PAD distance below which the music does not move.
        symbolic_weight: the MIDI input's listener's weight (0–1) relative to an
            explicit emotion of equal confidence.
    """

    strategy: str = setting("transform", choices=tuple(s.value for s in intent.Strategy))
    journey_bars: int = setting(16, low=1)
    confidence_gate: float = setting(0.4, low=0.0, high=1.0)
    smoothing: float = setting(0.3, low=0.0, high=1.0)
    estimate_timeout_s: float = setting(5.0, above=0.0)
    neural_weight: float = setting(0.5, low=0.0, high=1.0)
    deadband: float = setting(0.04, low=0.0)
    symbolic_weight: float = setting(0.5, low=0.0, high=1.0)


@dataclass(frozen=True)
class Fused:
    """The emotion chosen for one bar: point, confidence (0–1) and its source."""

    point: PAD
    confidence: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        v, a, d = self.point.as_tuple()
        return {
            "valence": round(v, 4),
            "arousal": round(a, 4),
            "dominance": round(d, 4),
            "confidence": round(self.confidence, 4),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fused:
        point = PAD.clamped(data["valence"], data["arousal"], data["dominance"])
        return cls(point, float(data["confidence"]), str(data["source"]))


@dataclass(frozen=True)
class Body:
    """What the sensors propose at a bar line: arousal with its total weight
    (Σ weight × confidence), dominance with its own (None: no sensor moves it), and
    how many sensors count."""

    arousal: float
    arousal_weight: float
    dominance: float | None
    dominance_weight: float
    sensors: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "arousal": round(self.arousal, 4),
            "arousal_weight": round(self.arousal_weight, 4),
            "dominance": None if self.dominance is None else round(self.dominance, 4),
            "dominance_weight": round(self.dominance_weight, 4),
            "sensors": self.sensors,
        }


def body_of(readings: list[Reading], now: float) -> Body | None:
    """The sensors' weighted proposal at ``now`` (monotonic s); None when none counts."""
    aw = a = dw = d = 0.0
    n = 0
    for r in readings:
        w = r.weight * r.confidence(now)
        if w <= 0.0:
            continue
        n += 1
        aw += w
        a += w * r.arousal
        if r.dominance is not None:
            dw += w
            d += w * r.dominance
    if n == 0:
        return None
    return Body(a / aw, aw, d / dw if dw > 0 else None, dw, n)


def with_body(fused: Fused, weight: float, body: Body) -> Fused:
    """``fused`` (which carries ``weight``) averaged with the sensors on arousal and, where
    they have it, dominance; valence stays."""
    v, a, d = fused.point.as_tuple()
    a = (weight * a + body.arousal_weight * body.arousal) / (weight + body.arousal_weight)
    if body.dominance is not None:
        dw = body.dominance_weight
        d = (weight * d + dw * body.dominance) / (weight + dw)
    source = "sensors" if weight == 0 else f"{fused.source}+sensors"
    confidence = max(fused.confidence, min(1.0, body.arousal_weight))
    return Fused(PAD.clamped(v, a, d), confidence, source)


def mix(parts: list[tuple[Fused, float]]) -> Fused:
    """The sources' points averaged by their weights (one source: itself), the highest
    confidence, the sources' names joined by '+'."""
    if len(parts) == 1:
        return parts[0][0]
    total = sum(w for _, w in parts)
    if total <= 0.0:
        return parts[0][0]
    v = sum(w * f.point.valence for f, w in parts) / total
    a = sum(w * f.point.arousal for f, w in parts) / total
    d = sum(w * f.point.dominance for f, w in parts) / total
    confidence = max(f.confidence for f, _ in parts)
    return Fused(PAD.clamped(v, a, d), confidence, "+".join(f.source for f, _ in parts))


def pad_from(values: dict[str, Any]) -> PAD:
    """A PAD point from ``{"valence", "arousal", "dominance"}``; FusionError when bad."""
    out = []
    for axis in AXES:
        x = values.get(axis)
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            raise FusionError(f"{axis} must be a finite number, got {x!r}")
        low, high = _RANGES[axis]
        if not low <= x <= high:
            raise FusionError(f"{axis} must be within {low:g}…{high:g}, got {x:g}")
        out.append(float(x))
    return PAD(*out)


def axis_name(value: Any) -> str:
    """Validate an axis name (valence, arousal or dominance)."""
    if value not in AXES:
        raise FusionError(f"axis must be one of {', '.join(AXES)}, got {value!r}")
    return str(value)


def nearest_name(point: PAD) -> str:
    return thesaurus.nearest(point, 1)[0][0].name


class EmotionFusion:
    """Keeps every source's latest word and decides each bar's emotion."""

    def __init__(
        self,
        settings: FusionSettings,
        start: PAD = NEUTRAL,
        ensemble: EnsembleSettings | None = None,
    ) -> None:
        self.settings = settings
        self.ensemble = ensemble if ensemble is not None else EnsembleSettings()
        #: An ensemble's streams' smoothed estimates, by stream; the last bar line's view.
        self.voices: dict[int, Voice] = {}
        self.ensemble_view: EnsembleView | None = None
        self.explicit: Fused | None = None
        self.journey: list[PAD] = []
        self.target: PAD | None = None
        self.neural: Fused | None = None
        self.neural_time = -math.inf
        self.locks: dict[str, float] = {}
        self.playing = Fused(start, 0.0, "initial")
        self.gated = 0
        self.accepted = 0
        #: The newest reading of each sensor, by its index.
        self.sensors: dict[int, Reading] = {}
        #: What the sensors proposed at the last bar line (None: no sensor counted).
        self.body: Body | None = None
        #: The symbolic listener's newest reading (the MIDI input), and what it
        #: proposed at the last bar line (None: it did not count).
        self.midi: symbolic_reading.Reading | None = None
        self.heard: Fused | None = None
        #: The neural estimate that counted at the last bar line (fresh, above the gate).
        self.listened: Fused | None = None

    # -- sources -----------------------------------------------------------

    def feel(self, result: TextEmotion) -> None:
        """Take a text analysis; FusionError when it names no emotion at all."""
        if result.confidence <= 0 and result.desired is None:
            raise FusionError(f"no emotion recognised in the text ({result.reason})")
        strategy = intent.Strategy(self.settings.strategy)
        if result.desired is None and strategy is intent.Strategy.TRANSFORM:
            # Without a stated goal, transforming would guess one: mirror instead.
            strategy = intent.Strategy.EXPRESS
        present = result.pad if result.confidence > 0 else self.playing.point
        confidence = result.confidence if result.confidence > 0 else self.playing.confidence
        plan = intent.plan(present, result.desired, strategy, self.settings.journey_bars)
        self.explicit = Fused(present, max(confidence, 0.05), "text")
        self.journey = list(plan.points)
        self.target = plan.target if strategy is not intent.Strategy.EXPRESS else None

    def set_emotion(self, point: PAD) -> None:
        """The performer's override: this point from the next bar on, no journey."""
        self.explicit = Fused(point, 1.0, "performer")
        self.journey = []
        self.target = None

    def estimate(self, point: PAD, confidence: float, now: float, stream: int = 0) -> bool:
        """A neural estimate of ``stream`` at ``now`` (monotonic s); False if the gate
        refused it."""
        if not 0.0 <= confidence <= 1.0:
            raise FusionError(f"confidence must be within 0…1, got {confidence:g}")
        if not 0 <= stream < self.ensemble.streams:
            raise FusionError(
                f"stream {stream} is not one of the ensemble's {self.ensemble.streams}"
            )
        if confidence < self.settings.confidence_gate:
            self.gated += 1
            return False
        if self.ensemble.active:
            self._voice(stream, point, confidence, now)
            self.accepted += 1
            return True
        alpha = self.settings.smoothing
        if self.neural is None or now - self.neural_time > self.settings.estimate_timeout_s:
            self.neural = Fused(point, confidence, "neural")
        else:
            smoothed = self.neural.point.lerp(point, alpha)
            conf = self.neural.confidence + alpha * (confidence - self.neural.confidence)
            self.neural = Fused(smoothed, conf, "neural")
        self.neural_time = now
        self.accepted += 1
        return True

    def _voice(self, stream: int, point: PAD, confidence: float, now: float) -> None:
        """Smooth ``stream``'s estimate as the solo listener's is smoothed."""
        alpha = self.settings.smoothing
        old = self.voices.get(stream)
        if old is None or now - old.at > self.settings.estimate_timeout_s:
            self.voices[stream] = Voice(point, confidence, now)
            return
        conf = old.confidence + alpha * (confidence - old.confidence)
        self.voices[stream] = Voice(old.point.lerp(point, alpha), conf, now)

    def sensor(self, reading: Reading) -> None:
        """A sensor's newest reading; it replaces that sensor's previous one."""
        self.sensors[reading.index] = reading

    def symbolic(self, reading: symbolic_reading.Reading) -> None:
        """The symbolic listener's newest estimate; it replaces the previous one."""
        self.midi = reading

    def _symbolic_now(self, now: float) -> Fused | None:
        r = self.midi
        confidence = r.confidence(now) if r is not None else 0.0
        if r is None or confidence <= 0.0 or self.settings.symbolic_weight <= 0.0:
            return None
        return Fused(PAD.clamped(r.valence, r.arousal, r.dominance), confidence, "midi")

    def lock(self, axis: str) -> float:
        """Hold ``axis`` at the value now playing; returns it."""
        value = getattr(self.playing.point, axis_name(axis))
        self.locks[axis] = value
        return value

    def unlock(self, axis: str) -> None:
        self.locks.pop(axis_name(axis), None)

    # -- the bar line --------------------------------------------------------

    def _neural_now(self, now: float) -> Fused | None:
        if self.ensemble.active:
            view = fuse(self.ensemble, self.voices, now, self.settings.confidence_gate)
            self.ensemble_view = view
            return None if view.point is None else Fused(view.point, view.confidence, "neural")
        n = self.neural
        if n is None or now - self.neural_time > self.settings.estimate_timeout_s:
            return None
        return n if n.confidence >= self.settings.confidence_gate else None

    def _explicit_now(self) -> Fused | None:
        e = self.explicit
        if e is None:
            return None
        if self.journey:
            point = self.journey.pop(0)
            e = Fused(point, e.confidence, e.source)
            if not self.journey:
                self.explicit = e  # the journey's end is where the music stays
        return e

    def next_bar(self, now: float) -> Fused:
        """The emotion of the next bar to compose (advances a running journey)."""
        explicit, neural = self._explicit_now(), self._neural_now(now)
        self.listened = neural
        self.heard = self._symbolic_now(now)
        we = explicit.confidence if explicit is not None else 0.0
        wn = self.settings.neural_weight * neural.confidence if neural is not None else 0.0
        ws = self.settings.symbolic_weight * self.heard.confidence if self.heard else 0.0
        parts = [(f, w) for f, w in ((explicit, we), (neural, wn), (self.heard, ws)) if f]
        fused = mix(parts) if parts else self.playing
        self.body = body_of(list(self.sensors.values()), now)
        if self.body is not None:
            fused = with_body(fused, we + wn + ws, self.body)
        if self.locks:
            values = {a: self.locks.get(a, getattr(fused.point, a)) for a in AXES}
            fused = Fused(PAD.clamped(**values), fused.confidence, fused.source)
        if fused.point.distance(self.playing.point) < self.settings.deadband:
            fused = Fused(self.playing.point, fused.confidence, fused.source)
        self.playing = fused
        return fused

    # -- rehydration ---------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "playing": self.playing.to_dict(),
            "explicit": self.explicit.to_dict() if self.explicit is not None else None,
            "journey": [list(p.as_tuple()) for p in self.journey],
            "target": list(self.target.as_tuple()) if self.target is not None else None,
            "locks": dict(self.locks),
            # A replacement keeps hearing the performer until the next estimate comes
            # (its stamp is time.monotonic(), one clock for every process on the machine).
            "midi": self.midi.as_list() if self.midi is not None else None,
        }

    def restore(self, data: dict[str, Any]) -> None:
        self.playing = Fused.from_dict(data["playing"])
        explicit = data.get("explicit")
        self.explicit = Fused.from_dict(explicit) if explicit else None
        self.journey = [PAD.clamped(*p) for p in data.get("journey", [])]
        target = data.get("target")
        self.target = PAD.clamped(*target) if target else None
        self.locks = {axis_name(a): float(v) for a, v in data.get("locks", {}).items()}
        midi = data.get("midi")
        try:
            self.midi = symbolic_reading.Reading.from_list(midi) if midi else None
        except symbolic_reading.BadReading:
            self.midi = None
