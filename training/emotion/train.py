"""Training loop: seeded, with progress/ETA, a checkpoint every epoch and resume.

Batches are random crops of ``crop`` frames from training clips, each run from a zero LSTM
state (the live stream starts from zero too). Model selection: the epoch with the lowest
validation MAE (mean over the three axes, frames after the warm-up) is kept as ``best``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from kelly_actors.bus.frames import CHROMA, ONSET_STRENGTH
from kelly_actors.files import atomic_path
from training.emotion.dataset import Dataset
from training.emotion.model import (
    N_TEMPO_STATE,
    EmotionNet,
    beat_resonators,
    chroma_key_features,
    keep_mask,
    key_features,
    loss_terms,
    slow_chroma,
    tempo_features,
    total_loss,
)
from training.progress import Progress

#: Frames at the start of every clip left out of metrics (1 s at 48 kHz / 512): every
#: model, baselines included, is scored on the same frames.
WARMUP_FRAMES = 94


@dataclass(frozen=True)
class TrainConfig:
    """epochs; batch (crops per step); crop (frames per crop); lr (Adam); seed; threads
    (torch intra-op threads, 1 by default: the machine is shared); steps_per_epoch (0 =
    about one pass over the training frames); raw_chroma (the network sees the 12 raw
    chroma values besides the key features, :func:`~training.emotion.model.keep_mask`);
    valence_weight (valence's error scale in the loss; 0.5 makes its range 1 like the
    others'); slow_key (the network also reads the key features of a slow chroma average,
    :func:`~training.emotion.model.slow_chroma`); tempo (and the beat resonators'
    :func:`~training.emotion.model.tempo_features`; needs slow_key); warm_carry (each crop
    starts with the values carried in the state, slow chroma and resonators, as they stand
    at that frame of its clip, and the LSTM from zero: the resonators of the slowest beats
    take seconds to fill, longer than a crop)."""

    epochs: int = 20
    batch: int = 32
    crop: int = 192
    lr: float = 2e-3
    seed: int = 0
    threads: int = 1
    steps_per_epoch: int = 0
    raw_chroma: bool = False
    valence_weight: float = 0.5
    harmonic_aug: float = 0.0
    transpose: bool = False
    input_noise: float = 0.0
    weight_decay: float = 0.0
    slow_key: bool = True
    tempo: bool = False
    warm_carry: bool = False


@dataclass
class TrainResult:
    net: EmotionNet
    best_epoch: int
    best_val_mae: float
    epochs_run: int
    wall_s: float
    history: list[dict[str, float]]


def clip_tempo_features(frames: np.ndarray) -> np.ndarray:
    """One clip's frames float32 (T, 128), streamed from a zero state → float32 (T, 25):
    :func:`~training.emotion.model.tempo_features` of its beat resonators."""
    onset = torch.from_numpy(frames[:, None, ONSET_STRENGTH])
    with torch.no_grad():
        magnitude, _ = beat_resonators(onset, torch.zeros(1, N_TEMPO_STATE))
        return tempo_features(magnitude)[:, 0].numpy()


def _stats(data: Dataset, train: list[int], tempo: bool) -> dict[str, torch.Tensor]:
    """Mean and std of the training frames' 128 features, of their key features, of the
    key features of their slow chroma and (``tempo``) of their tempo features (each clip
    from a zero state, as the stream starts): :class:`EmotionNet`'s standardisation
    keywords."""
    frames = np.concatenate([data.clip(i) for i in train])
    with torch.no_grad():
        key = key_features(torch.from_numpy(frames)).double().numpy()
        slow = []
        for i in train:
            chroma = torch.from_numpy(data.clip(i)[:, None, CHROMA])
            slow.append(chroma_key_features(slow_chroma(chroma, torch.zeros(1, 12)))[:, 0])
        slow_key = torch.cat(slow).double().numpy()
    frames = frames.astype(np.float64)
    groups = [("", frames), ("key_", key), ("slow_", slow_key)]
    if tempo:
        values = np.concatenate([clip_tempo_features(data.clip(i)) for i in train])
        groups.append(("tempo_", values.astype(np.float64)))
    stats = {}
    for prefix, values in groups:
        stats[prefix + "mean"] = torch.from_numpy(values.mean(0).astype(np.float32))
        stats[prefix + "std"] = torch.from_numpy(values.std(0).astype(np.float32))
    return stats


def stacked(data: Dataset, clips: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Whole clips as one batch: features (T, N, 128) cut to the shortest clip, labels (N, 3)."""
    n = min(data.clip(i).shape[0] for i in clips)
    x = np.stack([data.clip(i)[:n] for i in clips], axis=1)
    return torch.from_numpy(x), torch.from_numpy(data.labels[clips])


