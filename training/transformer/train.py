"""The training loop: seeded, with a progress bar and ETA, checkpoints and resume.

Batches are windows of ``seq_len + 1`` tokens cut at a bar line (or the
start) of a training sequence, each beginning with BOS as generation does, so the
key of a window's first bar line is predicted from the emotion alone. Half the
windows come from corpus pieces and half from rule-composer pieces, so the exact
labels keep the whole emotion plane covered. Shorter windows are padded with PAD
tokens, which the loss ignores.

Condition dropout: each window's emotion is replaced by NaN (no condition, the
model's null embedding) with probability ``cond_dropout``, so the model also
learns the unconditional distribution that classifier-free guidance needs.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from kelly_actors.files import atomic_path
from kelly_actors.transformer import vocab as V
from training.progress import Progress
from training.transformer.dataset import TRAIN, VALIDATION
from training.transformer.model import CompoundTransformer, ModelConfig, loss_terms


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; ``threads`` is torch's intra-op thread count."""

    steps: int = 4800
    batch: int = 16
    seq_len: int = 192
    lr: float = 1e-3
    warmup: int = 50
    weight_decay: float = 0.01
    seed: int = 0
    threads: int = 1
    checkpoint_every: int = 100
    eval_batches: int = 8
    cond_dropout: float = 0.15

    @classmethod
    def quick(cls) -> TrainConfig:
        return cls(steps=12, batch=4, seq_len=64, checkpoint_every=5, eval_batches=2)


class Windows:
    """Random windows ``int64 [B, seq_len + 1, N_FIELDS]`` and their emotions ``[B, 2]``."""

    def __init__(self, data: dict[str, np.ndarray], split: int, seq_len: int, seed: int):
        self.tokens = data["tokens"].astype(np.int64)
        self.starts = data["starts"]
        self.emotion = data["emotion"]
        self.length = seq_len + 1
        chosen = np.flatnonzero(data["split"] == split)
        self.by_source = [chosen[data["source"][chosen] == s] for s in (0, 1)]
        self.by_source = [ids for ids in self.by_source if ids.size]
        if not self.by_source:
            raise ValueError(f"no sequences in split {split}")
        self.rng = np.random.default_rng(seed)

    def window(self, seq: int) -> np.ndarray:
        lo, hi = int(self.starts[seq]), int(self.starts[seq + 1])
        kinds = self.tokens[lo:hi, V.TYPE]
        cuts = np.flatnonzero((kinds == V.BAR) | (kinds == V.BOS))
        cuts = cuts[cuts < max(1, hi - lo - 8)]
        begin = lo + int(self.rng.choice(cuts)) if cuts.size else lo
        out = np.zeros((self.length, V.N_FIELDS), np.int64)
        out[0, V.TYPE] = V.BOS
        first = 0 if self.tokens[begin, V.TYPE] == V.BOS else 1
        piece = self.tokens[begin : min(hi, begin + self.length - first)]
        out[first : first + len(piece)] = piece
        return out

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        seqs = [int(self.rng.choice(self.by_source[i % len(self.by_source)])) for i in range(size)]
        tokens = np.stack([self.window(s) for s in seqs])
        return torch.from_numpy(tokens), torch.from_numpy(self.emotion[seqs])


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to a tenth."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def evaluate_loss(model: CompoundTransformer, windows: Windows, batches: int, size: int) -> float:
    """Mean summed-field cross-entropy per compound word (nats) over random windows."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for _ in range(batches):
            tokens, emotion = windows.batch(size)
            loss, n = loss_terms(model, tokens, emotion)
            total, count = total + float(loss), count + int(n)
    model.train()
    return total / max(1, count)


def train(
    data: dict[str, np.ndarray],
    model_cfg: ModelConfig,
    cfg: TrainConfig,
    out: Path,
    resume: bool,
) -> tuple[CompoundTransformer, dict]:
    """Train (or resume from ``out/checkpoint.pt``); write ``out/model.pt``; return model + log."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    model = CompoundTransformer(model_cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train_w = Windows(data, TRAIN, cfg.seq_len, cfg.seed)
    val_w = Windows(data, VALIDATION, cfg.seq_len, cfg.seed + 1)
    log: dict = {"train": [], "validation": [], "seconds": 0.0}
    step = 0
    checkpoint = out / "checkpoint.pt"
    if resume and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, log = state["step"], state["log"]
        train_w.rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
    progress = Progress(cfg.steps, "train", done=step)
    started = time.monotonic() - log["seconds"]
    running = None
    model.train()
    while step < cfg.steps:
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg, step)
        tokens, emotion = train_w.batch(cfg.batch)
        dropped = train_w.rng.random(cfg.batch) < cfg.cond_dropout
        emotion[torch.from_numpy(dropped)] = float("nan")
        loss, count = loss_terms(model, tokens, emotion)
        opt.zero_grad(set_to_none=True)
        (loss / count).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        value = float(loss.detach()) / int(count)
        running = value if running is None else 0.95 * running + 0.05 * value
        log["train"].append([step, round(value, 4)])
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            val = evaluate_loss(model, val_w, cfg.eval_batches, cfg.batch)
            log["validation"].append([step, round(val, 4)])
            log["seconds"] = time.monotonic() - started
            with atomic_path(checkpoint) as tmp:
                torch.save(
                    {
                        "model": model.state_dict(),
                        "optimizer": opt.state_dict(),
                        "step": step,
                        "log": log,
                        "rng": train_w.rng.bit_generator.state,
                        "torch_rng": torch.get_rng_state(),
                        "model_config": asdict(model_cfg),
                        "train_config": asdict(cfg),
                    },
                    tmp,
                )
        progress.advance(extra=f"loss {running:.3f}")
    progress.close()
    log["seconds"] = time.monotonic() - started
    with atomic_path(out / "model.pt") as tmp:
        torch.save({"model": model.state_dict(), "model_config": asdict(model_cfg)}, tmp)
    return model, log


def load_data(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as npz:
        return {k: npz[k] for k in npz.files}
