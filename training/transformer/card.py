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
from kelly_actors.transformer.generate import GenerationConfig, Generator
from kelly_actors.transformer.session import StepSession
from kelly_actors.transformer.tokens import decode
from training.transformer import metrics as M
from training.transformer.dataset import TEST
from training.transformer.export import export
from training.transformer.model import CompoundTransformer, loss_terms
from training.transformer.train import TrainConfig

CORNERS = ((-0.8, 0.1), (-0.8, 0.9), (0.8, 0.1), (0.8, 0.9))


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
    """Max |Δ logit| between torch (whole sequence) and onnxruntime (one token at a time)."""
    model.eval()
    emotion = np.asarray([[0.5, 0.7]], np.float32)
    with torch.no_grad():
        past = model.empty_cache(1)
        ref, _, _ = model(torch.from_numpy(sequence[None]), torch.from_numpy(emotion), past, past)
    cache = session.empty_cache()
    worst = 0.0
    for i, row in enumerate(sequence):
        logits, cache = session.run(row[None, None], emotion, cache)
        for field, out in enumerate(logits):
            worst = max(worst, float(np.abs(out[0, 0] - ref[field][0, i].numpy()).max()))
    return worst


def controllability(generator: Generator, pieces: int, bars: int, seed: int) -> tuple[dict, list]:
    """Generate at the four quadrant corners and measure what the conditioning moved."""
    rng = np.random.default_rng(seed)
    rows, generated = [], []
    for valence, arousal in CORNERS:
        for _ in range(pieces):
            piece = decode(generator.piece(valence, arousal, bars, rng))
            generated.append(piece)
            rows.append(
                {
                    "valence": valence,
                    "arousal": arousal,
                    "mode": M.key_mode(piece),
                    "tempo": M.mean_tempo(piece),
                    "density": M.density(piece),
                    "velocity": M.mean_velocity(piece),
                }
            )
    agree = [r["mode"] != "none" and (r["mode"] == "major") == (r["valence"] > 0) for r in rows]
    arousal = [r["arousal"] for r in rows]
    valence = [r["valence"] for r in rows]
    corners = {}
    for v, a in CORNERS:
        mine = [r for r in rows if (r["valence"], r["arousal"]) == (v, a)]
        corners[f"v{v:+.1f}_a{a:.1f}"] = {
            "major_fraction": round(float(np.mean([r["mode"] == "major" for r in mine])), 3),
            "tempo_bpm": round(float(np.mean([r["tempo"] for r in mine])), 1),
            "notes_per_bar": round(float(np.mean([r["density"] for r in mine])), 1),
            "velocity": round(float(np.mean([r["velocity"] for r in mine])), 1),
        }
    summary = {
        "pieces_per_corner": pieces,
        "bars_per_piece": bars,
        "mode_matches_valence_sign": round(float(np.mean(agree)), 3),
        "spearman_tempo_arousal": round(M.spearman(arousal, [r["tempo"] for r in rows]), 3),
        "spearman_density_arousal": round(M.spearman(arousal, [r["density"] for r in rows]), 3),
        "spearman_velocity_arousal": round(M.spearman(arousal, [r["velocity"] for r in rows]), 3),
        "spearman_velocity_valence": round(M.spearman(valence, [r["velocity"] for r in rows]), 3),
        "corners": corners,
    }
    return summary, generated


