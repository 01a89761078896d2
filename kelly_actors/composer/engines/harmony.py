"""Chord engine, part 1: mode-aware functional harmony, planned a phrase at a time.

A phrase is four bars: tonic → (tonic | subdominant) → (subdominant |
dominant) → cadence. Higher tension brings in the dominant earlier, ends
phrases on a half cadence more often and adds sevenths; dissonance adds
suspensions and added ninths. Diminished triads are avoided as harmonic goals
(they have no stable root), so in minor modes the dominant function falls to
v or ♭VII.
"""

from __future__ import annotations

import random

from kelly_actors.composer.mapper import MusicalParams
from kelly_actors.music.theory import FUNCTION_OF_DEGREE, Chord, Key, chord, triad_quality

#: One planned chord: (scale degree 0…6, colour) — see :func:`theory.chord`.
PlannedChord = tuple[int, str]
#: Chords of one bar: one, or two (a cadence splits the bar at beat 2).
PlannedBar = tuple[PlannedChord, ...]


def degrees_of(key: Key, function: str) -> list[int]:
    """Scale degrees with this function whose triads are not diminished."""
    return [
        d
        for d in range(7)
        if FUNCTION_OF_DEGREE[d] == function and triad_quality(key, d) != "diminished"
    ]


def _pick(rng: random.Random, options: list[int], avoid: int | None = None) -> int:
    choices = [d for d in options if d != avoid] or options
    return rng.choice(choices)


def _colour(rng: random.Random, degree: int, params: MusicalParams, before_tonic: bool) -> str:
    function = FUNCTION_OF_DEGREE[degree]
    if function == "D" and before_tonic and rng.random() < 0.5 * params.dissonance:
        return "sus4"
    if rng.random() < 0.1 + 0.55 * params.tension * (0.6 if function == "T" else 1.0):
        return "7"
    if rng.random() < 0.35 * params.dissonance + 0.25 * params.brightness * (function == "T"):
        return rng.choice(("add9", "sus2"))
    return ""


def plan_phrase(
    key: Key, params: MusicalParams, rng: random.Random, opening: bool
) -> list[PlannedBar]:
    """Four bars of harmony. ``opening``: the first phrase of a section starts on I."""
    tonics = degrees_of(key, "T")
    subs = degrees_of(key, "S") or tonics
    doms = degrees_of(key, "D") or subs
    first = 0 if opening or rng.random() < 0.6 else _pick(rng, tonics, avoid=0)
    early_dominant = rng.random() < 0.25 * params.tension
    second = _pick(rng, doms if early_dominant else (subs if rng.random() < 0.6 else tonics), first)
    third = _pick(rng, doms if rng.random() < 0.3 + 0.5 * params.tension else subs, second)
    degrees = [first, second, third]
    half_cadence = rng.random() < 0.15 + 0.55 * params.tension
    dominant = _pick(rng, doms, avoid=third)
    if dominant == third:
        # Only one dominant chord in this mode: approach it from the subdominant side.
        degrees[2] = _pick(rng, subs, avoid=second)
    bars: list[PlannedBar] = []
    for degree in degrees:
        bars.append(((degree, _colour(rng, degree, params, before_tonic=False)),))
    if half_cadence:
        bars.append(((dominant, _colour(rng, dominant, params, before_tonic=False)),))
    else:
        bars.append(((dominant, _colour(rng, dominant, params, before_tonic=True)), (0, "")))
    return bars


def realise(key: Key, planned: PlannedBar, beats: int) -> tuple[tuple[float, Chord], ...]:
    """Turn a planned bar into (start beat, chord) pairs; two chords split the bar evenly."""
    step = beats / len(planned)
    return tuple(
        (i * step, chord(key, degree, colour)) for i, (degree, colour) in enumerate(planned)
    )


#: The last bar of a piece: the plain tonic triad.
FINAL_BAR: PlannedBar = ((0, ""),)
