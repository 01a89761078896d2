"""After training: export, held-out loss, torch↔onnxruntime parity, controllability,
musicality beside the data, and the model card (``<model>.json`` + ``<model>.md``)."""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from kelly_actors.files import atomic_write
from kelly_actors.transformer.generate import DECODINGS, Generator, decoding_config
from kelly_actors.transformer.session import StepSession
from kelly_actors.transformer.tokens import decode
from training.transformer import control as C
from training.transformer import metrics as M
from training.transformer.dataset import TEST
from training.transformer.export import export
from training.transformer.model import CompoundTransformer, loss_terms
from training.transformer.train import TrainConfig


def held_out_loss(model: CompoundTransformer, data: dict, seq_len: int) -> dict[str, float]:
    """Loss per compound word (nats, summed over its fields) on the test split, by source."""
    model.eval()
    tokens = torch.from_numpy(data["tokens"].astype(np.int64))
    result = {}
    for source, name in ((0, "corpus"), (1, "rules"), (None, "all")):
        total, count = 0.0, 0
        for seq in np.flatnonzero(data["split"] == TEST):
            if source is not None and data["source"][seq] != source:
                continue
            lo, hi = int(data["starts"][seq]), int(data["starts"][seq + 1])
            emotion = torch.from_numpy(data["emotion"][seq : seq + 1])
            for begin in range(lo, hi - 1, seq_len):
                chunk = tokens[begin : min(hi, begin + seq_len + 1)][None]
                with torch.no_grad():
                    loss, n = loss_terms(model, chunk, emotion)
                total, count = total + float(loss), count + int(n)
        if count:
            result[f"{name}_loss_nats"] = round(total / count, 4)
            result[f"{name}_perplexity"] = round(math.exp(total / count), 2)
            result[f"{name}_tokens"] = count
    return result


def parity(model: CompoundTransformer, session: StepSession, sequence: np.ndarray) -> float:
    """Max |Δ logit| between torch (whole sequence) and onnxruntime (one token at a time),
    on a guided pair: one conditioned row and one unconditioned (NaN) row."""
    model.eval()
    emotion = np.asarray([[0.5, 0.7], [np.nan, np.nan]], np.float32)
    both = np.stack([sequence, sequence])
    with torch.no_grad():
        past = model.empty_cache(2)
        ref, _, _ = model(torch.from_numpy(both), torch.from_numpy(emotion), past, past)
    cache = session.empty_cache(2)
    worst = 0.0
    for i in range(len(sequence)):
        logits, cache = session.run(both[:, i : i + 1], emotion, cache)
        for field, out in enumerate(logits):
            worst = max(worst, float(np.abs(out[:, 0] - ref[field][:, i].numpy()).max()))
    return worst


def _product_runs(session: StepSession, pieces: int, bars: int, seed: int):
    """The transformer engine (``kelly compose --engine transformer``) under each decoding:
    the model, the null model and (free) the model fed the opposite valence."""
    null = C.ZeroLogits(session)
    return [
        ("free", lambda: C.product_rows(C.variations(session, "free"), pieces, bars, seed)),
        ("free_null", lambda: C.product_rows(C.variations(null, "free"), pieces, bars, seed)),
        (
            "free_flipped",
            lambda: C.product_rows(C.variations(session, "free", flip=True), pieces, bars, seed),
        ),
        ("scale", lambda: C.product_rows(C.variations(session, "scale"), pieces, bars, seed)),
        ("scale_null", lambda: C.product_rows(C.variations(null, "scale"), pieces, bars, seed)),
    ]


def _piece_runs(session: StepSession, pieces: int, bars: int, seed: int):
    """Whole pieces from BOS, the model choosing the tempo, under each decoding."""
    null = C.ZeroLogits(session)
    return [
        (
            f"{decoding}{suffix}",
            lambda s=s, d=decoding: C.piece_rows(
                Generator(s, decoding_config(d)), pieces, bars, seed
            ),
        )
        for decoding in DECODINGS
        for suffix, s in (("", session), ("_null", null))
    ]


