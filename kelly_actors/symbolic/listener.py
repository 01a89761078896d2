"""Rules from the notes a performer plays to an emotion: valence, arousal, dominance and a
confidence, over a sliding window.

The cues and their directions are the ones music psychology agrees on (Gabrielsson &
Lindström 2010, Juslin & Laukka 2003): fast, dense, loud and detached playing sounds
aroused; major mode and a high register sound positive; loud, low and even playing
sounds dominant. Each cue is put on a 0…1 scale first (:func:`features`), then the
axes are fixed weighted sums of the scaled cues (:func:`estimate`); docs/midi.md has
the table and benchmarks/midi_listener.py measures the result.

==============  =====================================================================
cue             scale
==============  =====================================================================
density         log2 of onsets per second (chords count once, onsets within 30 ms):
                1/s → 0, 16/s → 1
loudness        mean velocity: 30 → 0, 120 → 1
steadiness      1 − velocity standard deviation / 32
detached        1 − mean (duration / time to the next onset on the channel), 0.3 → 1
register        mean pitch: 36 (C2) → 0, 84 (C6) → 1
mode            Krumhansl–Kessler: best major key's correlation with the pitch-class
                histogram (weighted by duration) minus the best minor key's; ×2.5,
                clipped to −1…1
==============  =====================================================================
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from kelly_actors.config.typed import Checked, setting
from kelly_actors.symbolic.notes import PlayedNote

#: Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
#: Onsets closer than this (s) are one event (a chord, a strum).
CHORD_S = 0.03
#: A held note counts at most this long (s) in the pitch-class histogram.
HELD_CAP_S = 2.0
#: A reading whose time confidence fell below this no longer counts.
MIN_CONFIDENCE = 0.05


@dataclass(frozen=True)
class ListenerSettings(Checked):
    """The MIDI input actor's ``[actors.options.listener]`` table.

    Attributes:
        window_s: seconds of playing each estimate looks at.
        min_notes: fewer notes than this in the window: confidence 0 (ignored).
        full_notes: from this many notes in the window the confidence is 1 (between,
            it grows linearly).
        hold_s: seconds after the newest onset the estimate counts fully.
        decay_s: then its confidence falls by 1/e every ``decay_s`` s (the performer
            stopped); below 0.05 it no longer counts.
        stuck_s: a note held longer than this (s) is closed as stuck and counted.
    """

    window_s: float = setting(8.0, low=1.0, high=60.0)
    min_notes: int = setting(6, low=1, high=256)
    full_notes: int = setting(24, low=1, high=512)
    hold_s: float = setting(2.0, above=0.0)
    decay_s: float = setting(3.0, above=0.0)
    stuck_s: float = setting(8.0, above=0.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.full_notes < self.min_notes:
            raise ValueError(f"full_notes ({self.full_notes}) must be ≥ min_notes")


@dataclass(frozen=True)
class Cues:
    """The scaled cues of one window (each 0…1 but ``mode``, −1…1) and its key."""

    notes: int
    onsets_per_s: float
    density: float
    loudness: float
    steadiness: float
    detached: float
    register: float
    mode: float
    key: str


@dataclass(frozen=True)
class Estimate:
    """What the listener hears: valence (−1…1), arousal and dominance (0…1), the
    confidence of the window's note count (0…1), and the cues behind it."""

    valence: float
    arousal: float
    dominance: float
    confidence: float
    cues: Cues


def _clip(x: float, low: float = 0.0, high: float = 1.0) -> float:
    return low if x < low else high if x > high else x


def _scale(x: float, zero: float, one: float) -> float:
    return _clip((x - zero) / (one - zero))


def _correlation(a: list[float], b: tuple[float, ...]) -> float:
    ma, mb = sum(a) / 12.0, sum(b) / 12.0
    num = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    da = math.sqrt(sum((x - ma) ** 2 for x in a))
    db = math.sqrt(sum((y - mb) ** 2 for y in b))
    return num / (da * db) if da > 0 and db > 0 else 0.0


