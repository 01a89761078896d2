"""Build the training set: corpus pieces (weak labels) + rule-composer pieces (exact labels).

``python -m training.transformer.dataset [--quick] [--out DIR]`` writes
``DIR/data.npz``:

* ``tokens``  int16 ``[n_tokens, N_FIELDS]`` — every sequence, concatenated;
* ``starts``  int64 ``[n_seq + 1]`` — sequence i is ``tokens[starts[i]:starts[i+1]]``;
* ``emotion`` float32 ``[n_seq, 2]`` — (valence −1…1, arousal 0…1);
* ``split``   int8 ``[n_seq]`` — 0 train, 1 validation, 2 test: corpus pieces by
  **tune** (:func:`~training.transformer.corpus.tune_fingerprint`), so every chorale
  on one hymn tune and every copy of it (parallel mode, transposed, re-timed, re-voiced
  in dynamics) share a split; rule pieces by name;
* ``source``  int8 ``[n_seq]`` — 0 corpus, 1 rule composer;
* ``piece``   str ``[n_seq]`` — the piece each sequence came from.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from kelly_actors.files import atomic_path, atomic_write
from kelly_actors.transformer.tokens import decode, encode
from training.progress import Progress
from training.transformer.corpus import (
    corpus_paths,
    load_piece,
    parallel_mode,
    scale_dynamics,
    scale_tempo,
    transpose,
    tune_fingerprint,
    weak_label,
)
from training.transformer.rules_data import RulePiece, holds_its_key, rule_piece

TRAIN, VALIDATION, TEST = 0, 1, 2


@dataclass(frozen=True)
class DataConfig:
    """What goes in: counts of pieces, rule-piece length, the augmentation grid.

    ``parallel`` adds every corpus piece in its parallel mode as well (mode balance);
    each corpus copy is played at a mean velocity drawn from ``velocity_range`` (MIDI).
    ``rule_tonal`` writes the rule pieces in major or minor only
    (:data:`~training.transformer.rules_data.TONAL_MODE`); ``rule_key_filter`` keeps only
    rule pieces whose notes' Krumhansl–Kessler key is the one their bar lines name,
    composing more until ``rule_pieces`` are kept.
    """

    corpus_pieces: int = 410
    rule_pieces: int = 2000
    rule_bars: int = 8
    transpositions: tuple[int, ...] = (-3, -2, -1, 0, 1, 2, 3)
    tempo_factors: tuple[float, ...] = (0.8, 1.0, 1.25)
    parallel: bool = True
    velocity_range: tuple[float, float] = (50.0, 115.0)
    rule_tonal: bool = True
    rule_key_filter: bool = True
    seed: int = 0

    @classmethod
    def quick(cls) -> DataConfig:
        return cls(corpus_pieces=6, rule_pieces=40, transpositions=(0, 2), tempo_factors=(1.0,))


def split_of(name: str) -> int:
    """A stable split from a name (a tune's fingerprint, a rule piece's name):
    5 % validation, 5 % test."""
    bucket = int(hashlib.sha256(name.encode()).hexdigest(), 16) % 20
    return VALIDATION if bucket == 0 else TEST if bucket == 1 else TRAIN


def build(cfg: DataConfig, out: Path) -> dict:
    """Build and write ``out/data.npz`` and ``out/data.json`` (a summary); return the summary."""
    sequences: list[np.ndarray] = []
    rows: list[tuple[float, float, int, int, str]] = []
    paths = corpus_paths(cfg.corpus_pieces)
    progress = Progress(len(paths) + cfg.rule_pieces, "data")
    skipped: list[str] = []
    rng = np.random.default_rng(cfg.seed)
    tunes: dict[str, list[str]] = {}
    for path in paths:
        piece = load_piece(path)
        progress.advance()
        if piece is None:
            skipped.append(path.name)
            continue
        tune = tune_fingerprint(piece.bars)
        tunes.setdefault(tune, []).append(piece.name)
        split = split_of(f"tune:{tune}")
        versions = [(piece.bars, piece.mode)]
        if cfg.parallel:
            other = "minor" if piece.mode == "major" else "major"
            versions.append((parallel_mode(piece.bars, piece.tonic, piece.mode), other))
        for original, mode in versions:
            for shift in cfg.transpositions:
                for factor in cfg.tempo_factors:
                    loud = float(rng.uniform(*cfg.velocity_range))
                    bars = scale_dynamics(scale_tempo(transpose(original, shift), factor), loud)
                    tokens = encode(bars)
                    if decode(tokens) != bars:
                        raise AssertionError(f"{path.name}: tokens do not round-trip")
                    v, a = weak_label(bars, mode)
                    sequences.append(tokens)
                    rows.append((v, a, split, 0, piece.name))
    pieces, composed = _rule_pieces(cfg, rng, progress)
    for piece in pieces:
        sequences.append(encode(piece.bars))
        rows.append((piece.valence, piece.arousal, split_of(piece.name), 1, piece.name))
    progress.close()
    out.mkdir(parents=True, exist_ok=True)
    lengths = [len(s) for s in sequences]
    arrays = {
        "tokens": np.concatenate(sequences).astype(np.int16),
        "starts": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        "emotion": np.asarray([r[:2] for r in rows], np.float32),
        "split": np.asarray([r[2] for r in rows], np.int8),
        "source": np.asarray([r[3] for r in rows], np.int8),
        "piece": np.asarray([r[4] for r in rows]),
    }
    with atomic_path(out / "data.npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    summary = {
        "config": asdict(cfg),
        "corpus_files": [p.name for p in paths if p.name not in skipped],
        "corpus_skipped_not_4_4": skipped,
        "tunes": len(tunes),
        "tunes_shared_by_several_files": sorted(v for v in tunes.values() if len(v) > 1),
        "test_tunes": sum(split_of(f"tune:{t}") == TEST for t in tunes),
        "rule_pieces_composed": composed,
        "sequences": len(sequences),
        "tokens": int(sum(lengths)),
        "by_split": {
            name: int(sum(lengths[i] for i, r in enumerate(rows) if r[2] == code))
            for code, name in ((TRAIN, "train"), (VALIDATION, "validation"), (TEST, "test"))
        },
        "by_source_tokens": {
            "corpus": int(sum(n for n, r in zip(lengths, rows, strict=True) if r[3] == 0)),
            "rules": int(sum(n for n, r in zip(lengths, rows, strict=True) if r[3] == 1)),
        },
    }
    atomic_write(out / "data.json", json.dumps(summary, indent=2) + "\n")
    return summary


#: Data options added after data sets were built without them, and their value there.
OPTIONS_ADDED = {"rule_tonal": False, "rule_key_filter": False}


def data_differs(out: Path, cfg: DataConfig) -> str:
    """How the data set in ``out`` (its ``data.json``) was built differently from ``cfg``,
    e.g. ``"with rule_tonal=False, not True"``; "" when alike or not known."""
    try:
        built = json.loads((out / "data.json").read_text())["config"]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    wanted = json.loads(json.dumps(asdict(cfg)))
    differ = [
        f"{name}={built.get(name, OPTIONS_ADDED.get(name))!r}, not {value!r}"
        for name, value in wanted.items()
        if built.get(name, OPTIONS_ADDED.get(name)) != value
    ]
    return f"with {'; '.join(differ)}" if differ else ""


#: ``rule_key_filter`` gives up when fewer than one composed piece in this many is kept.
MAX_COMPOSED_PER_KEPT = 4


def _rule_pieces(
    cfg: DataConfig, rng: np.random.Generator, progress: Progress
) -> tuple[list[RulePiece], int]:
    """``cfg.rule_pieces`` rule pieces, named by the order they were composed in (a
    filtered set skips names), and how many were composed."""
    kept: list[RulePiece] = []
    budget = MAX_COMPOSED_PER_KEPT * cfg.rule_pieces
    for i in range(budget):
        if len(kept) == cfg.rule_pieces:
            return kept, i
        piece = rule_piece(i, cfg.rule_bars, rng, tonal=cfg.rule_tonal)
        if not cfg.rule_key_filter or holds_its_key(piece.bars):
            kept.append(piece)
            progress.advance()
    if len(kept) < cfg.rule_pieces:
        raise TooFewRulePieces(
            f"only {len(kept)} of {budget} composed rule pieces hold their key "
            "(--no-rule-key-filter keeps them all)"
        )
    return kept, budget


class TooFewRulePieces(ValueError):
    """The key filter kept fewer than one composed rule piece in ``MAX_COMPOSED_PER_KEPT``."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.transformer.dataset")
    parser.add_argument("--quick", action="store_true", help="a tiny set for CI")
    parser.add_argument("--out", default="build/transformer", help="output directory")
    args = parser.parse_args(argv)
    summary = build(DataConfig.quick() if args.quick else DataConfig(), Path(args.out))
    print(f"{summary['sequences']} sequences, {summary['tokens']} tokens → {args.out}/data.npz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