#: The issue's targets for free decoding on the product path.
TARGETS = {"mode_matches_valence_sign": 0.8, "spearman_density_arousal": 0.6}
TARGETS_VELOCITY = 0.6


def targets(card: dict) -> dict:
    """Each target of free decoding on the product path: the figure, the bar, met or not."""
    free = card["controllability"]["product_free"]
    low, high = card["corpus_test_entropy_iqr_bits"]
    entropy = free["pitch_class_entropy_median"]
    wanted = {**TARGETS, "spearman_velocity_arousal": TARGETS_VELOCITY}
    out = {k: {"value": free[k], "target": t, "met": free[k] >= t} for k, t in wanted.items()}
    out["pitch_class_entropy_median"] = {
        "value": entropy,
        "target": [low, high],
        "met": low <= entropy <= high,
    }
    return out


def reference_pieces(data: dict, source: int, limit: int, split: int | None = TEST) -> list:
    """Up to ``limit`` pieces of ``source`` in ``split`` (None: any split)."""
    where = (
        np.arange(len(data["split"])) if split is None else np.flatnonzero(data["split"] == split)
    )
    chosen = [s for s in where if data["source"][s] == source]
    return [
        decode(data["tokens"][data["starts"][s] : data["starts"][s + 1]].astype(np.int64))
        for s in chosen[:limit]
    ]


def finish(
    model: CompoundTransformer,
    data: dict,
    work: Path,
    model_path: Path,
    train_cfg: TrainConfig,
    log: dict,
    quick: bool,
) -> dict:
    """Export to ``model_path``, evaluate, write the card beside it; return the card."""
    n_params = sum(p.numel() for p in model.parameters())
    export(model, model_path, {"kelly.parameters": str(n_params)}, train_cfg.cond_dropout > 0)
    session = StepSession(model_path)
    sequence = Generator(session).piece(0.5, 0.7, 2, np.random.default_rng(1))[:128]
    weights = {
        "parameters": n_params,
        "model_config": asdict(model.cfg),
        "train_config": asdict(train_cfg),
        "training": {
            "seconds": round(log["seconds"], 1),
            "threads": train_cfg.threads,
            "final_train_loss_nats": log["train"][-1][1] if log["train"] else None,
            "validation_curve": log["validation"],
        },
        "held_out": held_out_loss(model, data, train_cfg.seq_len),
        "parity_max_abs_logit_diff": parity(model, session, sequence),
    }
    return _write(session, data, work, model_path, weights, train_cfg.seed, quick)


#: Pieces per quadrant corner the card generates under each decoding (160 in all): with
#: 10 per corner the mode match moved by about ±0.15 between seeds.
PIECES_PER_CORNER = 40

#: The card's entries that only the weights decide: a re-scoring of the same file keeps them.
WEIGHTS_ONLY = (
    "parameters",
    "model_config",
    "train_config",
    "training",
    "held_out",
    "parity_max_abs_logit_diff",
)


def rescore(data: dict, work: Path, model_path: Path, quick: bool) -> dict:
    """Score the decodings of ``model_path`` as it is (no export, no torch model) and
    rewrite its card, keeping :data:`WEIGHTS_ONLY` from the card written for this very file
    (its sha256 must match: a card of another file is refused)."""
    card_path = model_path.with_suffix(".json")
    try:
        card = json.loads(card_path.read_text())
        digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
    except (OSError, ValueError) as error:
        raise SystemExit(f"cannot rescore {model_path}: {error}") from None
    needed = ("sha256", *WEIGHTS_ONLY)
    missing = [k for k in needed if k not in card] if isinstance(card, dict) else list(needed)
    if missing:
        raise SystemExit(f"{card_path} is not a card of a trained model: no {', '.join(missing)}")
    if card["sha256"] != digest:
        raise SystemExit(
            f"{card_path} describes another file "
            f"(sha256 {card['sha256']}, the file's {digest}): train or --evaluate-only"
        )
    weights = {k: card[k] for k in WEIGHTS_ONLY}
    seed = card["train_config"]["seed"]
    return _write(StepSession(model_path), data, work, model_path, weights, seed, quick)


