"""The labelled feature data set: build (one command, seeded, with progress), save, load, split.

Layout of the saved ``.npz``:

* ``features`` float32 (n_frames, 128): every clip's frames, clip after clip, from the
  project's own extractor (48 kHz, 2048/512, :func:`kelly_actors.audio.features.extract`);
* ``offsets`` int64 (n_clips + 1,): clip ``i`` is ``features[offsets[i]:offsets[i+1]]``;
* ``labels`` float32 (n_clips, 3): the (valence, arousal, dominance) it was played as;
* ``aux`` float32 (n_clips, 5): tempo/240, minor mode 0/1, velocity/127, register/7,
  legato — the performance parameters, auxiliary targets;
* ``pieces``, ``instruments``, ``splits``: str (n_clips,) — split is train | val | test;
  an ensemble's instruments are joined by ``+`` (high part first).

Split: pieces are shuffled (seeded) and dealt to test (20 %), val (10 %) and train;
train pieces are played on the training instruments, val pieces only on the validation
instruments and test pieces only on the test instruments, so no piece and no instrument is
shared by any two splits: validation (early stopping) measures what test measures —
unheard pieces on unheard timbres — without touching the test instruments.

Each training take is played by one training instrument drawn at random, or by two
(:data:`DataConfig.ensemble_share`; the notes split at the median pitch) — or, for a share
of the composer's takes (:data:`DataConfig.track_share`, 0 in the shipped data), each of
its tracks on one of two or three instruments, as the product plays its pieces — corpus pieces
transposed by up to :data:`DataConfig.transpose` semitones, and heard on a random stage
(:mod:`training.emotion.augment`: a room, a noise floor), a share of them over the
composer's drums for the same target (the product plays drums). Beside the split's
pieces, :data:`DataConfig.extra_composer_pieces` more of the composer's pieces can be
played in training only (0 in the shipped data). A held-out piece is played
``held_out_takes`` times on each held-out instrument alone and once by the two together,
dry: the held-out figures are read on clean renders, as ``benchmarks/closed_loop.py`` is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from kelly_actors.audio.features import extract
from kelly_actors.composer import map_emotion
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.files import atomic_path
from kelly_actors.music.theory import MINOR_MODES
from training.emotion.augment import Stage, draw_stage, on_stage
from training.emotion.performances import (
    Performance,
    Score,
    composed,
    corpus_paths,
    corpus_score,
    perform,
    random_target,
    split_tracks,
    split_voices,
)
from training.emotion.render import DRUM_KIT, SAMPLE_RATE, Instrument, render_all
from training.progress import Progress

#: GM programs are 0-based (FluidR3_GM). The first two are the quick (CI) set.
TRAIN_INSTRUMENTS = (
    Instrument("gm_piano", "fluidsynth", program=0),
    Instrument("ddsp_strings", "ddsp", preset="strings"),
    Instrument("gm_strings", "fluidsynth", program=48),
    Instrument("gm_flute", "fluidsynth", program=73),
    Instrument("ddsp_pluck", "ddsp", preset="pluck"),
    Instrument("gm_oboe", "fluidsynth", program=68),
    Instrument("gm_trumpet", "fluidsynth", program=56),
    Instrument("gm_church_organ", "fluidsynth", program=19),
    Instrument("gm_choir", "fluidsynth", program=52),
    Instrument("gm_nylon_guitar", "fluidsynth", program=24),
    Instrument("gm_bright_piano", "fluidsynth", program=1),
    Instrument("gm_celesta", "fluidsynth", program=8),
    Instrument("gm_xylophone", "fluidsynth", program=13),
    Instrument("gm_harmonica", "fluidsynth", program=22),
    Instrument("gm_steel_guitar", "fluidsynth", program=25),
    Instrument("gm_viola", "fluidsynth", program=41),
    Instrument("gm_pizzicato", "fluidsynth", program=45),
    Instrument("gm_voice_oohs", "fluidsynth", program=53),
    Instrument("gm_soprano_sax", "fluidsynth", program=64),
    Instrument("gm_english_horn", "fluidsynth", program=69),
    Instrument("gm_recorder", "fluidsynth", program=74),
    Instrument("gm_square_lead", "fluidsynth", program=80),
    Instrument("gm_warm_pad", "fluidsynth", program=89),
    Instrument("ddsp_flute", "ddsp", preset="flute"),
)
#: Timbres heard only on the validation pieces: early stopping looks at unheard timbres.
VAL_INSTRUMENTS = (
    Instrument("gm_bassoon", "fluidsynth", program=70),
    Instrument("ddsp_organ", "ddsp", preset="organ"),
)
TEST_INSTRUMENTS = (
    Instrument("gm_clarinet", "fluidsynth", program=71),
    Instrument("ddsp_brass", "ddsp", preset="brass"),
)
FRAME_SIZE = 2048
HOP_SIZE = 512
#: Loudness of each take varies by up to this many dB around the calibrated level
#: (microphone distance); dominance must be read from relative dynamics, not absolute gain.
GAIN_JITTER_DB = 2.0
#: The first seed of the composer pieces played in training only (the split's own composer
#: pieces are seeds 1000 on; the benchmarks compose with seeds 0–4).
EXTRA_COMPOSER_SEED = 2000


@dataclass(frozen=True)
class DataConfig:
    """corpus_pieces / composer_pieces: how many of each source; takes: performances of
    each training piece (each on a random instrument or pair, on a random stage);
    held_out_takes: performances of each val / test piece on each of its instruments (plus
    one by the two together); seconds: length of each take; onset_rate: corpus pieces are
    played at the onset rate arousal asks for, whatever their note values
    (:func:`~training.emotion.performances.written_beat_seconds`; False: a written quarter
    note is the tempo formula's beat); train_instruments /
    val_instruments: how many of :data:`TRAIN_INSTRUMENTS` / :data:`VAL_INSTRUMENTS` to use;
    ensemble_share: the share of training takes played by two instruments; track_share: the
    share of the composer's training takes played with its tracks spread over two or three
    training instruments, each track on one (drawn from a stream of its own, so no other
    clip moves); transpose: corpus
    pieces move by up to this many semitones either way; room_share / noise_share: the
    share of training takes heard in a room / over a noise floor; drum_share: the share of
    training takes with the composer's drums for the same target mixed under them;
    extra_takes: performances of each training piece beyond ``takes``
    (:func:`_extra_takes`); extra_composer_pieces: composer pieces played in training only,
    ``takes`` times each, beyond the split's pieces (:func:`_extra_composer_takes`); both are
    drawn from random streams of their own, so the clips of the plan without them, held-out
    or not, stay as they were; seed fixes everything."""

    corpus_pieces: int = 150
    composer_pieces: int = 30
    takes: int = 8
    held_out_takes: int = 1
    seconds: float = 6.0
    onset_rate: bool = True
    train_instruments: int = len(TRAIN_INSTRUMENTS)
    val_instruments: int = len(VAL_INSTRUMENTS)
    ensemble_share: float = 0.3
    track_share: float = 0.0
    transpose: int = 5
    room_share: float = 0.5
    noise_share: float = 0.5
    drum_share: float = 0.3
    extra_takes: int = 0
    extra_composer_pieces: int = 0
    seed: int = 0

    @classmethod
    def quick(cls, seed: int = 0) -> DataConfig:
        """The CI smoke size: seconds of audio, not hours."""
        return cls(
            corpus_pieces=3,
            composer_pieces=2,
            takes=1,
            held_out_takes=1,
            seconds=3.0,
            train_instruments=2,
            val_instruments=1,
            seed=seed,
        )


@dataclass(frozen=True)
class Clip:
    """One take: ``parts`` pairs each instrument with the notes it plays (one pair for a
    solo, two for an ensemble, high part first); ``drums`` a drum part mixed ``drum_db``
    relative to the calibrated level, or None; ``stage`` how it is heard."""

    performance: Performance
    parts: tuple[tuple[Instrument, Performance], ...]
    split: str
    stage: Stage = field(default_factory=Stage)
    drums: Performance | None = None
    drum_db: float = 0.0

    @property
    def instrument_name(self) -> str:
        return "+".join(instrument.name for instrument, _ in self.parts)


def assign_splits(pieces: list[str], seed: int) -> dict[str, str]:
    """piece → train | val | test (at least one piece in each)."""
    order = sorted(pieces)
    random.Random(seed).shuffle(order)
    n_test = max(1, round(0.2 * len(order)))
    n_val = max(1, round(0.1 * len(order)))
    return {
        p: "test" if i < n_test else "val" if i < n_test + n_val else "train"
        for i, p in enumerate(order)
    }


def _ensemble(perf: Performance, high: Instrument, low: Instrument):
    upper, lower = split_voices(perf)
    return ((high, upper), (low, lower))


def _line_ups(split: str, pool: tuple[Instrument, ...], config: DataConfig) -> list:
    """The instrument line-ups of one piece's takes: ``None`` entries mean "draw one now"
    (training), else a tuple of instruments."""
    if split == "train":
        return [None] * config.takes
    solos = [(i,) for i in pool for _ in range(config.held_out_takes)]
    return solos + ([tuple(pool[:2])] if len(pool) >= 2 else [])


def plan_clips(config: DataConfig) -> list[Clip]:
    """Every take to render (see the module docstring), reproducible from ``config.seed``."""
    rng = random.Random(config.seed)
    stage_rng = np.random.default_rng(config.seed)
    scores = [corpus_score(p) for p in corpus_paths(config.corpus_pieces, config.seed)]
    scores = [s for s in scores if s.notes]
    composer_seeds = [1000 + i for i in range(config.composer_pieces)]
    names = [s.name for s in scores] + [f"composer:seed{s}" for s in composer_seeds]
    splits = assign_splits(names, config.seed)
    instruments_of = {
        "train": TRAIN_INSTRUMENTS[: config.train_instruments],
        "val": VAL_INSTRUMENTS[: config.val_instruments],
        "test": TEST_INSTRUMENTS,
    }
    by_name = {s.name: s for s in scores}
    # A stream of its own: drawing from it never moves any other clip's draws.
    track_rng = random.Random(f"tracks:{config.seed}")
    clips = []
    for name in sorted(names):
        split = splits[name]
        pool = instruments_of[split]
        score = by_name.get(name)
        for line_up in _line_ups(split, pool, config):
            perf = _performance(name, score, config, rng, split == "train")
            if line_up is None:
                clip = _training_take(perf, pool, config, rng, stage_rng)
                if score is None and track_rng.random() < config.track_share:
                    clip = replace(clip, parts=_by_track(perf, pool, track_rng))
                clips.append(clip)
            else:
                parts = ((line_up[0], perf),) if len(line_up) == 1 else _ensemble(perf, *line_up)
                clips.append(Clip(perf, parts, split))
    train_names = [n for n in sorted(names) if splits[n] == "train"]
    extra = _extra_takes(config, train_names, by_name, instruments_of["train"])
    return clips + extra + _extra_composer_takes(config, instruments_of["train"])


def _performance(
    name: str, score: Score | None, config: DataConfig, rng: random.Random, train: bool
) -> Performance:
    """One take of piece ``name`` at a random target: ``score`` played (moved by up to
    ``config.transpose`` semitones if ``train``), or, where it is None, the composer's
    piece of that name's seed."""
    target = random_target(rng)
    if score is None:
        return composed(target, int(name.rsplit("seed", 1)[1]), config.seconds)
    shift = rng.randint(-config.transpose, config.transpose) if train else 0
    return perform(score, target, config.seconds, rng, shift, onset_rate=config.onset_rate)


def _by_track(perf: Performance, pool: tuple[Instrument, ...], rng: random.Random):
    """A composer take's parts: its tracks on two or three instruments of ``pool``."""
    players = rng.sample(pool, min(len(pool), rng.choice((2, 3))))
    return tuple(zip(players, split_tracks(perf, len(players), rng), strict=True))


def _training_take(
    perf: Performance,
    pool: tuple[Instrument, ...],
    config: DataConfig,
    rng: random.Random,
    stage_rng: np.random.Generator,
) -> Clip:
    """A training take of ``perf``: one instrument of ``pool`` or two, a stage, maybe drums."""
    if len(pool) >= 2 and rng.random() < config.ensemble_share:
        line_up = tuple(rng.sample(pool, 2))
    else:
        line_up = (rng.choice(pool),)
    stage = draw_stage(stage_rng, config.room_share, config.noise_share)
    drums, drum_db = None, 0.0
    if rng.random() < config.drum_share:
        drum_seed = rng.randrange(1 << 30)
        drums = composed(PAD(*perf.target), drum_seed, config.seconds, drums=True)
        drum_db = rng.uniform(-12.0, -3.0)
    parts = ((line_up[0], perf),) if len(line_up) == 1 else _ensemble(perf, *line_up)
    return Clip(perf, parts, "train", stage, drums, drum_db)


def _extra_takes(
    config: DataConfig,
    names: list[str],
    by_name: dict[str, Score],
    pool: tuple[Instrument, ...],
) -> list[Clip]:
    """``config.extra_takes`` more training takes of each training piece in ``names``
    (corpus pieces in ``by_name``, the rest composer pieces), drawn like the first
    ``config.takes`` (the track share aside) but from random streams of their own: adding
    them moves no other clip."""
    rng = random.Random(f"extra-takes:{config.seed}")
    stage_rng = np.random.default_rng([config.seed, 1])
    clips = []
    for name in names:
        score = by_name.get(name)
        for _ in range(config.extra_takes):
            perf = _performance(name, score, config, rng, train=True)
            clips.append(_training_take(perf, pool, config, rng, stage_rng))
    return clips


def _extra_composer_takes(config: DataConfig, pool: tuple[Instrument, ...]) -> list[Clip]:
    """``config.takes`` training takes of each of ``config.extra_composer_pieces`` composer
    pieces (seeds from :data:`EXTRA_COMPOSER_SEED`), drawn from random streams of their own:
    adding them moves no other clip, held-out or not."""
    rng = random.Random(f"extra-composer:{config.seed}")
    stage_rng = np.random.default_rng([config.seed, EXTRA_COMPOSER_SEED])
    clips = []
    for seed in range(EXTRA_COMPOSER_SEED, EXTRA_COMPOSER_SEED + config.extra_composer_pieces):
        for _ in range(config.takes):
            perf = composed(random_target(rng), seed, config.seconds)
            clips.append(_training_take(perf, pool, config, rng, stage_rng))
    return clips


def aux_targets(target: tuple[float, float, float]) -> np.ndarray:
    """float32 (5,): tempo/240, minor 0/1, velocity/127, register/7, legato."""
    p = map_emotion(PAD(*target))
    minor = 1.0 if p.mode in MINOR_MODES else 0.0
    return np.array(
        [p.tempo_bpm / 240, minor, p.velocity / 127, p.register_shift / 7, p.legato], np.float32
    )


def render_clips(clips: list[Clip], seed: int) -> list[np.ndarray]:
    """float32 (samples,) per clip: every part rendered (one batch per instrument), the
    parts of an ensemble summed, then the clip heard on its stage."""
    jobs: dict[str, list[tuple[int, Performance]]] = {}
    instruments: dict[str, Instrument] = {}
    for i, clip in enumerate(clips):
        for instrument, part in clip.parts:
            jobs.setdefault(instrument.name, []).append((i, part))
            instruments[instrument.name] = instrument
    signals: list[np.ndarray | None] = [None] * len(clips)
    for name, batch in jobs.items():
        rendered = render_all(instruments[name], [part for _, part in batch])
        for (i, _), signal in zip(batch, rendered, strict=True):
            signals[i] = signal if signals[i] is None else signals[i] + signal
    drummed = [i for i, clip in enumerate(clips) if clip.drums is not None]
    if drummed:
        kit = render_all(DRUM_KIT, [clips[i].drums for i in drummed])
        for i, signal in zip(drummed, kit, strict=True):
            signals[i] = signals[i] + signal * np.float32(10 ** (clips[i].drum_db / 20))
    rng = np.random.default_rng(seed)
    return [
        on_stage(signal, clip.stage, rng).astype(np.float32)
        for clip, signal in zip(clips, signals, strict=True)
    ]


def build(config: DataConfig, out: Path) -> Path:
    """Render and extract every clip; write ``out`` (.npz). Returns ``out``."""
    clips = plan_clips(config)
    print(f"rendering {len(clips)} clips", flush=True)
    signals = render_clips(clips, config.seed)
    rng = np.random.default_rng(config.seed)
    features: list[np.ndarray] = []
    bar = Progress(len(clips), "data")
    for clip, signal in zip(clips, signals, strict=True):
        gain = 10 ** (rng.uniform(-GAIN_JITTER_DB, GAIN_JITTER_DB) / 20)
        _, frames = extract(signal * np.float32(gain), SAMPLE_RATE, FRAME_SIZE, HOP_SIZE)
        features.append(frames)
        bar.advance(extra=clip.instrument_name)
    bar.close()
    lengths = [f.shape[0] for f in features]
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:  # a killed build never leaves a half-written data set
        np.savez_compressed(
            tmp,
            features=np.concatenate(features).astype(np.float32),
            offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            labels=np.array([c.performance.target for c in clips], np.float32),
            aux=np.stack([aux_targets(c.performance.target) for c in clips]),
            pieces=np.array([c.performance.piece for c in clips]),
            instruments=np.array([c.instrument_name for c in clips]),
            splits=np.array([c.split for c in clips]),
            config=np.array(repr(config)),
        )
    return out


def built_with(path: Path) -> str:
    """The ``repr`` of the :class:`DataConfig` the data set at ``path`` was built with."""
    with np.load(path, allow_pickle=False) as data:
        return str(data["config"])


@dataclass(frozen=True)
class Dataset:
    """The loaded arrays (see the module docstring)."""

    features: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray
    aux: np.ndarray
    pieces: np.ndarray
    instruments: np.ndarray
    splits: np.ndarray

    @classmethod
    def load(cls, path: Path) -> Dataset:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                *(
                    data[k]
                    for k in (
                        "features",
                        "offsets",
                        "labels",
                        "aux",
                        "pieces",
                        "instruments",
                        "splits",
                    )
                )
            )

    def clips(self, split: str) -> list[int]:
        return [i for i, s in enumerate(self.splits) if s == split]

    def clip(self, i: int) -> np.ndarray:
        """float32 (frames, 128) of clip ``i``."""
        return self.features[self.offsets[i] : self.offsets[i + 1]]