def mode_of(notes: list[PlayedNote], now: float) -> tuple[float, str]:
    """Major (+) vs minor (−) in −1…1 and the best key's name, from the pitch-class
    histogram weighted by each note's duration (a held note up to 2 s)."""
    hist = [0.0] * 12
    for n in notes:
        hist[n.pitch % 12] += min(HELD_CAP_S, max(0.05, n.duration(now)))
    best: dict[str, tuple[float, int]] = {}
    for name, profile in (("major", MAJOR), ("minor", MINOR)):
        scores = [(_correlation(hist[t:] + hist[:t], profile), t) for t in range(12)]
        best[name] = max(scores)
    (r_major, t_major), (r_minor, t_minor) = best["major"], best["minor"]
    key = f"{PITCH_NAMES[t_major]} major" if r_major >= r_minor else f"{PITCH_NAMES[t_minor]} minor"
    return _clip(2.5 * (r_major - r_minor), -1.0, 1.0), key


def _detached(notes: list[PlayedNote], now: float) -> float:
    """1 − mean sounding fraction of the time to the next onset on the same channel."""
    fractions = []
    by_channel: dict[int, list[PlayedNote]] = {}
    for n in notes:
        by_channel.setdefault(n.channel, []).append(n)
    for seq in by_channel.values():
        for a, b in itertools.pairwise(seq):
            gap = b.onset - a.onset
            if gap > CHORD_S:
                fractions.append(min(1.0, a.duration(now) / gap))
    if not fractions:
        return 0.0
    return _scale(1.0 - sum(fractions) / len(fractions), 0.0, 0.7)


def cues(notes: list[PlayedNote], now: float) -> Cues:
    """The cues of ``notes`` (the window, oldest first, at least one) at ``now``."""
    events = 1
    for a, b in itertools.pairwise(notes):
        events += b.onset - a.onset > CHORD_S
    span = max(1.0, now - notes[0].onset)
    rate = events / span
    velocities = [n.velocity for n in notes]
    mean_v = sum(velocities) / len(velocities)
    sd_v = math.sqrt(sum((v - mean_v) ** 2 for v in velocities) / len(velocities))
    pitch = sum(n.pitch for n in notes) / len(notes)
    mode, key = mode_of(notes, now)
    return Cues(
        notes=len(notes),
        onsets_per_s=rate,
        density=_scale(math.log2(max(rate, 1e-3)), 0.0, 4.0),
        loudness=_scale(mean_v, 30.0, 120.0),
        steadiness=_clip(1.0 - sd_v / 32.0),
        detached=_detached(notes, now),
        register=_scale(pitch, 36.0, 84.0),
        mode=mode,
        key=key,
    )


def count_confidence(notes: int, settings: ListenerSettings) -> float:
    """0 under ``min_notes``, then notes / ``full_notes`` up to 1."""
    if notes < settings.min_notes:
        return 0.0
    return min(1.0, notes / settings.full_notes)


def time_confidence(age_s: float, hold_s: float, decay_s: float) -> float:
    """How much an estimate ``age_s`` s after the newest onset counts (0…1): 1 for
    ``hold_s``, then ``e^(−(age − hold)/decay)``, 0 once under :data:`MIN_CONFIDENCE`."""
    if age_s <= hold_s:
        return 1.0
    c = math.exp(-(age_s - hold_s) / decay_s)
    return c if c >= MIN_CONFIDENCE else 0.0


def estimate(notes: list[PlayedNote], now: float, settings: ListenerSettings) -> Estimate | None:
    """The emotion of ``notes`` (the window, oldest first) at ``now``; None without notes."""
    if not notes:
        return None
    c = cues(notes, now)
    arousal = 0.5 * c.density + 0.3 * c.loudness + 0.2 * c.detached
    valence = 0.75 * c.mode + 0.25 * (2.0 * c.register - 1.0)
    dominance = 0.6 * c.loudness + 0.25 * (1.0 - c.register) + 0.15 * c.steadiness
    return Estimate(
        valence=_clip(valence, -1.0, 1.0),
        arousal=_clip(arousal),
        dominance=_clip(dominance),
        confidence=count_confidence(c.notes, settings),
        cues=c,
    )