def _write(
    session: StepSession,
    data: dict,
    work: Path,
    model_path: Path,
    weights: dict,
    seed: int,
    quick: bool,
) -> dict:
    """Score every decoding of ``session`` and write the card (``weights``: the
    :data:`WEIGHTS_ONLY` entries) beside ``model_path``; return the card."""
    pieces, bars = (1, 2) if quick else (PIECES_PER_CORNER, 8)
    resamples = 50 if quick else C.BOOTSTRAP
    control, timing, kept = {}, {}, {}
    for path, runs in (
        ("product", _product_runs(session, pieces, bars, seed)),
        ("piece", _piece_runs(session, pieces, bars, seed)),
    ):
        for name, rows_of in runs:
            started = time.monotonic()
            rows = rows_of()
            kept[f"{path}_{name}"] = [r["bars"] for r in rows]
            control[f"{path}_{name}"] = C.summary(rows, seed, resamples)
            timing[f"{path}_{name}"] = round(time.monotonic() - started, 1)
    summary = json.loads((work / "data.json").read_text())
    limit = 4 if quick else 40
    # The quick run's few chorales may leave no tune in the test split.
    corpus = reference_pieces(data, 0, 10 * limit) or reference_pieces(data, 0, limit, None)
    card = {
        "name": model_path.stem,
        "file": model_path.name,
        "sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "kind": "compound-word transformer, step model with KV cache (ONNX opset 17)",
        "parameters": weights["parameters"],
        "model_config": weights["model_config"],
        "train_config": weights["train_config"],
        "training": weights["training"],
        "data": {
            k: summary[k]
            for k in (
                "config",
                "sequences",
                "tokens",
                "by_split",
                "by_source_tokens",
                "corpus_files",
                "tunes",
                "tunes_shared_by_several_files",
                "test_tunes",
                "rule_pieces_composed",
            )
            if k in summary
        },
        "held_out": weights["held_out"],
        "parity_max_abs_logit_diff": weights["parity_max_abs_logit_diff"],
        "controllability": control,
        "first_key_minor_probability": {
            "model": C.key_choice(session),
            "null_model": C.key_choice(C.ZeroLogits(session)),
        },
        "controllability_seconds": timing,
        "controllability_setup": {
            "pieces_per_corner": pieces,
            "bars_per_piece": bars,
            "corners": [list(c) for c in C.CORNERS],
            "product_dominance": C.DOMINANCE,
            "seed": seed,
            "bootstrap_resamples": resamples,
        },
        "decoding": {
            "live": "scale",
            "free_guidance": decoding_config("free").guidance,
            "free_key_guidance": decoding_config("free").key_guidance,
            "free_key_temperature": decoding_config("free").sampling.key_temperature,
            "triad_emphasis_nats": list(decoding_config("scale").triad_emphasis),
        },
        "corpus_test_entropy_iqr_bits": C.entropy_iqr(corpus),
        "musicality": {
            "product_free": M.musicality(kept["product_free"]),
            "product_scale": M.musicality(kept["product_scale"]),
            "corpus_test": M.musicality(corpus),
            "rules_test": M.musicality(reference_pieces(data, 1, limit)),
        },
    }
    card["targets"] = targets(card)
    atomic_write(model_path.with_suffix(".json"), json.dumps(card, indent=2) + "\n")
    atomic_write(model_path.with_suffix(".md"), render(card))
    return card


def _ci(summary: dict, key: str) -> str:
    low, high = summary[f"{key}_ci95"]
    return f"{summary[key]:.2f} [{low:.2f}, {high:.2f}]"


