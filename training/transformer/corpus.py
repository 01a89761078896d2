"""music21 corpus pieces → bars of notes, with documented weak emotion labels.

We use the Bach chorales in 4/4 that ship with music21 (offline). Voices are
mapped to tracks by register: the top voice is the melody, the next the
counter-melody, the lowest the bass, any other inner voice the chords.
Chorales carry no tempo or dynamics, so a piece without a metronome mark is
read at :data:`DEFAULT_BPM` and without dynamics at :data:`DEFAULT_VELOCITY`.

Weak labels (docs/transformer.md): valence from mode (Krumhansl key
analysis), register and dynamics; arousal from tempo, melodic density and
dynamics. They are estimates from the score, not listener ratings.

Mode balance: :func:`parallel_mode` rewrites a piece into its parallel mode
(C major ↔ C minor), so every tune is seen in both modes with the valence
sign flipped and nothing else changed — the contrast the model must learn.
:func:`tune_fingerprint` names a tune independently of key, mode and
harmonization, so the held-out split can keep whole tunes out of training.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kelly_actors.music.notes import BEATS_PER_BAR, Note
from kelly_actors.transformer import vocab as V
from kelly_actors.transformer.tokens import Bar, quantize

DEFAULT_BPM = 96.0
DEFAULT_VELOCITY = 80


@dataclass(frozen=True)
class CorpusPiece:
    """A parsed piece: quantized bars, its key (tonic pitch class 0…11, mode major|minor)
    and a name."""

    name: str
    bars: tuple[Bar, ...]
    mode: str
    tonic: int = 0


def corpus_paths(limit: int) -> list[Path]:
    """The first ``limit`` Bach chorale files, in a stable (sorted) order."""
    from music21 import corpus

    paths = sorted(Path(p) for p in corpus.getComposer("bach"))
    chorales = [p for p in paths if p.name.startswith("bwv") and p.suffix in (".mxl", ".xml")]
    return chorales[:limit]


def _tracks_for(n_parts: int) -> list[str]:
    if n_parts == 1:
        return ["melody"]
    names = ["melody", "counter"] + ["chords"] * max(0, n_parts - 3) + ["bass"]
    return names[:n_parts] if n_parts >= 3 else ["melody", "bass"]


def load_piece(path: Path) -> CorpusPiece | None:
    """Parse one file; None when it is not in 4/4 or has no notes."""
    from music21 import converter, meter, tempo

    score = converter.parse(str(path))
    signatures = score.recurse().getElementsByClass(meter.TimeSignature)
    if not signatures or any(ts.ratioString != "4/4" for ts in signatures):
        return None
    marks = list(score.recurse().getElementsByClass(tempo.MetronomeMark))
    bpm = float(marks[0].getQuarterBPM()) if marks and marks[0].number else DEFAULT_BPM
    parts = list(score.parts)
    first_measure = parts[0].getElementsByClass("Measure").first() if parts else None
    # A pickup bar is shorter than 4 beats: shift so that downbeats fall on bar lines.
    pickup = float(first_measure.paddingLeft) if first_measure is not None else 0.0
    events: list[tuple[str, int, int, float, float]] = []
    ordered = sorted(parts, key=lambda p: -_mean_pitch(p))
    for track, part in zip(_tracks_for(len(ordered)), ordered, strict=True):
        for element in part.stripTies().flatten().notes:
            start = float(element.offset) + pickup
            length = float(element.duration.quarterLength)
            if length <= 0:
                continue
            for pitch in element.pitches:
                velocity = element.volume.velocity or DEFAULT_VELOCITY
                events.append((track, int(pitch.midi), int(velocity), start, length))
    if not events:
        return None
    key = score.analyze("key")
    index = V.key_index(key.tonic.pitchClass, str(key.mode))
    bars = quantize(b.with_key(index) for b in _bars(events, bpm))
    return CorpusPiece(path.stem, bars, str(key.mode), key.tonic.pitchClass)


def _mean_pitch(part) -> float:
    pitches = [p.midi for n in part.flatten().notes for p in n.pitches]
    return float(np.mean(pitches)) if pitches else 0.0


def _bars(events: list[tuple[str, int, int, float, float]], bpm: float) -> list[Bar]:
    """Absolute-beat notes → bars; a note crossing a bar line is split at it."""
    end = max(start + length for _, _, _, start, length in events)
    n_bars = int(np.ceil(end / BEATS_PER_BAR - 1e-9))
    per_bar: list[list[Note]] = [[] for _ in range(n_bars)]
    for track, pitch, velocity, start, length in events:
        while length > 1e-6:
            bar = int(start // BEATS_PER_BAR)
            offset = start - bar * BEATS_PER_BAR
            piece = min(length, BEATS_PER_BAR - offset)
            per_bar[bar].append(Note(track, pitch, velocity, offset, piece))
            start, length = start + piece, length - piece
    return [Bar(bpm, tuple(notes)) for notes in per_bar]


def weak_label(bars: tuple[Bar, ...], mode: str) -> tuple[float, float]:
    """(valence −1…1, arousal 0…1) estimated from the score (docs/transformer.md)."""
    notes = [n for b in bars for n in b.notes]
    melody = [n for n in notes if n.track == "melody"] or notes
    bpm = float(np.mean([b.tempo_bpm for b in bars]))
    register = float(np.clip((np.mean([n.pitch for n in melody]) - 67.0) / 12.0, -1, 1))
    dynamics = float(np.clip((np.mean([n.velocity for n in notes]) - 80.0) / 40.0, -1, 1))
    sign = 1.0 if mode == "major" else -1.0
    valence = float(np.clip(0.7 * sign + 0.2 * register + 0.1 * dynamics, -1, 1))
    onsets_per_beat = len(
        {(i, n.start_beat) for i, b in enumerate(bars) for n in b.notes if n.track == "melody"}
    ) / (len(bars) * BEATS_PER_BAR)
    tempo_term = float(np.clip((bpm - 60.0) / 120.0, 0, 1))
    density_term = float(np.clip((onsets_per_beat - 0.5) / 3.5, 0, 1))
    # Loudness is one of the strongest arousal cues in music (Gabrielsson & Lindström
    # 2010), hence its quarter share; the data's dynamics are augmented (dataset.py).
    loudness = (dynamics + 1) / 2
    arousal = float(np.clip(0.5 * tempo_term + 0.25 * density_term + 0.25 * loudness, 0, 1))
    return valence, arousal


def transpose(bars: tuple[Bar, ...], semitones: int) -> tuple[Bar, ...]:
    """Pitched tracks moved by ``semitones`` (drums stay), and each bar's key with them;
    notes pushed out of 0…127 are dropped."""
    out = []
    for bar in bars:
        key = _moved_key(bar.key, semitones, flip=False)
        notes = tuple(
            n
            if n.track == "drums"
            else Note(n.track, n.pitch + semitones, n.velocity, n.start_beat, n.duration_beats)
            for n in bar.notes
        )
        out.append(Bar(bar.tempo_bpm, tuple(n for n in notes if 0 <= n.pitch <= 127), key))
    return quantize(out)


def scale_tempo(bars: tuple[Bar, ...], factor: float) -> tuple[Bar, ...]:
    return quantize(Bar(b.tempo_bpm * factor, b.notes, b.key) for b in bars)


#: Parallel-mode rewriting, in semitones above the tonic: major → (harmonic) minor lowers
#: the third and sixth and keeps the leading tone (as Bach's minor chorales do at
#: cadences); minor → major raises the third, sixth and the natural seventh.
TO_MINOR = {4: -1, 9: -1}
TO_MAJOR = {3: +1, 8: +1, 10: +1}


def parallel_mode(bars: tuple[Bar, ...], tonic: int, mode: str) -> tuple[Bar, ...]:
    """The piece in its parallel mode (same tonic): pitched notes move by a semitone
    where the two modes differ (:data:`TO_MINOR` / :data:`TO_MAJOR`); drums stay."""
    shift = TO_MINOR if mode == "major" else TO_MAJOR
    out = []
    for bar in bars:
        key = _moved_key(bar.key, 0, flip=True)
        notes = tuple(
            n
            if n.track == "drums"
            else Note(
                n.track,
                n.pitch + shift.get((n.pitch - tonic) % 12, 0),
                n.velocity,
                n.start_beat,
                n.duration_beats,
            )
            for n in bar.notes
        )
        out.append(Bar(bar.tempo_bpm, tuple(n for n in notes if 0 <= n.pitch <= 127), key))
    return quantize(out)


def scale_dynamics(bars: tuple[Bar, ...], velocity: float) -> tuple[Bar, ...]:
    """The piece played with mean velocity ``velocity`` (MIDI), its accents kept."""
    notes = [n for b in bars for n in b.notes]
    if not notes:
        return bars
    factor = velocity / float(np.mean([n.velocity for n in notes]))
    return quantize(
        Bar(
            b.tempo_bpm,
            tuple(
                Note(
                    n.track,
                    n.pitch,
                    int(np.clip(round(n.velocity * factor), 1, 127)),
                    n.start_beat,
                    n.duration_beats,
                )
                for n in b.notes
            ),
            b.key,
        )
        for b in bars
    )


def _moved_key(key: int | None, semitones: int, flip: bool) -> int | None:
    """A bar's key index transposed by ``semitones`` and, with ``flip``, in its parallel
    mode (None stays None)."""
    if key is None:
        return None
    tonic, mode = V.key_of(key)
    if flip:
        mode = "major" if mode == "minor" else "minor"
    return V.key_index((tonic + semitones) % 12, mode)


#: Melody pitches sampled on the first this many beats name a tune.
FINGERPRINT_BEATS = 16


def _step_class(semitones: int) -> int:
    """An interval in semitones → its size in diatonic steps, signed (mode-independent:
    a major and a minor third are both 2)."""
    size = (0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 6)[abs(semitones) % 12] + 7 * (abs(semitones) // 12)
    return size if semitones >= 0 else -size


def tune_fingerprint(bars: tuple[Bar, ...]) -> str:
    """The tune, not the file: the melody's pitch on each of the first
    :data:`FINGERPRINT_BEATS` beats (repeats merged), as intervals in diatonic steps.

    Transposition and mode leave it unchanged (intervals, step sizes), and so do
    passing notes between beats and a different harmonization, so two chorales
    on one hymn tune get one fingerprint.
    """
    pitches: list[int] = []
    for beat in range(FINGERPRINT_BEATS):
        bar = beat // 4
        if bar >= len(bars):
            break
        sounding = [
            n.pitch
            for n in bars[bar].notes
            if n.track == "melody" and n.start_beat <= beat % 4 < n.start_beat + n.duration_beats
        ]
        if sounding and (not pitches or pitches[-1] != max(sounding)):
            pitches.append(max(sounding))
    steps = [_step_class(b - a) for a, b in itertools.pairwise(pitches)]
    return ",".join(str(s) for s in steps)