def val_mae(net: EmotionNet, data: Dataset, clips: list[int]) -> float:
    x, y = stacked(data, clips)
    with torch.no_grad():
        emotion, _, _, _ = net(x, *net.zero_state(x.shape[1]))
    err = (emotion[WARMUP_FRAMES:, :, :3] - y).abs() * torch.tensor([0.5, 1.0, 1.0])
    return float(err.mean())


#: Pitch class (semitones above the fundamental, mod 12) of harmonics 3, 5, 6, 7 and 9:
#: where an instrument's overtones put energy in the chroma of one note.
HARMONIC_CLASSES = (7, 4, 7, 10, 2)
#: Largest extra weight of each of those harmonics at ``harmonic_aug = 1``.
HARMONIC_MAX = (0.8, 0.6, 0.4, 0.3, 0.2)


def augment(x: np.ndarray, rng: np.random.Generator, config: TrainConfig) -> np.ndarray:
    """A batch of raw crops (T, B, 128) as if played on other timbres / in other keys.

    ``harmonic_aug``: each crop's chroma is circularly convolved with a random overtone
    kernel (1 at the fundamental's pitch class plus random weights at the classes of
    harmonics 3, 5, 6, 7, 9, scaled by ``harmonic_aug``), re-normalised to a maximum of 1,
    and each frame's chroma values get ±``harmonic_aug``·15 % multiplicative noise — an
    instrument with other overtone strengths reads the same music with another chroma.
    ``transpose``: each crop's chroma is rolled by a random number of semitones (the key
    is not a cue; only meaningful with ``raw_chroma``)."""
    if not config.harmonic_aug and not config.transpose:
        return x
    x = x.copy()
    chroma = x[..., CHROMA].astype(np.float64)  # (T, B, 12)
    b = chroma.shape[1]
    if config.harmonic_aug:
        kernel = np.zeros((b, 12))
        kernel[:, 0] = 1.0
        for pc, top in zip(HARMONIC_CLASSES, HARMONIC_MAX, strict=True):
            kernel[:, pc] += rng.uniform(0.0, top * config.harmonic_aug, b)
        # out[j] = sum_k kernel[k] chroma[j - k]
        spread = np.zeros_like(chroma)
        for k in range(12):
            spread += kernel[None, :, k, None] * np.roll(chroma, k, axis=-1)
        spread *= np.exp(rng.normal(0.0, 0.15 * config.harmonic_aug, spread.shape))
        peak = spread.max(-1, keepdims=True)
        chroma = np.where(peak > 1e-9, spread / np.maximum(peak, 1e-9), 0.0)
    if config.transpose:
        shift = rng.integers(0, 12, b)
        chroma = np.stack([np.roll(chroma[:, i], shift[i], axis=-1) for i in range(b)], axis=1)
    x[..., CHROMA] = chroma.astype(np.float32)
    return x


def _carried(net: EmotionNet, data: Dataset, clips: list[int]) -> list[np.ndarray]:
    """Per clip, float32 (T, 2·tail): the values ``net`` carries in its state after each
    frame, streamed from the clip's start (:meth:`EmotionNet.carried_sequence`)."""
    with torch.no_grad():
        return [
            net.carried_sequence(torch.from_numpy(data.clip(i)[:, None]))[:, 0].numpy()
            for i in clips
        ]


