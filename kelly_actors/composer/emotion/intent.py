"""Intent: an emotion trajectory over N bars from (current, desired, strategy).

* ``express`` — mirror the person: stay on the current emotion, swelling a
  little in intensity toward the middle of the piece and back. A desired
  emotion is ignored (expressing is not steering).
* ``soothe`` — calm first, then comfort: arousal comes down during the first
  half, valence and dominance follow in the second half. The target is the
  desired emotion with its arousal capped at 0.35, or ``peace``.
* ``transform`` — the iso principle of music therapy: meet the person where
  they are (hold the current emotion for the first fifth), then move bar by
  bar with an ease-in-out curve to the target, then rest on it for the last
  sixth. Without a desired emotion the target is the positive counterpart.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from kelly_actors.composer.emotion import thesaurus
from kelly_actors.composer.emotion.pad import PAD, mix

#: In ``soothe``, the target never has more arousal than this.
SOOTHE_MAX_AROUSAL = 0.35
#: In ``express``, the peak intensity relative to the current emotion.
EXPRESS_PEAK = 1.15
#: In ``transform``, the fractions of the piece spent holding start and target.
TRANSFORM_HOLD_START = 0.2
TRANSFORM_HOLD_END = 1 / 6


class Strategy(enum.StrEnum):
    EXPRESS = "express"
    SOOTHE = "soothe"
    TRANSFORM = "transform"


@dataclass(frozen=True, slots=True)
class Trajectory:
    """One PAD point per bar, with the plan that produced it."""

    points: tuple[PAD, ...]
    strategy: Strategy
    start: PAD
    target: PAD

    def __len__(self) -> int:
        return len(self.points)


def smoothstep(t: float) -> float:
    """Ease-in-out on 0…1 (zero slope at both ends)."""
    t = min(1.0, max(0.0, t))
    return t * t * (3.0 - 2.0 * t)


def _positive_counterpart(point: PAD) -> PAD:
    return PAD.clamped(max(0.5, abs(point.valence)), point.arousal, max(point.dominance, 0.6))


def _soothe_target(desired: PAD | None) -> PAD:
    if desired is None:
        return thesaurus.get("peace").pad
    return PAD.clamped(desired.valence, min(desired.arousal, SOOTHE_MAX_AROUSAL), desired.dominance)


def target_for(current: PAD, desired: PAD | None, strategy: Strategy) -> PAD:
    """Where the strategy is heading."""
    if strategy is Strategy.EXPRESS:
        return current
    if strategy is Strategy.SOOTHE:
        return _soothe_target(desired)
    return desired if desired is not None else _positive_counterpart(current)


def _progress(bar: int, bars: int) -> float:
    """0 at the first bar, 1 at the last."""
    return bar / (bars - 1) if bars > 1 else 1.0


def _express(current: PAD, bars: int) -> tuple[PAD, ...]:
    peak = EXPRESS_PEAK - 1.0
    return tuple(
        current.scaled_from_neutral(1.0 + peak * math.sin(math.pi * _progress(b, bars)))
        for b in range(bars)
    )


def _soothe(current: PAD, target: PAD, bars: int) -> tuple[PAD, ...]:
    points = []
    for b in range(bars):
        t = _progress(b, bars)
        calm = smoothstep(min(1.0, 2.0 * t))
        settle = smoothstep(max(0.0, 2.0 * t - 1.0))
        points.append(
            PAD.clamped(
                mix(current.valence, target.valence, settle),
                mix(current.arousal, target.arousal, calm),
                mix(current.dominance, target.dominance, settle),
            )
        )
    return tuple(points)


def _transform(current: PAD, target: PAD, bars: int) -> tuple[PAD, ...]:
    span = 1.0 - TRANSFORM_HOLD_START - TRANSFORM_HOLD_END
    return tuple(
        current.lerp(target, smoothstep((_progress(b, bars) - TRANSFORM_HOLD_START) / span))
        for b in range(bars)
    )


def plan(current: PAD, desired: PAD | None, strategy: Strategy | str, bars: int) -> Trajectory:
    """The emotion for each of ``bars`` bars (bars ≥ 1)."""
    if bars < 1:
        raise ValueError(f"bars must be >= 1, got {bars}")
    strategy = Strategy(strategy)
    target = target_for(current, desired, strategy)
    if strategy is Strategy.EXPRESS:
        points = _express(current, bars)
    elif strategy is Strategy.SOOTHE:
        points = _soothe(current, target, bars)
    else:
        points = _transform(current, target, bars)
    return Trajectory(points, strategy, current, target)
