"""Emotion → musical parameters: the five formulas and the further parameters.

The five formulas (docs/emotions.md has the table):

1. tempo (bpm) = 60 + 120 · arousal
2. velocity (MIDI 0…127) = 60 + 67 · dominance
3. mode from valence, a step function over the modes ordered dark → bright
4. note density (melody onsets per beat) = 0.5 + 3.5 · arousal
5. brightness (0…1) = 0.5 + 0.35 · valence + 0.3 · (dominance − 0.5);
   register shift (semitones) = round(14 · (brightness − 0.5))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.music.theory import MODE_THRESHOLDS, mode_for

#: A live emotion must cross a mode boundary by this much before the mode flips.
MODE_HYSTERESIS = 0.05


def _clamp01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def tempo_bpm(arousal: float) -> float:
    """Formula 1: beats per minute, 60 at arousal 0, 120 at 0.5, 180 at 1."""
    return 60.0 + 120.0 * arousal


def velocity(dominance: float) -> float:
    """Formula 2: mean MIDI velocity, 60 at dominance 0, 127 at 1."""
    return 60.0 + 67.0 * dominance


def _mode_band(mode: str) -> tuple[float, float]:
    """The valence interval [low, high) that maps to ``mode``."""
    bounds = [b for b, _ in MODE_THRESHOLDS]
    i = [m for _, m in MODE_THRESHOLDS].index(mode)
    high = bounds[i - 1] if i > 0 else float("inf")
    low = bounds[i] if i < len(bounds) - 1 else float("-inf")
    return low, high


def mode_with_hysteresis(valence: float, current: str | None) -> str:
    """Like :func:`mode_for`, but keep ``current`` until valence is clearly outside its band."""
    if current is None:
        return mode_for(valence)
    low, high = _mode_band(current)
    if low - MODE_HYSTERESIS <= valence < high + MODE_HYSTERESIS:
        return current
    return mode_for(valence)


def note_density(arousal: float) -> float:
    """Formula 4: melody onsets per beat, 0.5 (half notes) … 4 (sixteenths)."""
    return 0.5 + 3.5 * arousal


def brightness(valence: float, dominance: float) -> float:
    """Formula 5a: timbral/registral brightness 0…1."""
    return _clamp01(0.5 + 0.35 * valence + 0.3 * (dominance - 0.5))


def register_shift(valence: float, dominance: float) -> int:
    """Formula 5b: semitones to move melodic registers, −7 … +7."""
    return round(14.0 * (brightness(valence, dominance) - 0.5))


def tension(valence: float, arousal: float) -> float:
    """Harmonic tension 0…1: more sevenths and dominant function, fewer plain tonics."""
    return _clamp01(0.6 * (1.0 - (valence + 1.0) / 2.0) + 0.4 * arousal)


def dissonance(valence: float, arousal: float) -> float:
    """Probability 0…1 of suspended and added-tone colours in a chord."""
    negative = 1.0 - (valence + 1.0) / 2.0
    return _clamp01(0.5 * negative + 0.5 * arousal * negative)


def swing(valence: float, arousal: float) -> float:
    """Swing 0…0.3: the off-beat eighth is delayed by swing/2 beats (1/3 ≈ triplet feel)."""
    return 0.3 * max(0.0, valence) * (1.0 - arousal)


def legato(arousal: float, dominance: float) -> float:
    """Fraction 0.35…1 of each written note length that sounds."""
    return max(0.35, min(1.0, 1.05 - 0.5 * arousal - 0.25 * dominance))


def articulation(legato_fraction: float) -> str:
    """A name for the legato fraction: 'legato', 'normal' or 'staccato'."""
    if legato_fraction >= 0.8:
        return "legato"
    return "staccato" if legato_fraction < 0.55 else "normal"


def timing_jitter(dominance: float) -> float:
    """Humanization: standard deviation of note onsets in beats (looser when less in control)."""
    return 0.008 + 0.017 * (1.0 - dominance)


def velocity_jitter(arousal: float) -> float:
    """Humanization: standard deviation of velocities in MIDI steps."""
    return 2.0 + 6.0 * arousal


@dataclass(frozen=True, slots=True)
class MusicalParams:
    """Everything the engines need to know about one bar's emotion.

    Units: ``tempo_bpm`` beats per minute, ``velocity`` MIDI velocity (mean
    over the bar), ``density`` melody onsets per beat, ``register_shift``
    semitones, ``swing`` beats/2 of off-beat delay, ``legato`` fraction of
    written length, ``timing_jitter`` beats, ``velocity_jitter`` MIDI steps.
    """

    emotion: PAD
    tempo_bpm: float
    velocity: float
    mode: str
    density: float
    brightness: float
    register_shift: int
    tension: float
    dissonance: float
    swing: float
    legato: float
    articulation: str
    timing_jitter: float
    velocity_jitter: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the emotion as a nested dict)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MusicalParams:
        fields = dict(data)
        fields["emotion"] = PAD(**fields["emotion"])
        return cls(**fields)


def map_emotion(point: PAD, current_mode: str | None = None) -> MusicalParams:
    """The musical parameters for one PAD point.

    ``current_mode`` (the mode now playing) turns on hysteresis, so a live
    emotion that hovers at a boundary does not flip the mode every bar.
    """
    v, a, d = point.as_tuple()
    legato_fraction = legato(a, d)
    return MusicalParams(
        emotion=point,
        tempo_bpm=tempo_bpm(a),
        velocity=velocity(d),
        mode=mode_with_hysteresis(v, current_mode),
        density=note_density(a),
        brightness=brightness(v, d),
        register_shift=register_shift(v, d),
        tension=tension(v, a),
        dissonance=dissonance(v, a),
        swing=swing(v, a),
        legato=legato_fraction,
        articulation=articulation(legato_fraction),
        timing_jitter=timing_jitter(d),
        velocity_jitter=velocity_jitter(a),
    )


def timeline(points: tuple[PAD, ...] | list[PAD]) -> tuple[MusicalParams, ...]:
    """Map a trajectory bar by bar, with mode hysteresis along the way."""
    out: list[MusicalParams] = []
    mode: str | None = None
    for point in points:
        params = map_emotion(point, mode)
        mode = params.mode
        out.append(params)
    return tuple(out)
