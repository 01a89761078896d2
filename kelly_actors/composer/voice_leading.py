"""Voice leading: pick the voicing of a chord that moves least from the last one."""

from __future__ import annotations

import itertools
from functools import lru_cache

from kelly_actors.music.theory import pitches_in_range

#: Widest span (semitones) of a close-to-open voicing a keyboard player would use.
MAX_SPAN = 19


@lru_cache(maxsize=4096)
def candidate_voicings(
    pitch_classes: tuple[int, ...], low: int, high: int, voices: int
) -> tuple[tuple[int, ...], ...]:
    """Every ascending voicing of ``voices`` pitches in [low, high] that sounds the chord.

    All pitch classes must be present when there are enough voices; with fewer
    voices the fifth (third listed pitch class) may be left out. No two voices
    share a pitch and no adjacent pair is a semitone apart (mud, not colour).
    """
    pool = pitches_in_range(pitch_classes, low, high)
    required = set(pitch_classes)
    if voices < len(required) and len(pitch_classes) > 2:
        required.discard(pitch_classes[2])
    out = []
    for combo in itertools.combinations(pool, voices):
        if combo[-1] - combo[0] > MAX_SPAN:
            continue
        if not required <= {p % 12 for p in combo}:
            continue
        if any(b - a < 2 for a, b in itertools.pairwise(combo)):
            continue
        out.append(combo)
    return tuple(out)


def movement(previous: tuple[int, ...], candidate: tuple[int, ...]) -> int:
    """Total semitones the voices travel (voices matched bottom to top)."""
    if len(previous) != len(candidate):
        return abs(sum(previous) // max(1, len(previous)) - sum(candidate) // len(candidate))
    return sum(abs(a - b) for a, b in zip(previous, candidate, strict=True))


def lead(
    previous: tuple[int, ...] | None,
    pitch_classes: tuple[int, ...],
    low: int,
    high: int,
    voices: int = 4,
    centre: int | None = None,
) -> tuple[int, ...]:
    """The voicing of ``pitch_classes`` that best follows ``previous``.

    Cost: semitones moved, plus a pull toward ``centre`` (so the voicing does
    not creep out of its register over many bars), plus a small preference
    for the root in the bass.
    """
    candidates = candidate_voicings(pitch_classes, low, high, voices)
    if not candidates:
        candidates = candidate_voicings(pitch_classes, low - 12, high + 12, voices)
    mid = centre if centre is not None else (low + high) // 2
    root = pitch_classes[0]

    def cost(c: tuple[int, ...]) -> float:
        moved = movement(previous, c) if previous else 0
        drift = abs(sum(c) / len(c) - mid)
        inversion = 0 if c[0] % 12 == root else 2
        return moved + 0.5 * drift + inversion

    return min(candidates, key=lambda c: (cost(c), c))
