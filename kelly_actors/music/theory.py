"""Scales, keys and chords. Pitches are MIDI note numbers; pitch classes 0…11 (C = 0)."""

from __future__ import annotations

from dataclasses import dataclass

PITCH_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

#: Diatonic modes as semitone steps above the tonic.
MODES: dict[str, tuple[int, ...]] = {
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "ionian": (0, 2, 4, 5, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
}
MINOR_MODES = frozenset({"dorian", "aeolian", "phrygian"})
#: Where each mode's tonic sits in its parent major scale (semitones above the parent tonic).
_MODE_OFFSET = {"ionian": 0, "dorian": 2, "phrygian": 4, "lydian": 5, "mixolydian": 7, "aeolian": 9}
_MAJOR_SIGNATURE = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_SIGNATURE = ("Am", "Bbm", "Bm", "Cm", "C#m", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "G#m")

#: (lowest valence, mode), brightest first; the first row whose bound ≤ valence wins.
MODE_THRESHOLDS: tuple[tuple[float, str], ...] = (
    (0.85, "lydian"),
    (0.25, "ionian"),
    (0.05, "mixolydian"),
    (-0.2, "dorian"),
    (-0.75, "aeolian"),
    (-1.0, "phrygian"),
)
#: Tonics the composer starts in (pitch classes): keys that sit well on most instruments.
TONICS = (0, 2, 3, 4, 5, 7, 9, 10)

#: Harmonic function of each scale degree (0-based): tonic, subdominant, dominant.
FUNCTION_OF_DEGREE = ("T", "S", "T", "S", "D", "T", "D")
_QUALITIES = {(4, 7): "major", (3, 7): "minor", (3, 6): "diminished", (4, 8): "augmented"}


@dataclass(frozen=True, slots=True)
class Key:
    """A tonic pitch class (0…11) and a mode name from :data:`MODES`."""

    tonic: int
    mode: str

    def __post_init__(self) -> None:
        if not 0 <= self.tonic < 12:
            raise ValueError(f"tonic must be a pitch class 0..11, got {self.tonic}")
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}")

    @property
    def name(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"

    @property
    def is_minor(self) -> bool:
        return self.mode in MINOR_MODES

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.tonic + step) % 12 for step in MODES[self.mode])

    def contains(self, pitch: int) -> bool:
        return pitch % 12 in self.pitch_classes

    def pitch(self, index: int) -> int:
        """MIDI pitch of scale index ``index``; index 0 is the tonic in MIDI octave −1."""
        octave, degree = divmod(index, 7)
        return self.tonic + 12 * octave + MODES[self.mode][degree]

    def index_near(self, pitch: int) -> int:
        """The scale index whose pitch is closest to ``pitch`` (the lower one on a tie)."""
        guess = (pitch - self.tonic) * 7 // 12
        candidates = range(guess - 2, guess + 3)
        return min(candidates, key=lambda i: (abs(self.pitch(i) - pitch), i))

    def signature(self) -> str:
        """The MIDI key-signature name with this mode's accidentals (e.g. D dorian → 'Am')."""
        parent = (self.tonic - _MODE_OFFSET[self.mode]) % 12
        return _MINOR_SIGNATURE[parent] if self.is_minor else _MAJOR_SIGNATURE[parent]


@dataclass(frozen=True, slots=True)
class Chord:
    """A diatonic chord: ``degree`` 0…6 in ``key``; ``pitch_classes`` root first."""

    key: Key
    degree: int
    pitch_classes: tuple[int, ...]
    quality: str
    colour: str = ""

    @property
    def root(self) -> int:
        return self.pitch_classes[0]

    @property
    def fifth(self) -> int:
        return self.pitch_classes[2] if len(self.pitch_classes) > 2 else self.root

    @property
    def function(self) -> str:
        return FUNCTION_OF_DEGREE[self.degree]

    @property
    def symbol(self) -> str:
        numeral = ("I", "II", "III", "IV", "V", "VI", "VII")[self.degree]
        if self.quality in {"minor", "diminished"}:
            numeral = numeral.lower()
        mark = {"diminished": "°", "augmented": "+"}.get(self.quality, "")
        return f"{numeral}{mark}{self.colour}"


def triad_quality(key: Key, degree: int) -> str:
    root = key.pitch(degree)
    intervals = (key.pitch(degree + 2) - root, key.pitch(degree + 4) - root)
    return _QUALITIES[intervals]


def chord(key: Key, degree: int, colour: str = "") -> Chord:
    """The diatonic chord on ``degree``, stacked in thirds from the scale.

    ``colour``: '' (triad), '7' (diatonic seventh), 'add9', 'sus2' or 'sus4'.
    Every colour stays inside the key.
    """
    steps = {"": (0, 2, 4), "7": (0, 2, 4, 6), "add9": (0, 2, 4, 1), "sus2": (0, 1, 4)}
    steps["sus4"] = (0, 3, 4)
    pcs = tuple(key.pitch(degree + s) % 12 for s in steps[colour])
    return Chord(key, degree, pcs, triad_quality(key, degree), colour)


def pitches_in_range(pitch_classes: tuple[int, ...], low: int, high: int) -> list[int]:
    """Every MIDI pitch in [low, high] whose pitch class is listed, ascending."""
    wanted = set(pitch_classes)
    return [p for p in range(low, high + 1) if p % 12 in wanted]


def nearest_pitch(pitch_class: int, target: int, low: int, high: int) -> int:
    """The pitch of ``pitch_class`` in [low, high] closest to ``target``."""
    options = pitches_in_range((pitch_class,), low, high)
    if not options:
        raise ValueError(f"no pitch class {pitch_class} in {low}..{high}")
    return min(options, key=lambda p: (abs(p - target), p))


def mode_for(valence: float) -> str:
    """Formula 3 of the rule mapper: the mode for a valence (see MODE_THRESHOLDS)."""
    for bound, mode in MODE_THRESHOLDS:
        if valence >= bound:
            return mode
    return MODE_THRESHOLDS[-1][1]
