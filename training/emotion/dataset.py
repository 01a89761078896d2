"""The labelled feature data set: build (one command, seeded, with progress), save, load, split.

Layout of the saved ``.npz``:

* ``features`` float32 (n_frames, 128): every clip's frames, clip after clip, from the
  project's own extractor (48 kHz, 2048/512, :func:`kelly_actors.audio.features.extract`);
* ``offsets`` int64 (n_clips + 1,): clip ``i`` is ``features[offsets[i]:offsets[i+1]]``;
* ``labels`` float32 (n_clips, 3): the (valence, arousal, dominance) it was played as;
* ``aux`` float32 (n_clips, 5): tempo/240, minor mode 0/1, velocity/127, register/7,
  legato — the performance parameters, auxiliary targets;
* ``pieces``, ``instruments``, ``splits``: str (n_clips,) — split is train | val | test.

Split: pieces are shuffled (seeded) and dealt to test (20 %), val (10 %) and train;
train pieces are played on the training instruments, val pieces only on the validation
instruments and test pieces only on the test instruments, so no piece and no instrument is
shared by any two splits: validation (early stopping) measures what test measures —
unheard pieces on unheard timbres — without touching the test instruments.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kelly_actors.audio.features import extract
from kelly_actors.composer import map_emotion
from kelly_actors.files import atomic_path
from kelly_actors.music.theory import MINOR_MODES
from training.emotion.performances import (
    Performance,
    composed,
    corpus_paths,
    corpus_score,
    perform,
    random_target,
)
from training.emotion.render import SAMPLE_RATE, Instrument, render_all
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


@dataclass(frozen=True)
class DataConfig:
    """corpus_pieces / composer_pieces: how many of each source; takes: emotions per
    training piece and instrument, held_out_takes: the same for val and test pieces;
    seconds: length of each take; train_instruments / val_instruments: how many of
    :data:`TRAIN_INSTRUMENTS` / :data:`VAL_INSTRUMENTS` to use; seed fixes everything."""

    corpus_pieces: int = 30
    composer_pieces: int = 10
    takes: int = 2
    held_out_takes: int = 3
    seconds: float = 6.0
    train_instruments: int = len(TRAIN_INSTRUMENTS)
    val_instruments: int = len(VAL_INSTRUMENTS)
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
    performance: Performance
    instrument: Instrument
    split: str


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


def plan_clips(config: DataConfig) -> list[Clip]:
    """Every take to render: piece × instrument × ``takes`` random PAD targets."""
    rng = random.Random(config.seed)
    scores = [corpus_score(p) for p in corpus_paths(config.corpus_pieces, config.seed)]
    composer_seeds = [1000 + i for i in range(config.composer_pieces)]
    names = [s.name for s in scores] + [f"composer:seed{s}" for s in composer_seeds]
    splits = assign_splits(names, config.seed)
    instruments_of = {
        "train": TRAIN_INSTRUMENTS[: config.train_instruments],
        "val": VAL_INSTRUMENTS[: config.val_instruments],
        "test": TEST_INSTRUMENTS,
    }
    clips = []
    for name in sorted(names):
        split = splits[name]
        takes = config.takes if split == "train" else config.held_out_takes
        score = next((s for s in scores if s.name == name), None)
        for instrument in instruments_of[split]:
            for _ in range(takes):
                target = random_target(rng)
                if score is not None:
                    perf = perform(score, target, config.seconds, rng)
                else:
                    perf = composed(target, int(name.rsplit("seed", 1)[1]), config.seconds)
                clips.append(Clip(perf, instrument, split))
    return clips


def aux_targets(target: tuple[float, float, float]) -> np.ndarray:
    """float32 (5,): tempo/240, minor 0/1, velocity/127, register/7, legato."""
    from kelly_actors.composer.emotion.pad import PAD

    p = map_emotion(PAD(*target))
    minor = 1.0 if p.mode in MINOR_MODES else 0.0
    return np.array(
        [p.tempo_bpm / 240, minor, p.velocity / 127, p.register_shift / 7, p.legato], np.float32
    )


def build(config: DataConfig, out: Path) -> Path:
    """Render and extract every clip; write ``out`` (.npz). Returns ``out``."""
    clips = plan_clips(config)
    rng = np.random.default_rng(config.seed)
    by_instrument: dict[str, list[int]] = {}
    for i, clip in enumerate(clips):
        by_instrument.setdefault(clip.instrument.name, []).append(i)
    features: list[np.ndarray | None] = [None] * len(clips)
    bar = Progress(len(clips), "data")
    for indices in by_instrument.values():
        instrument = clips[indices[0]].instrument
        signals = render_all(instrument, [clips[i].performance for i in indices])
        for i, signal in zip(indices, signals, strict=True):
            gain = 10 ** (rng.uniform(-GAIN_JITTER_DB, GAIN_JITTER_DB) / 20)
            _, frames = extract(signal * np.float32(gain), SAMPLE_RATE, FRAME_SIZE, HOP_SIZE)
            features[i] = frames
            bar.advance(extra=instrument.name)
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
            instruments=np.array([c.instrument.name for c in clips]),
            splits=np.array([c.split for c in clips]),
            config=np.array(repr(config)),
        )
    return out


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
