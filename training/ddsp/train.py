"""Training loop: random segments of the training phrases, multi-scale spectral loss,
progress bar with ETA, checkpoints every ``checkpoint_every`` steps, resume from the last one.

One step: B segments of T frames (f0, loudness from the extractor) → decoder → synthesis with
:mod:`training.ddsp_torch` → loss against the FluidSynth audio of the same span.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from kelly_actors.files import atomic_path
from training.ddsp.data import AUDIO_OFFSET, HOP, Dataset, Phrase
from training.ddsp.loss import multiscale_spectral_loss
from training.ddsp.model import DDSPDecoder, ModelConfig, synthesize
from training.progress import Progress


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. ``segment_frames`` × 512 samples per example."""

    steps: int = 400
    batch: int = 4
    segment_frames: int = 64
    lr: float = 2e-3
    lr_final: float = 2e-4
    grad_clip: float = 3.0
    seed: int = 0
    checkpoint_every: int = 50
    threads: int = 1


def sample_batch(
    phrases: list[Phrase], batch: int, frames: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """B random segments: f0 ``(B, T)`` Hz, loudness ``(B, T)`` dB, target ``(B, T·512)``."""
    usable = [p for p in phrases if p.f0_hz.shape[0] >= frames]
    if not usable:
        raise ValueError(f"no phrase has {frames} frames; lower segment_frames")
    weights = np.array([p.f0_hz.shape[0] - frames + 1 for p in usable], dtype=np.float64)
    f0s, louds, audios = [], [], []
    for i in rng.choice(len(usable), size=batch, p=weights / weights.sum()):
        p = usable[i]
        k0 = int(rng.integers(0, p.f0_hz.shape[0] - frames + 1))
        f0s.append(p.f0_hz[k0 : k0 + frames])
        louds.append(p.loudness_db[k0 : k0 + frames])
        a0 = AUDIO_OFFSET + k0 * HOP
        audios.append(p.audio[a0 : a0 + frames * HOP])
    as_t = lambda xs: torch.from_numpy(np.stack(xs).astype(np.float32))  # noqa: E731
    return as_t(f0s), as_t(louds), as_t(audios)


def resynthesize(
    model: DDSPDecoder, phrase: Phrase, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Decoder driven by the phrase's own f0 and loudness → (audio, target), float32 ``(n,)``."""
    t = phrase.f0_hz.shape[0]
    f0 = torch.from_numpy(phrase.f0_hz[None].astype(np.float32))
    loud = torch.from_numpy(phrase.loudness_db[None].astype(np.float32))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        amp, dist, noise, _ = model(f0, loud)
        white = torch.rand(1, t * HOP, generator=gen) * 2.0 - 1.0
        audio = synthesize(f0, amp, dist, noise, white)[0].numpy()
    target = phrase.audio[AUDIO_OFFSET : AUDIO_OFFSET + t * HOP]
    return audio, target


def holdout_loss(model: DDSPDecoder, phrases: list[Phrase]) -> float:
    """Mean multi-scale spectral distance of resynthesised held-out phrases."""
    losses = []
    for p in phrases:
        audio, target = resynthesize(model, p)
        losses.append(
            float(multiscale_spectral_loss(torch.from_numpy(audio), torch.from_numpy(target)))
        )
    return float(np.mean(losses))


def _save(path: Path, state: dict) -> None:
    with atomic_path(path) as tmp:  # a kill mid-save leaves the previous checkpoint intact
        torch.save(state, tmp)


def train(
    data: Dataset,
    cfg: TrainConfig,
    model_cfg: ModelConfig,
    checkpoint_dir: Path,
    resume: bool = True,
    progress: bool = True,
) -> tuple[DDSPDecoder, dict]:
    """Train (or continue) a decoder; returns it and a summary (losses, steps, seconds)."""
    import time

    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    model = DDSPDecoder(model_cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    last = checkpoint_dir / "last.pt"
    step, losses, seconds = 0, [], 0.0
    if resume and last.exists():
        state = torch.load(last, weights_only=False)
        if state["model_config"] != model_cfg.to_dict():
            raise ValueError(f"{last} was trained with {state['model_config']}; use --fresh")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        step, losses, seconds = state["step"], state["losses"], state["seconds"]
        if progress:
            print(f"resuming from {last} at step {step}", file=sys.stderr)
    bar = Progress(cfg.steps, f"{data.instrument} train") if progress else None
    started = time.monotonic() - seconds
    while step < cfg.steps:
        frac = step / max(1, cfg.steps - 1)
        lr = cfg.lr * (cfg.lr_final / cfg.lr) ** frac  # exponential decay
        for group in opt.param_groups:
            group["lr"] = lr
        f0, loud, target = sample_batch(data.train, cfg.batch, cfg.segment_frames, rng)
        amp, dist, noise, _ = model(f0, loud)
        white = torch.rand(target.shape) * 2.0 - 1.0
        loss = multiscale_spectral_loss(synthesize(f0, amp, dist, noise, white), target)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        losses.append(float(loss))
        if not math.isfinite(losses[-1]):
            raise FloatingPointError(f"loss became {losses[-1]} at step {step}")
        if bar:
            bar.update(step, f"loss {np.mean(losses[-20:]):.3f}")
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            _save(
                last,
                {
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "step": step,
                    "rng": rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(),
                    "losses": losses,
                    "seconds": time.monotonic() - started,
                    "model_config": model_cfg.to_dict(),
                    "train_config": asdict(cfg),
                },
            )
    if bar:
        bar.close()
    model.eval()
    summary = {
        "steps": step,
        "train_seconds": round(time.monotonic() - started, 1),
        "loss_first_20": round(float(np.mean(losses[:20])), 4),
        "loss_last_20": round(float(np.mean(losses[-20:])), 4),
        "holdout_resynthesis_distance": round(holdout_loss(model, data.holdout), 4),
    }
    return model, summary