def _table(control: dict, names: list[tuple[str, str]]) -> str:
    rows = [
        "| decoding | mode matches valence sign | ρ(arousal, notes/bar) "
        "| ρ(arousal, velocity) | ρ(arousal, tempo) | pitch-class entropy (median, bits) |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in names:
        c = control[key]
        rows.append(
            f"| {label} | {_ci(c, 'mode_matches_valence_sign')} "
            f"| {_ci(c, 'spearman_density_arousal')} | {_ci(c, 'spearman_velocity_arousal')} "
            f"| {_ci(c, 'spearman_tempo_arousal')} | {c['pitch_class_entropy_median']:.2f} |"
        )
    return "\n".join(rows)


def _rule_choices(data: dict) -> str:
    """What the data options chose about the rule pieces, as a clause of the card."""
    config, text = data["config"], ""
    if config.get("rule_tonal"):
        text += (
            ", **written in major or minor only** (the rule mapper's lydian, ionian and"
            " mixolydian as major; dorian, aeolian and phrygian as minor)"
        )
    if config.get("rule_key_filter"):
        text += (
            ", **kept only when their notes hold their key** (the Krumhansl–Kessler key of"
            f" the whole piece is the one its bar lines name: {config['rule_pieces']} of"
            f" {data['rule_pieces_composed']} composed)"
        )
    return text


def render(card: dict) -> str:
    """The human-readable model card."""
    c, h, m, setup = (
        card["controllability"],
        card["held_out"],
        card["musicality"],
        card["controllability_setup"],
    )
    product = _table(
        c,
        [
            (
                "product_free",
                "**free** (grammar only, guidance "
                f"{card['decoding']['free_guidance']:g}, on the key "
                f"{card['decoding']['free_key_guidance']:g}, key sampled at temperature "
                f"{card['decoding']['free_key_temperature']:g}) — the model",
            ),
            ("product_free_null", "free — null model (zero logits)"),
            ("product_free_flipped", "free — the model fed the opposite valence"),
            ("product_scale", "scale (live default) — the model"),
            ("product_scale_null", "scale — null model (zero logits)"),
        ],
    )
    piece = _table(
        c,
        [
            ("piece_free", "free — the model"),
            ("piece_free_null", "free — null model"),
            ("piece_scale", "scale — the model"),
            ("piece_scale_null", "scale — null model"),
        ],
    )
    corners = "\n".join(
        f"| {name} | {v['major_fraction']:.2f} | {v['tempo_bpm']:.0f} | {v['notes_per_bar']:.1f} "
        f"| {v['velocity']:.0f} |"
        for name, v in c["product_free"]["corners"].items()
    )
    goals = "\n".join(
        f"| {name} | {t['value']} | {t['target']} | {'met' if t['met'] else '**not met**'} |"
        for name, t in card["targets"].items()
    )
    music = "\n".join(
        f"| {name} | {v['pitch_class_entropy_bits']:.2f} | {v['scale_consistency']:.3f} "
        f"| {v['groove_consistency']:.3f} |"
        for name, v in m.items()
    )
    keys = card["first_key_minor_probability"]
    first_keys = ", ".join(f"{k} {v:.3f}" for k, v in keys["model"].items())
    null_keys = ", ".join(f"{v:.3f}" for v in keys["null_model"].values())
    d = card["data"]
    mc = card["model_config"]
    tc = card["train_config"]
    low, high = card["corpus_test_entropy_iqr_bits"]
    return f"""# {card["name"]} — emotion-conditioned compound-word transformer

All numbers below were written by `kelly train transformer` (training/transformer/card.py)
for `{card["file"]}` (sha256 `{card["sha256"]}`;
`tests/transformer/test_transformer_card.py` checks it): the held-out loss, parity and
training record at the end of the run that trained it, the decodings' figures by its
latest scoring (`kelly train transformer --rescore` scores the file as it is).

## What it is

A causal transformer over compound-word tokens (docs/tokens.md) conditioned on
valence and arousal: an emotion embedding added at the input and modulating both
layer norms of every block (FiLM), a learned null embedding for "no condition"
(condition dropout {tc["cond_dropout"]:.0%} in training), one output head per token
field. Every bar line names its key (tonic and major/minor, docs/tokens.md), a token
the model writes itself under free decoding: where the valence chooses the mode; the
pitches of the bar's notes count semitones from that key's tonic, so a degree of the
scale is one value in every key.
Exported as a step model with a key/value cache (docs/transformer.md).
{card["parameters"]:,} parameters: {mc["layers"]} layers, d_model {mc["d_model"]},
{mc["heads"]} heads, feed-forward {mc["d_ff"]}, {mc["max_len"]} positions.

## Data

{d["sequences"]} sequences, {d["tokens"]:,} tokens (train {d["by_split"]["train"]:,} /
validation {d["by_split"]["validation"]:,} / test {d["by_split"]["test"]:,}).
Corpus: {len(d["corpus_files"])} Bach chorales in 4/4 from the music21 corpus, **each
also rewritten into its parallel mode** (major ↔ minor on the same tonic), transposed by
{d["config"]["transpositions"]} semitones, re-timed by {d["config"]["tempo_factors"]}
and played at a mean velocity drawn from {d["config"]["velocity_range"]}, with **weak**
emotion labels from mode, register, tempo, density and loudness
({d["by_source_tokens"]["corpus"]:,} tokens). Rule composer:
{d["config"]["rule_pieces"]} pieces of {d["config"]["rule_bars"]} bars at random points
(valence, arousal uniform; dominance near arousal){_rule_choices(d)}, **exact** labels
({d["by_source_tokens"]["rules"]:,} tokens).

**Held-out split by tune**: a chorale's tune is the melody's pitch on its first 16
beats as intervals in diatonic steps (transposition-, mode- and
harmonization-invariant); all chorales on one tune and all their copies share a split.
{d["tunes"]} tunes ({len(d["tunes_shared_by_several_files"])} shared by several files),
{d["test_tunes"]} in the test split. Rule pieces are split by name.

## Training

{tc["steps"]} steps of {tc["batch"]} windows of {tc["seq_len"]} tokens, AdamW, seed
{tc["seed"]}, {card["training"]["threads"]} CPU thread(s):
{card["training"]["seconds"] / 60:.1f} min.

## Held-out loss (test split)

Loss per compound word = sum of the cross-entropies of the fields it uses (nats).

| data | loss | perplexity per compound word |
|---|---|---|
| all | {h.get("all_loss_nats")} | {h.get("all_perplexity")} |
| corpus | {h.get("corpus_loss_nats")} | {h.get("corpus_perplexity")} |
| rules | {h.get("rules_loss_nats")} | {h.get("rules_perplexity")} |

torch ↔ onnxruntime parity on a generated sequence (step by step with the cache, a
conditioned and an unconditioned row): max |Δ logit| =
{card["parity_max_abs_logit_diff"]:.2e}.

## Controllability

{setup["pieces_per_corner"]} pieces of {setup["bars_per_piece"]} bars per quadrant corner
(valence ±0.8 × arousal 0.1 / 0.9), seed {setup["seed"]}, top-k 8, temperature 1 (the
bar line's key under free decoding {card["decoding"]["free_key_temperature"]:g}). Mode
by Krumhansl–Kessler key finding. Brackets: 95 % percentile-bootstrap intervals over
pieces ({setup["bootstrap_resamples"]} resamples). Each decoding is shown beside a
**null model** (all logits zero) under the same decoding: what the decoding alone does.

**The product path** — `kelly compose --engine transformer --decoding free|scale`: the
rule composer gives bar lines and tempo (dominance {setup["product_dominance"]}), the model
writes every track:

{product}

Free decoding on the product path, per corner:

| corner | major fraction | tempo (bpm, the rules') | notes/bar | velocity |
|---|---|---|---|---|
{corners}

**The key the model writes first** (free decoding, guided): the probability that a
piece's first bar line is in a minor key, per corner — {first_keys}; the null model
(zero logits) {null_keys}. The difference between the negative and the positive corners
is the network's choice of mode before any note; the mode figures above say how well
the notes written under that key hold it.

**Whole pieces from BOS** (the model samples the tempo too):

{piece}

### Targets (issue 12, free decoding, product path)

| figure | value | target | |
|---|---|---|---|
{goals}

The pitch-class entropy target is the interquartile range of the held-out chorales
({low:.2f}–{high:.2f} bits).

**What saw which numbers.** This model is the recipe, decoding and seed of the model
shipped before it (sha256 `b56f632a…`) with one change to the data: the rule pieces
written in major or minor only and kept only when their notes hold their key (Data
above). Why: that model's free-decoding notes at the positive corners did not hold the
major key every bar line named (0.68 at its card's seed; read after that card, at seed
0 at arousal 0.9 four pieces in ten were heard as the mediant's minor key), and at seed
500 at arousal 0.9 held more of the lydian raised fourth (6 % of the pitched duration
against 2 % in the rule pieces at valence 0.7–0.9) and less of the fourth (5 % against
11 %): guidance
pushes the notes further along what the valence changes, and from valence 0.85 the
rule pieces were lydian under a major bar line. On the pitch field at seed 501 (30
pieces per positive corner) a weight of 0 or 1 read 0.77 / 0.70 and 0.80 / 0.63 major
against 0.60 / 0.30 at 3, but the negative corners needed it (0.83 / 0.53 minor at 1
against 0.90 / 0.83 at 3), so no decoding was changed. A run with the rule pieces in
major or minor only had been tried before (below), judged on 10 pieces per corner under
an earlier decoding; at 40 per corner the old model's own figure moves by ±0.07 between
seeds. The rule, fixed before this model was scored: keep it if at seeds 500–503 (40
pieces per corner each, 640 pieces) its free product-path mode match is above the old
model's, with every seed's median pitch-class entropy inside the corpus range and both
ρ's met. Old model: 0.725, 0.669, 0.800, 0.819 (mean 0.753); this model: 0.775, 0.800,
0.787, 0.819 (mean 0.795), entropy 2.87–2.91, ρ 0.87: kept. Its figures at this card's seed
(above) were computed by the training run beside that check and read after the
decision. The held-out corpus loss is alike (2.184 against 2.188 nats; the rule pieces'
test split is other pieces now). Nothing was changed after reading them.

**The models before it**, in order ("this model" below is the one shipped before, and
its figures are at this card's seed with 10 pieces per corner unless said). The test
split gave the held-out loss and the corpus
entropy range above, and once, before this model was trained, a diagnostic of the
previous model (no key on bar lines): flipping the valence changed its pitch loss on
test-split windows by 0.005 nats (0.004 on training windows) — it had learned to take
the mode from the notes and not from the valence, which led to the key token (the
same diagnostic, run once on the first run of this recipe, changed nothing). That
model's card, at these same controllability seeds, showed free decoding matching the
valence sign in 50 % of pieces (its null model's figure). A first run of this recipe
(2,400 steps) matched it in 72 % at these seeds, its minor corners too often heard as
the relative major, with the validation loss still falling; after seeing that, training
was doubled to {tc["steps"]} steps, and the product path's reading of unkeyed history
bars was changed from the key most likely at the bar line to the key most likely
together with the bar's notes (judged on seeds 7 and 500–505, not the card's). This
model was kept over that first run for its held-out loss (2.38 against 2.69 nats) and
its free-decoding mode match on 40 pieces at seed 7 with the final decoding (0.68
against 0.55), although at this card's seeds it reads lower than the first run did:
with 40 pieces the figure moves by about ±0.15 between seeds. That model (MIDI pitches,
4,800 steps) read 0.55 at this card's seeds, its notes under a minor key heard as the
relative major; after seeing that, pitches were written relative to the bar's tonic
(docs/tokens.md) and this model was trained once with that encoding and nothing else
changed — the same data, architecture, {tc["steps"]} steps and guidance. After its
card (0.65 here), a diagnosis at other seeds (7 and 90) found its notes under major bar
lines at valence 0.8 holding raised fourths, learned from the rule pieces in lydian
(the mapper's mode from valence 0.85), heard as the mediant's minor key. Tried then,
and not kept: sampling temperatures 0.85 and 0.7 (seeds 500–503, 160 pieces: 0.78 and
0.75 against 0.74 at 1.0, within ±0.06 intervals; entropy below the corpus range at
0.7), and a run with the
rule pieces written in major or minor only (0.75 at this card's seeds, but 0.68 against
this model's 0.74 at seeds 500–503, its median entropy 2.81–2.82 against 2.91–2.92);
this model was kept on the seeds 500–503 figures. The data,
the architecture (FiLM at every layer, condition dropout, a key on every bar line) and
the guidance weight {card["decoding"]["free_guidance"]:g} were fixed before either run:
the weight was chosen for an earlier model on free-decoding controllability at the
corners with seed 7 (guidance 1, 3, 6 and 10 tried: 3 kept, 6
and up broke density and velocity). The key field's own weight
{card["decoding"]["free_key_guidance"]:g} was chosen on this model at seeds 500–503
(160 pieces) with this card's seed unseen: 0.79 against 0.74 with the key at 3, 0.80
at 6 (median pitch-class entropy 3.05, above the corpus range) and 0.73 at 8; a larger
weight on the pitch field lowered it (0.61 at 6). Those
figures move by about ±0.06 between seeds, so the gain is within that noise. At this
card's seed, first seen after the choice, the key weight took the mode match from 0.65
to 0.80 and the median pitch-class entropy from 2.91 to 3.04 bits, above the corpus
range (at seeds 500–503 from 2.92 to 2.95); whole pieces from BOS went from 0.82 to
0.72. It was kept for the product path, the one the targets are set on. After seeing
that entropy, a diagnosis at seeds 500–501 (80 pieces) found a piece's entropy rising
with the number of distinct keys its bar lines drew (r 0.55; 1 key 2.73 bits, 3 keys
3.09): a key sampled afresh on every bar line under guidance wandered. The key field is
now sampled at temperature {card["decoding"]["free_key_temperature"]:g}, chosen at seeds
500–503 (160 pieces, this card's seed not run at any candidate): 1.0 read 0.79 / 2.95
bits, 0.7 0.83 / 2.93, 0.6 0.81 / 2.89, 0.5 0.81 / 2.85, 0.35 0.82 / 2.85, 0.25 0.84 /
2.83; the one nearest the middle of the corpus range with every seed's median inside it
was kept. A lower weight on the pitch field (2.5, 2, 1.5 with the key at 4.5) lowered
the mode match (0.69, 0.67, 0.75) and did not bring the entropy down. Scored then at
this card's seed with 10 pieces per corner, as every card before: mode match 0.68
[0.53, 0.83] (0.80 at temperature 1), entropy 2.91 (3.04). Seeing a 0.12 fall at one
seed where four others rose by 0.02, the card now generates
{setup["pieces_per_corner"]} pieces per corner (figures above), four times as many, and
temperature 1 was scored the same way once, for comparison: 0.74 and 3.02 bits, so
at this seed both targets were missed before too (its 10-per-corner 0.80 was the
luck of 40 pieces). Over the five seeds' 800 pieces the mode match is the same at
either temperature (0.78 at 1, 0.79 at 0.6); the entropy sits in the corpus range only
at 0.6, which was kept. Nothing else was changed after those readings.
ρ(arousal, tempo) on the product
path is the rule composer's by construction; with two arousal levels and ties a
Spearman ρ cannot exceed about 0.87 (perfect separation).

## Musicality beside the data

| pieces | pitch-class entropy (bits) | scale consistency | groove consistency |
|---|---|---|---|
{music}

## Limits

The corpus labels are estimates from the score, not listener ratings; velocity in the
rule pieces follows dominance, which the model never sees (drawn near arousal here).
Free decoding runs the model twice per step (a batch of two) for guidance.
"""
