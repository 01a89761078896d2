"""Pieces and emotional performances of them: the labelled side of the data set.

A :class:`Score` is a piece reduced to notes in beats, with its key. :func:`perform` plays
a score *as* a PAD point: the project's own emotion → music formulas
(:func:`kelly_actors.composer.mapper.map_emotion`) set the pace (formulas 1 and 4 together:
the piece is played at the speed at which its onsets come as often as the composer's
melody's would, :func:`onsets_per_second`), the mode (each note's scale degree is moved
into the target mode), the mean velocity, the register shift, the articulation (legato
fraction) and the humanisation. The label of the performance is the
PAD point it was played as — exact by construction, but only as "emotional" as those
formulas are (said so in the model card).

Sources: chorales and other pieces from the music21 corpus (offline), and the composer's
own output for the target point (:func:`kelly_actors.composer.compose_emotion`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from kelly_actors.composer import MusicalParams, compose_emotion, map_emotion
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.music.theory import MODES

#: Drum parts of composer pieces are left out of their pitched take: the corpus pieces have
#: none, and a percussion cue present only in one source would teach the source, not the
#: emotion. The data set mixes the composer's drums for the take's own target under a share
#: of the takes of either source instead.
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
    """start and duration in seconds, MIDI pitch and velocity (1–127); ``track`` the
    composer track that plays it ("" for a corpus piece)."""

    start: float
    duration: float
    pitch: int
    velocity: int
    track: str = ""


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


#: The music21 corpus by family, each a share of the pieces drawn: Bach chorales, Renaissance
#: polyphony (Palestrina), folk tunes (Ryan's Mammoth Collection, one tune a file), the
#: Trecento, and every other composer with one score a file (Monteverdi, Mozart, Haydn,
#: Beethoven, Schumann, Handel, Joplin, Verdi …). Files holding many tunes (Essen, O'Neill)
#: and the roman-numeral analyses are left out: one parse takes seconds, or has no notes.
CORPUS_FAMILIES: tuple[tuple[str, float], ...] = (
    ("bach", 0.3),
    ("palestrina", 0.2),
    ("ryansMammoth", 0.15),
    ("trecento", 0.1),
    ("other", 0.25),
)
_SCORE_SUFFIXES = (".mxl", ".krn", ".xml", ".musicxml")
_NOT_OTHER = ("bach", "palestrina", "ryansMammoth", "trecento", "demos", "theoryExercises")


def corpus_family(relative: str) -> str | None:
    """The :data:`CORPUS_FAMILIES` name of a corpus path (relative to ``corpus/``), or None
    for a file the data set does not use."""
    top = relative.split("/", 1)[0]
    if top == "ryansMammoth":
        return top if relative.endswith(".abc") else None
    if not relative.endswith(_SCORE_SUFFIXES):
        return None
    if top in ("bach", "palestrina", "trecento"):
        return top
    return None if top in _NOT_OTHER else "other"


def corpus_paths(count: int, seed: int) -> list[str]:
    """``count`` corpus pieces drawn by seed, each family its share (the last family takes
    what rounding leaves)."""
    from music21 import corpus

    rng = random.Random(seed)
    pool: dict[str, list[str]] = {name: [] for name, _ in CORPUS_FAMILIES}
    for path in sorted(str(p) for p in corpus.getPaths()):
        family = corpus_family(path.rsplit("corpus/", 1)[-1])
        if family is not None:
            pool[family].append(path)
    chosen: list[str] = []
    for k, (name, share) in enumerate(CORPUS_FAMILIES):
        n = count - len(chosen) if k == len(CORPUS_FAMILIES) - 1 else round(share * count)
        chosen += rng.sample(pool[name], min(n, len(pool[name])))
    return chosen


def move_to_mode(pitch: int, tonic: int, source: str, target: str) -> int:
    """Move a diatonic pitch from scale degree k of ``source`` to degree k of ``target``;
    chromatic pitches (not in the source scale) stay where they are."""
    rel = (pitch - tonic) % 12
    steps = MODES[source]
    if rel not in steps:
        return pitch
    return pitch + MODES[target][steps.index(rel)] - rel


def onset_density(score: Score) -> float:
    """Distinct onsets per written beat (quarter note) of ``score``, all parts together."""
    onsets = {round(note.onset, 4) for note in score.notes}
    return len(onsets) / max(score.length, 1.0)


def onsets_per_second(params: MusicalParams) -> float:
    """The onset rate arousal asks for: the composer's melody density (formula 4, onsets
    per beat) at its tempo (formula 1): 0.5 a second at arousal 0, 4.5 at 0.5, 12 at 1."""
    return params.density * params.tempo_bpm / 60.0


def written_beat_seconds(score: Score, params: MusicalParams, onset_rate: bool) -> float:
    """Seconds one written beat of ``score`` lasts in the performance. With ``onset_rate``
    the piece's onsets come at :func:`onsets_per_second` whatever its note values (a
    Palestrina breve and a reel's eighth note are both "a note"); without, a written
    quarter note is the formula's beat, so the pace heard depends on how the piece is
    notated."""
    beat_s = 60.0 / params.tempo_bpm
    if not onset_rate or not score.notes:
        return beat_s
    return onset_density(score) / onsets_per_second(params)


def perform(
    score: Score,
    target: PAD,
    seconds: float,
    rng: random.Random,
    transpose: int = 0,
    onset_rate: bool = True,
) -> Performance:
    """Play ``score`` as ``target`` for ``seconds`` (the piece repeats if it is shorter),
    ``transpose`` semitones away from where it is written (before the register shift);
    ``onset_rate`` chooses the pace (:func:`written_beat_seconds`)."""
    params = map_emotion(target)
    beat_s = written_beat_seconds(score, params, onset_rate)
    # Humanised timing is in the formula's beats, not the piece's: a slow written beat must
    # not blur the rhythm more than a fast one.
    jitter_s = params.timing_jitter * 60.0 / params.tempo_bpm
    played: list[PlayedNote] = []
    offset = 0.0
    length = max(score.length, 1.0)
    while offset * beat_s < seconds and score.notes:
        for note in score.notes:
            start = (offset + note.onset) * beat_s + rng.gauss(0.0, jitter_s)
            if start >= seconds:
                break
            pitch = move_to_mode(note.pitch, score.tonic, score.mode, params.mode)
            pitch = min(108, max(21, pitch + transpose + params.register_shift))
            velocity = round(params.velocity + rng.gauss(0.0, params.velocity_jitter))
            duration = max(0.03, note.duration * params.legato * beat_s)
            played.append(PlayedNote(max(0.0, start), duration, pitch, min(127, max(1, velocity))))
        offset += length
    return Performance(score.name, score.source, target.as_tuple(), tuple(played), seconds)


def composed(target: PAD, seed: int, seconds: float, drums: bool = False) -> Performance:
    """The composer's own piece for ``target``, cut to ``seconds``: its pitched tracks, or
    with ``drums`` its drum track alone (GM kit note numbers)."""
    params = map_emotion(target)
    bars = max(2, int(seconds * params.tempo_bpm / 60.0 / 4.0) + 1)
    piece = compose_emotion(target, bars=bars, seed=seed)
    played = []
    for note in piece.notes:
        if (note.track == DRUM_TRACK) != drums:
            continue
        start = _seconds(piece, note.start_beat)
        if start >= seconds:
            continue
        end = _seconds(piece, note.start_beat + note.duration_beats)
        played.append(
            PlayedNote(start, max(0.03, end - start), note.pitch, note.velocity, note.track)
        )
    played.sort(key=lambda n: n.start)
    return Performance(
        f"composer:seed{seed}", "composer", target.as_tuple(), tuple(played), seconds
    )


def split_voices(performance: Performance) -> tuple[Performance, Performance]:
    """An ensemble's two parts: the notes at or above the median pitch, and those below
    (the low part may be empty for a one-pitch piece). Labels and length stay."""
    if not performance.notes:
        return performance, performance
    pitches = sorted(n.pitch for n in performance.notes)
    middle = pitches[len(pitches) // 2]
    high = tuple(n for n in performance.notes if n.pitch >= middle)
    low = tuple(n for n in performance.notes if n.pitch < middle)
    return replace(performance, notes=high), replace(performance, notes=low)


def split_tracks(
    performance: Performance, parts: int, rng: random.Random
) -> tuple[Performance, ...]:
    """The composer's tracks dealt to ``parts`` players, as the product plays a piece (each
    track on its own program): the track names shuffled by ``rng`` and dealt round, so every
    player has at least one track when there are enough. Labels and length stay."""
    tracks = sorted({n.track for n in performance.notes})
    rng.shuffle(tracks)
    player = {track: k % parts for k, track in enumerate(tracks)}
    return tuple(
        replace(performance, notes=tuple(n for n in performance.notes if player[n.track] == k))
        for k in range(parts)
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
