"""``python -m training.emotion [--quick]`` (= ``kelly train emotion``): data → train → ONNX → card.

Steps, each skipped when its output is already there (``--rebuild-data`` forces the data):

1. build the labelled feature set (``--data``; ``build/emotion/data[-quick].npz``);
2. train with checkpoints in ``--checkpoints`` (``--resume`` continues ``last.pt``);
3. export ``<out>/emotion.onnx`` (``torch.onnx.export``, :mod:`training.emotion.export`);
4. evaluate on the held-out test and validation splits, frame by frame against the mean
   and linear baselines and clip by clip (:mod:`training.emotion.clip_level`) against the
   clip-mean ridge, the rule and the mean, and write the model card ``<out>/emotion.json``
   + ``<out>/emotion.md`` and the baselines ``<out>/emotion.baseline.npz``.

``--evaluate-only`` skips 2 and 3: it scores the ``<out>/emotion.onnx`` already there and
keeps its card's training record, so a card can gain figures without a new model file.

``--quick`` is the CI smoke size (seconds of audio, 2 epochs) and writes to
``build/emotion/quick`` unless ``--out`` says otherwise: it never replaces the shipped model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from kelly_actors.bus.frames import LAYOUT_VERSION
from kelly_actors.files import atomic_path
from training.emotion.card import training_record, write_card
from training.emotion.clip_level import evaluate_clips, fit_clip_ridge
from training.emotion.dataset import DataConfig, Dataset, build, built_with
from training.emotion.evaluate import beats_baselines, evaluate, fit_linear, model_predictions
from training.emotion.export import model_bytes
from training.emotion.model import keep_mask
from training.emotion.train import TrainConfig, train
from training.onnx_export import write_model


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="kelly train emotion",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="CI smoke size")
    p.add_argument("--seed", type=int, default=0, help="fixes the data set and training")
    p.add_argument(
        "--train-seed", type=int, help="the initialisation and crops alone (default --seed)"
    )
    p.add_argument("--epochs", type=int, help="default 20 (2 with --quick)")
    p.add_argument("--crop", type=int, help="frames per crop (default 192; 96 with --quick)")
    p.add_argument(
        "--raw-chroma",
        action="store_true",
        help="let the network see the 12 key-dependent raw chroma values (hidden by default)",
    )
    p.add_argument("--valence-weight", type=float, default=0.5, help="valence loss scale")
    p.add_argument("--harmonic-aug", type=float, default=0.0, help="overtone augmentation")
    p.add_argument("--transpose", action="store_true", help="random key per crop (raw chroma)")
    p.add_argument("--input-noise", type=float, default=0.0, help="noise on standardised inputs")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument(
        "--slow-key",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also read the key of a 3 s chroma average (default; --no-slow-key: frames only)",
    )
    p.add_argument(
        "--tempo",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also read 24 beat resonators on the onset strength (needs --slow-key)",
    )
    p.add_argument(
        "--warm-carry",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="start each crop with the carried features as they stand at its first frame",
    )
    p.add_argument(
        "--onset-rate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="play corpus pieces at the onset rate arousal asks for (default; "
        "--no-onset-rate: a written quarter note is the tempo formula's beat)",
    )
    p.add_argument("--takes", type=int, help="performances of each training piece (default 8)")
    p.add_argument(
        "--extra-takes",
        type=int,
        help="more performances of each training piece, each clip of the plan without "
        "them kept as it was (default 0)",
    )
    p.add_argument(
        "--extra-composer-pieces",
        type=int,
        help="composer pieces played in training only (default 0)",
    )
    p.add_argument(
        "--track-share",
        type=float,
        help="share of the composer's training takes with its tracks on 2-3 instruments "
        "(default 0)",
    )
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--data", type=Path, help="data set path (.npz)")
    p.add_argument("--rebuild-data", action="store_true")
    p.add_argument("--checkpoints", type=Path, help="checkpoint directory")
    p.add_argument("--resume", action="store_true", help="continue from <checkpoints>/last.pt")
    p.add_argument("--out", type=Path, help="where emotion.onnx and its card go (default models/)")
    p.add_argument(
        "--evaluate-only",
        action="store_true",
        help="score <out>/emotion.onnx as it is and rewrite its card (no training)",
    )
    args = p.parse_args(argv)
    if args.takes is not None and args.takes < 1:
        p.error("--takes must be at least 1")
    if args.extra_takes is not None and args.extra_takes < 0:
        p.error("--extra-takes must be 0 or more")
    if args.extra_composer_pieces is not None and args.extra_composer_pieces < 0:
        p.error("--extra-composer-pieces must be 0 or more")
    if args.track_share is not None and not 0.0 <= args.track_share <= 1.0:
        p.error("--track-share must be in [0, 1]")
    if args.tempo and not args.slow_key:
        p.error("--tempo needs --slow-key: the resonators are carried after the slow chroma")
    if args.warm_carry and not args.slow_key:
        p.error("--warm-carry needs --slow-key: without it nothing is carried")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.monotonic()
    tag = "quick" if args.quick else "full"
    data_config = DataConfig.quick(args.seed) if args.quick else DataConfig(seed=args.seed)
    data_config = replace(data_config, onset_rate=args.onset_rate)
    if args.takes:
        data_config = replace(data_config, takes=args.takes)
    if args.extra_takes is not None:
        data_config = replace(data_config, extra_takes=args.extra_takes)
    if args.extra_composer_pieces is not None:
        data_config = replace(data_config, extra_composer_pieces=args.extra_composer_pieces)
    if args.track_share is not None:
        data_config = replace(data_config, track_share=args.track_share)
    train_config = TrainConfig(
        epochs=args.epochs or (2 if args.quick else 20),
        seed=args.seed if args.train_seed is None else args.train_seed,
        threads=args.threads,
        raw_chroma=args.raw_chroma,
        valence_weight=args.valence_weight,
        harmonic_aug=args.harmonic_aug,
        transpose=args.transpose,
        input_noise=args.input_noise,
        weight_decay=args.weight_decay,
        slow_key=args.slow_key,
        tempo=args.tempo,
        warm_carry=args.warm_carry,
    )
    if args.quick:
        train_config = replace(train_config, batch=8, crop=96)
    if args.crop:
        train_config = replace(train_config, crop=args.crop)
    data_path = args.data or Path(f"build/emotion/data-{tag}-seed{args.seed}.npz")
    checkpoints = args.checkpoints or Path(f"build/emotion/checkpoints-{tag}")
    out = args.out or (Path("build/emotion/quick") if args.quick else Path("models"))

    if args.rebuild_data or not data_path.exists():
        print(f"building the data set → {data_path}", flush=True)
        build(data_config, data_path)
    elif (built := built_with(data_path)) != repr(data_config):
        print(
            f"kelly train emotion: {data_path} was built with {built}, not {data_config!r}; "
            "add --rebuild-data (or --data elsewhere)",
            file=sys.stderr,
        )
        return 2
    data = Dataset.load(data_path)
    print(
        f"data: {len(data.labels)} clips, {data.features.shape[0]} frames "
        f"(train {len(data.clips('train'))}, val {len(data.clips('val'))}, "
        f"test {len(data.clips('test'))} clips)",
        flush=True,
    )

    if args.evaluate_only:
        previous = json.loads((out / "emotion.json").read_text())
        onnx = (out / "emotion.onnx").read_bytes()
        version, training = previous["model_version"], previous["training"]
    else:
        result = train(data, train_config, checkpoints, args.resume)
        print(f"best epoch {result.best_epoch}: val MAE {result.best_val_mae:.4f}", flush=True)
        weights = b"".join(t.numpy().tobytes() for t in result.net.state_dict().values())
        version = f"emotion-{hashlib.sha256(weights).hexdigest()[:12]}"
        onnx = model_bytes(result.net, version, LAYOUT_VERSION)
        write_model(out / "emotion.onnx", onnx)
        training = training_record(asdict(train_config), result, time.monotonic() - started)

    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(onnx, options, providers=["CPUExecutionProvider"])
    keep = keep_mask(training["raw_chroma"]).numpy()
    linear = fit_linear(data, keep, key=True)
    linear_all = fit_linear(data)
    ridge = fit_clip_ridge(data, keep, tempo=bool(training.get("tempo")))
    with atomic_path(out / "emotion.baseline.npz") as tmp:
        np.savez(
            tmp,
            mean=linear.mean,
            std=linear.std,
            weights=linear.weights,
            bias=linear.bias,
            key=linear.key,
            label_mean=data.labels[data.clips("train")].mean(0),
            **ridge.arrays(),
        )
    test = evaluate(session, data, "test", linear, linear_all)
    val = evaluate(session, data, "val", linear, linear_all)
    clips = {
        split: evaluate_clips(
            model_predictions(session, data, data.clips(split)), data, split, ridge
        )
        for split in ("test", "val")
    }
    write_card(
        out,
        version=version,
        onnx=onnx,
        data=data,
        data_config=asdict(data_config),
        training=training,
        test=test,
        val=val,
        clips=clips,
    )
    m, lin, mean = test["model"], test["linear_baseline"], test["mean_baseline"]
    for axis in ("valence", "arousal", "dominance"):
        print(
            f"test {axis:9}: MAE model {m[axis]['mae']:.3f} linear {lin[axis]['mae']:.3f} "
            f"mean {mean[axis]['mae']:.3f}; R² model {m[axis]['r2']:.3f} "
            f"linear {lin[axis]['r2']:.3f}"
        )
    print(
        f"test quadrant accuracy: model {m['quadrant_accuracy']:.3f} linear "
        f"{lin['quadrant_accuracy']:.3f} mean {mean['quadrant_accuracy']:.3f}"
    )
    for split, c in clips.items():
        print(
            f"{split} clips ({c['clips']}): valence R² {c['model']['valence']['r2']} "
            f"ridge {c['clip_mean_ridge']['valence']['r2']} rule {c['rule']['valence']['r2']}; "
            f"arousal R² {c['model']['arousal']['r2']}; quadrant {c['model']['quadrant_accuracy']}"
        )
    print(f"wrote {out / 'emotion.onnx'} ({version}) and its card", flush=True)
    if not beats_baselines(test):
        print("warning: the model does not beat both baselines on every axis", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