def reference_pieces(data: dict, source: int, limit: int) -> list:
    chosen = [s for s in np.flatnonzero(data["split"] == TEST) if data["source"][s] == source]
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
    export(model, model_path, {"kelly.parameters": str(n_params)})
    session = StepSession(model_path)
    generator = Generator(session)
    pieces, bars = (2, 2) if quick else (10, 8)
    # The model alone (grammar masks only), then with scale-aware decoding, the
    # default of the live composer and `kelly compose` (docs/transformer.md).
    started = time.monotonic()
    free = Generator(session, GenerationConfig(scale_aware=False))
    control, generated = controllability(free, pieces, bars, train_cfg.seed)
    control["seconds"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    aware_control, aware_generated = controllability(generator, pieces, bars, train_cfg.seed)
    aware_control["seconds"] = round(time.monotonic() - started, 1)
    sequence = generator.piece(0.5, 0.7, 2, np.random.default_rng(1))[:128]
    summary = json.loads((work / "data.json").read_text())
    limit = 4 if quick else 40
    card = {
        "name": model_path.stem,
        "file": model_path.name,
        "sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "kind": "compound-word transformer, step model with KV cache (ONNX opset 17)",
        "parameters": n_params,
        "model_config": asdict(model.cfg),
        "train_config": asdict(train_cfg),
        "training": {
            "seconds": round(log["seconds"], 1),
            "threads": train_cfg.threads,
            "final_train_loss_nats": log["train"][-1][1] if log["train"] else None,
            "validation_curve": log["validation"],
        },
        "data": {
            k: summary[k]
            for k in (
                "config",
                "sequences",
                "tokens",
                "by_split",
                "by_source_tokens",
                "corpus_files",
            )
        },
        "held_out": held_out_loss(model, data, train_cfg.seq_len),
        "parity_max_abs_logit_diff": parity(model, session, sequence),
        "controllability": control,
        "controllability_scale_aware": aware_control,
        "decoding": {
            "live_and_offline": "scale-aware" if generator.config.scale_aware else "free",
            "triad_emphasis_nats": list(generator.config.triad_emphasis),
        },
        "musicality": {
            "generated": M.musicality(generated),
            "generated_scale_aware": M.musicality(aware_generated),
            "corpus_test": M.musicality(reference_pieces(data, 0, limit)),
            "rules_test": M.musicality(reference_pieces(data, 1, limit)),
        },
    }
    atomic_write(model_path.with_suffix(".json"), json.dumps(card, indent=2) + "\n")
    atomic_write(model_path.with_suffix(".md"), render(card))
    return card


def render(card: dict) -> str:
    """The human-readable model card."""
    c, h, m = card["controllability"], card["held_out"], card["musicality"]
    s = card["controllability_scale_aware"]
    corners = "\n".join(
        f"| {name} | {v['major_fraction']:.2f} | {s['corners'][name]['major_fraction']:.2f} "
        f"| {v['tempo_bpm']:.0f} | {v['notes_per_bar']:.1f} | {v['velocity']:.0f} |"
        for name, v in c["corners"].items()
    )
    music = "\n".join(
        f"| {name} | {v['pitch_class_entropy_bits']:.2f} | {v['scale_consistency']:.3f} "
        f"| {v['groove_consistency']:.3f} |"
        for name, v in m.items()
    )
    d = card["data"]
    mc = card["model_config"]
    return f"""# {card["name"]} — emotion-conditioned compound-word transformer

All numbers below were written by `kelly train transformer` (training/transformer/card.py)
at the end of the training run that produced `{card["file"]}`
(sha256 `{card["sha256"]}`).

## What it is

A causal transformer over compound-word tokens (docs/tokens.md) conditioned on
valence and arousal (a learned embedding added at every position), with one output
head per token field. Exported as a step model with a key/value cache
(docs/transformer.md). {card["parameters"]:,} parameters: {mc["layers"]} layers,
d_model {mc["d_model"]}, {mc["heads"]} heads, feed-forward {mc["d_ff"]},
{mc["max_len"]} positions.

## Data

{d["sequences"]} sequences, {d["tokens"]:,} tokens (train {d["by_split"]["train"]:,} /
validation {d["by_split"]["validation"]:,} / test {d["by_split"]["test"]:,}; split by piece).
Corpus: {len(d["corpus_files"])} Bach chorales from the music21 corpus, transposed by
{d["config"]["transpositions"]} semitones and re-timed by {d["config"]["tempo_factors"]},
with **weak** emotion labels from mode, register, tempo, density and dynamics
({d["by_source_tokens"]["corpus"]:,} tokens). Rule composer: {d["config"]["rule_pieces"]} pieces
of {d["config"]["rule_bars"]} bars at uniformly random PAD points, **exact** labels
({d["by_source_tokens"]["rules"]:,} tokens).

## Training

{card["train_config"]["steps"]} steps of {card["train_config"]["batch"]} windows of
{card["train_config"]["seq_len"]} tokens, AdamW, seed {card["train_config"]["seed"]},
{card["training"]["threads"]} CPU thread(s): {card["training"]["seconds"] / 60:.1f} min.

## Held-out loss (test split)

Loss per compound word = sum of the cross-entropies of the fields it uses (nats).

| data | loss | perplexity per compound word |
|---|---|---|
| all | {h.get("all_loss_nats")} | {h.get("all_perplexity")} |
| corpus | {h.get("corpus_loss_nats")} | {h.get("corpus_perplexity")} |
| rules | {h.get("rules_loss_nats")} | {h.get("rules_perplexity")} |

torch ↔ onnxruntime parity on a generated sequence (step by step with the cache):
max |Δ logit| = {card["parity_max_abs_logit_diff"]:.2e}.

## Controllability

{c["pieces_per_corner"]} pieces of {c["bars_per_piece"]} bars per quadrant corner, sampled
from BOS (top-k 8, temperature 1, grammar masks), tempo sampled by the model.
Mode by Krumhansl–Kessler key finding. Two decodings of the same model:

* **model alone** (grammar masks only): mode matches the sign of valence in
  **{c["mode_matches_valence_sign"]:.0%}** of pieces — the model has not learnt to
  follow valence in its pitch content;
* **scale-aware decoding** (pitches masked to the scale of the mode the rule mapper
  gives the valence, on a tonic drawn from the seed; tonic, third and fifth favoured
  by {card["decoding"]["triad_emphasis_nats"]} nats): mode matches in
  **{s["mode_matches_valence_sign"]:.0%}** of pieces. **The live composer and
  `kelly compose` use scale-aware decoding** (there the tonic is the rule
  composer's key).

| measure | model alone | scale-aware |
|---|---|---|
| mode matches valence sign | {c["mode_matches_valence_sign"]:.0%} \
| {s["mode_matches_valence_sign"]:.0%} |
| Spearman(arousal, tempo) | {c["spearman_tempo_arousal"]} | {s["spearman_tempo_arousal"]} |
| Spearman(arousal, notes per bar) | {c["spearman_density_arousal"]} \
| {s["spearman_density_arousal"]} |
| Spearman(arousal, velocity) | {c["spearman_velocity_arousal"]} \
| {s["spearman_velocity_arousal"]} |
| Spearman(valence, velocity) | {c["spearman_velocity_valence"]} \
| {s["spearman_velocity_valence"]} |

Velocity follows dominance in the rules, which the model does not see.
Per corner (model alone, except the scale-aware major fraction):

| corner | major fraction | major fraction, scale-aware | tempo (bpm) | notes/bar | velocity |
|---|---|---|---|---|---|
{corners}

## Musicality beside the data

| pieces | pitch-class entropy (bits) | scale consistency | groove consistency |
|---|---|---|---|
{music}

## Limits

Scale-aware decoding narrows the pitch palette (lower pitch-class entropy, scale
consistency 1 by construction) and forbids chromatic notes. The corpus labels are
estimates from the score, not listener ratings; the chorales
sit in a narrow arousal band, so the arousal axis is learnt mostly from the rule
composer's pieces. The model never sees dominance.
"""