def train(data: Dataset, config: TrainConfig, checkpoints: Path, resume: bool) -> TrainResult:
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    train_clips, val_clips = data.clips("train"), data.clips("val")
    stats = _stats(data, train_clips, config.tempo)
    keep = keep_mask(config.raw_chroma)
    net = EmotionNet(**stats, keep=keep, slow=config.slow_key, tempo=config.tempo)
    net.input_noise = config.input_noise
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
    start_epoch, best, best_epoch, history = 0, float("inf"), -1, []
    checkpoints.mkdir(parents=True, exist_ok=True)
    last = checkpoints / "last.pt"
    if resume and last.exists():
        state = torch.load(last, weights_only=True)
        # More epochs may be asked for on resume; anything else must match.
        if {**state["config"], "epochs": 0} != {**asdict(config), "epochs": 0}:
            raise SystemExit(f"{last} was written with other settings: {state['config']}")
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        torch.set_rng_state(state["torch_rng"])
        rng.bit_generator.state = state["numpy_rng"]
        start_epoch, best, best_epoch = state["epoch"] + 1, state["best"], state["best_epoch"]
        history = state["history"]
        print(f"resumed from {last} after epoch {state['epoch'] + 1}", flush=True)

    carried = _carried(net, data, train_clips) if config.warm_carry and net.slow else None
    lengths = np.array([data.clip(i).shape[0] for i in train_clips])
    crop = int(min(config.crop, lengths.min()))
    steps = config.steps_per_epoch or max(1, int(lengths.sum() / (config.batch * crop)))
    labels = torch.from_numpy(data.labels)
    aux = torch.from_numpy(data.aux)
    t0 = time.monotonic()
    bar = Progress((config.epochs - start_epoch) * steps, "train")
    for epoch in range(start_epoch, config.epochs):
        net.train()
        losses = []
        for _ in range(steps):
            pick = rng.integers(0, len(train_clips), config.batch)
            xs, idx, starts = [], [], []
            for k in pick:
                clip = train_clips[k]
                at = int(rng.integers(0, lengths[k] - crop + 1))
                xs.append(data.clip(clip)[at : at + crop])
                idx.append(clip)
                if carried is not None:
                    starts.append(carried[k][at - 1] if at else np.zeros_like(carried[k][0]))
            x = torch.from_numpy(augment(np.stack(xs, axis=1), rng, config))
            if carried is None:
                state = net.zero_state(config.batch)
            else:
                state = net.warm_state(torch.from_numpy(np.stack(starts)))
            emotion, raw, _, _ = net(x, *state)
            terms = loss_terms(emotion[8:], raw[8:], labels[idx], aux[idx], config.valence_weight)
            loss = total_loss(terms)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            losses.append(float(loss.detach()))
            bar.advance(extra=f"epoch {epoch + 1}/{config.epochs} loss {np.mean(losses):.4f}")
        sched.step()
        net.eval()
        mae = val_mae(net, data, val_clips)
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)), "val_mae": mae})
        if mae < best:
            best, best_epoch = mae, epoch + 1
            with atomic_path(checkpoints / "best.pt") as tmp:
                torch.save(net.state_dict(), tmp)
        with atomic_path(last) as tmp:
            torch.save(
                {
                    "net": net.state_dict(),
                    "opt": opt.state_dict(),
                    "sched": sched.state_dict(),
                    "torch_rng": torch.get_rng_state(),
                    "numpy_rng": rng.bit_generator.state,
                    "epoch": epoch,
                    "best": best,
                    "best_epoch": best_epoch,
                    "history": history,
                    "config": asdict(config),
                },
                tmp,
            )
    bar.close()
    best_net = EmotionNet(**stats, keep=keep, slow=config.slow_key, tempo=config.tempo)
    best_net.load_state_dict(torch.load(checkpoints / "best.pt", weights_only=True))
    best_net.eval()
    return TrainResult(best_net, best_epoch, best, config.epochs, time.monotonic() - t0, history)
