"""Pieces and emotional performances of them: the labelled side of the data set.

A :class:`Score` is a piece reduced to notes in beats, with its key. :func:`perform` plays
a score *as* a PAD point: the project's own emotion → music formulas
(:func:`kelly_actors.composer.mapper.map_emotion`) set the tempo, the mode (each note's scale
degree is moved into the target mode), the mean velocity, the register shift, the
articulation (legato fraction) and the humanisation. The label of the performance is the
PAD point it was played as — exact by construction, but only as "emotional" as those
formulas are (said so in the model card).

Sources: chorales and other pieces from the music21 corpus (offline), and the composer's
own output for the target point (:func:`kelly_actors.composer.compose_emotion`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from kelly_actors.composer import compose_emotion, map_emotion
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.music.theory import MODES

#: Drum parts of composer pieces are left out: the corpus pieces have none, and a
#: percussion cue present only in one source would teach the source, not the emotion.
DRUM_TRACK = "drums"


@dataclass(frozen=True)
class ScoreNote:
    """onset and duration in beats (quarter notes), MIDI pitch."""

    onset: float
    duration: float
    pitch: int


@dataclass(frozen=True)
class Score:
    """A piece: ``notes`` sorted by onset, ``length`` in beats, key ``tonic`` (0–11) and
    ``mode`` (a :data:`~kelly_actors.music.theory.MODES` name)."""

    name: str
    source: str
    notes: tuple[ScoreNote, ...]
    length: float
    tonic: int
    mode: str


@dataclass(frozen=True)
class PlayedNote:
    """start and duration in seconds, MIDI pitch and velocity (1–127)."""

    start: float
    duration: float
    pitch: int
    velocity: int


@dataclass(frozen=True)
class Performance:
    """One labelled performance: the PAD ``target`` it was played as, its notes, seconds."""

    piece: str
    source: str
    target: tuple[float, float, float]
    notes: tuple[PlayedNote, ...]
    seconds: float


def corpus_score(path: str) -> Score:
    """A music21 corpus piece (all parts merged) with the key music21 finds in it."""
    from music21 import corpus

    stream = corpus.parse(path)
    key = stream.analyze("key")
    notes = []
    for element in stream.flatten().notes:
        for pitch in element.pitches:
            notes.append(
                ScoreNote(float(element.offset), float(element.quarterLength), int(pitch.midi))
            )
    notes.sort(key=lambda n: (n.onset, n.pitch))
    mode = "ionian" if key.mode == "major" else "aeolian"
    name = "music21:" + path.rsplit("corpus/", 1)[-1]
    return Score(
        name, "music21", tuple(notes), float(stream.highestTime), key.tonic.pitchClass, mode
    )


def corpus_paths(count: int, seed: int) -> list[str]:
    """``count`` corpus pieces: Bach chorales plus a few other composers, chosen by seed."""
    from music21 import corpus

    rng = random.Random(seed)
    bach = sorted(str(p) for p in corpus.getComposer("bach") if str(p).endswith(".mxl"))
    others = sorted(
        str(p)
        for composer in ("monteverdi", "mozart", "haydn", "beethoven")
        for p in corpus.getComposer(composer)
        if str(p).endswith(".mxl")
    )
    n_other = count // 4
    return rng.sample(bach, count - n_other) + rng.sample(others, n_other)


def move_to_mode(pitch: int, tonic: int, source: str, target: str) -> int:
    """Move a diatonic pitch from scale degree k of ``source`` to degree k of ``target``;
    chromatic pitches (not in the source scale) stay where they are."""
    rel = (pitch - tonic) % 12
    steps = MODES[source]
    if rel not in steps:
        return pitch
    return pitch + MODES[target][steps.index(rel)] - rel


def perform(score: Score, target: PAD, seconds: float, rng: random.Random) -> Performance:
    """Play ``score`` as ``target`` for ``seconds`` (the piece repeats if it is shorter)."""
    params = map_emotion(target)
    beat_s = 60.0 / params.tempo_bpm
    played: list[PlayedNote] = []
    offset = 0.0
    length = max(score.length, 1.0)
    while offset * beat_s < seconds and score.notes:
        for note in score.notes:
            start = (offset + note.onset + rng.gauss(0.0, params.timing_jitter)) * beat_s
            if start >= seconds:
                break
            pitch = move_to_mode(note.pitch, score.tonic, score.mode, params.mode)
            pitch = min(108, max(21, pitch + params.register_shift))
            velocity = round(params.velocity + rng.gauss(0.0, params.velocity_jitter))
            duration = max(0.03, note.duration * params.legato * beat_s)
            played.append(PlayedNote(max(0.0, start), duration, pitch, min(127, max(1, velocity))))
        offset += length
    return Performance(score.name, score.source, target.as_tuple(), tuple(played), seconds)


def composed(target: PAD, seed: int, seconds: float) -> Performance:
    """The composer's own piece for ``target`` (drums left out), cut to ``seconds``."""
    params = map_emotion(target)
    bars = max(2, int(seconds * params.tempo_bpm / 60.0 / 4.0) + 1)
    piece = compose_emotion(target, bars=bars, seed=seed)
    played = []
    for note in piece.notes:
        if note.track == DRUM_TRACK:
            continue
        start = _seconds(piece, note.start_beat)
        if start >= seconds:
            continue
        end = _seconds(piece, note.start_beat + note.duration_beats)
        played.append(PlayedNote(start, max(0.03, end - start), note.pitch, note.velocity))
    played.sort(key=lambda n: n.start)
    return Performance(
        f"composer:seed{seed}", "composer", target.as_tuple(), tuple(played), seconds
    )


def _seconds(piece, beat: float) -> float:
    """Seconds from the start of ``piece`` (a Composition) to ``beat``, through its tempo map."""
    total = 0.0
    changes = piece.tempo_changes
    for i, change in enumerate(changes):
        end = changes[i + 1].beat if i + 1 < len(changes) else float("inf")
        if beat <= change.beat:
            break
        total += (min(beat, end) - change.beat) * 60.0 / change.bpm
    return total


def random_target(rng: random.Random) -> PAD:
    """A PAD point drawn uniformly from the whole space."""
    return PAD(rng.uniform(-1.0, 1.0), rng.uniform(0.0, 1.0), rng.uniform(0.0, 1.0))
