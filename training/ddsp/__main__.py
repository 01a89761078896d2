"""``kelly train ddsp --instrument NAME [--quick]``: data → training → ONNX → card.

Stages (each reuses what is already there): build the FluidSynth data set
(:mod:`training.ddsp.data`), train with checkpoints in ``checkpoints/ddsp-NAME/`` (resumed
unless ``--fresh``), export ``ddsp-NAME.onnx`` with a torch ↔ onnxruntime parity check,
evaluate on the held-out phrases against the plain preset and write the model card.
``--quick`` is the CI smoke run: a small data set, a few steps, output under ``build/``.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from training.ddsp.card import write_card
from training.ddsp.data import DEFAULT_OUT, HOP, SAMPLE_RATE, SOUNDFONT, DataConfig, Dataset, build
from training.ddsp.evaluate import evaluate, fit_loudness
from training.ddsp.export import export_onnx, parity
from training.ddsp.instruments import get_instrument
from training.ddsp.model import LOUDNESS_FLOOR_DB, ModelConfig
from training.ddsp.train import TrainConfig, train

PARITY_TOLERANCE = 1e-4
METRICS = ("neural_midi", "preset_midi", "preset_midi_level_matched", "neural_resynthesis")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kelly train ddsp",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--instrument", required=True, help="violin, cello, trumpet or flute")
    p.add_argument("--quick", action="store_true", help="tiny smoke run (CI)")
    p.add_argument("--steps", type=int, help="training steps (default 800, quick 6)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_OUT)
    p.add_argument("--checkpoints", type=Path, help="default checkpoints/ddsp-NAME")
    p.add_argument("--out", type=Path, help="model directory (default models/, quick build/)")
    return p


def _fluidsynth_version() -> str:
    exe = shutil.which("fluidsynth")
    if exe is None:
        return "unknown"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0].split()[-1] if out else "unknown"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        inst = get_instrument(args.instrument)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.threads < 1:
        print("error: --threads must be >= 1", file=sys.stderr)
        return 2
    quick = args.quick
    data_cfg = (
        DataConfig.quick(inst.name, args.data_dir)
        if quick
        else DataConfig(inst.name, out=args.data_dir)
    )
    default_steps = 6 if quick else 800
    train_cfg = TrainConfig(
        steps=args.steps or default_steps,
        threads=args.threads,
        batch=2 if quick else 4,
        segment_frames=32 if quick else 64,
        checkpoint_every=3 if quick else 50,
    )
    model_cfg = ModelConfig(hidden=32 if quick else 96)
    out = args.out or (Path("build/ddsp-quick") if quick else Path("models"))
    ckpt = args.checkpoints or Path("checkpoints") / f"ddsp-{inst.name}{'-quick' if quick else ''}"
    try:
        data = Dataset.load(build(data_cfg))
        model, summary = train(data, train_cfg, model_cfg, ckpt, resume=not args.fresh)
    except (ValueError, RuntimeError, FloatingPointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    onnx_path = out / f"ddsp-{inst.name}.onnx"
    export_onnx(model, onnx_path)
    worst = parity(model, onnx_path)
    if worst > PARITY_TOLERANCE:
        print(f"error: ONNX differs from torch by {worst:.2e}", file=sys.stderr)
        return 1
    db_at_127, slope = fit_loudness(data.train)
    seconds = lambda ps: round(sum(p.audio.shape[0] for p in ps) / SAMPLE_RATE, 1)  # noqa: E731
    card = {
        "name": f"ddsp-{inst.name}",
        "file": onnx_path.name,
        "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
        "instrument": inst.name,
        "compared_preset": inst.preset,
        "data": {
            "renderer": _fluidsynth_version(),
            "soundfont": str(SOUNDFONT),
            "program": inst.program,
            "phrases_train": len(data.train),
            "phrases_holdout": len(data.holdout),
            "seconds_train": seconds(data.train),
            "seconds_holdout": seconds(data.holdout),
            "seed": data_cfg.seed,
        },
        "model": model_cfg.to_dict(),
        "training": {**summary, **{k: v for k, v in asdict(train_cfg).items() if k != "steps"}},
        "parity": worst,
        "runtime": {
            "hidden": model_cfg.hidden,
            "hop": HOP,
            "sample_rate": SAMPLE_RATE,
            "db_at_127": round(db_at_127, 3),
            "db_per_velocity_db": round(slope, 4),
            "floor_db": LOUDNESS_FLOOR_DB,
        },
    }
    # The live Synth reads the card's runtime table, so the card exists (metrics pending)
    # before the held-out evaluation loads the model through it.
    write_card(onnx_path.with_suffix(".json"), {**card, "metrics": dict.fromkeys(METRICS)})
    from kelly_actors.synth.neural import NeuralTimbre

    card["metrics"] = evaluate(model, NeuralTimbre.load(onnx_path), data, inst)
    write_card(onnx_path.with_suffix(".json"), card)
    m = card["metrics"]
    print(
        f"{onnx_path}: held-out distance neural {m['neural_midi']} vs preset "
        f"{m['preset_midi_level_matched']} (level-matched), parity {worst:.1e}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
