"""What the composer reports with every heartbeat (``kelly top``, ``kelly ctl get``).

The emotion, key and tempo shown are those of the bar sounding now, not the bar
just composed (which plays one bar later); see docs/composer.md for each figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.live import agreement
from kelly_actors.composer.live.fusion import Fused, nearest_name
from kelly_actors.music.theory import Key

if TYPE_CHECKING:
    from kelly_actors.composer.actor import ComposerActor


@dataclass(frozen=True)
class ScheduledBar:
    """A composed bar: its number, start (sample), tempo (bpm), key and emotion."""

    bar: int
    start_sample: int
    tempo: float
    key: Key
    emotion: Fused


def pad_dict(point: PAD) -> dict[str, float]:
    """A PAD point as a reply's dict, rounded to 4 decimals."""
    v, a, d = point.as_tuple()
    return {"valence": round(v, 4), "arousal": round(a, 4), "dominance": round(d, 4)}


def locks(actor: ComposerActor) -> dict[str, float]:
    """The locked axes and their values."""
    return {a: round(v, 4) for a, v in actor.fusion.locks.items()}


def playing(recent: Iterable[ScheduledBar], now_sample: float) -> ScheduledBar | None:
    """The composed bar sounding at ``now_sample`` (the newest that has started), else
    the oldest one still to come."""
    bars = list(recent)
    started = [b for b in bars if b.start_sample <= now_sample]
    if started:
        return started[-1]
    return bars[0] if bars else None


def composer_telemetry(actor: ComposerActor) -> dict[str, Any]:
    """The composer's heartbeat figures."""
    bar = playing(actor.recent, actor.now_sample)
    fusion = actor.fusion
    fused = bar.emotion if bar is not None else fusion.playing
    cstate = actor.cstate
    key = bar.key if bar is not None else (cstate.key if cstate else None)
    target = fusion.target
    outputs = actor.outputs.telemetry()
    return {
        "emotion": fused.to_dict(),
        "target": pad_dict(target) if target is not None else None,
        "nearest": nearest_name(fused.point),
        "key": key.name if key is not None else None,
        "mode": key.mode if key is not None else None,
        "tempo": round(bar.tempo, 3) if bar is not None else None,
        "bar": bar.bar if bar is not None else None,
        "composed_bar": actor.grid.next_bar - 1,
        "locks": locks(actor),
        "journey_bars_left": len(fusion.journey),
        "midi_port": outputs["midi_port"],
        "midi": outputs["midi"],
        "recording": outputs["recording"],
        "recording_bars": outputs["recording_bars"],
        "neural": {"accepted": fusion.accepted, "gated": fusion.gated},
        "bad_estimates": actor.bad_estimates,
        "transformer": actor.transformer.telemetry(),
        "bars": actor.bars,
        "ring_dropped_bars": outputs["ring_dropped_bars"],
        "regrids": actor.grid.regrids,
        "agreement": listening(actor),
    }


def listening(actor: ComposerActor) -> dict[str, Any]:
    """The listeners against the composer over the last bars (the audio listener; the
    MIDI input's symbolic one too where the composer reads a ``midi_in`` ring)."""
    listeners = ("audio", "midi") if getattr(actor, "midi_in", None) is not None else ("audio",)
    return agreement.summary(actor.bar_log.recent, listeners)
