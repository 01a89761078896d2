"""``kelly train transformer [--quick]``: data → training → ONNX export → evaluation → model card.

Full run: builds ``build/transformer/data.npz`` if missing, trains with
checkpoints in ``build/transformer/``, exports ``models/transformer.onnx``
and writes ``models/transformer.json`` / ``.md``. ``--quick`` does the same
with a tiny set under ``build/transformer-quick/`` (CI); ``--resume``
continues from the last checkpoint.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kelly train transformer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny data and model (CI smoke run)")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument("--seed", type=int, default=0, help="seed of data, init and batches")
    parser.add_argument("--steps", type=int, help="override the number of training steps")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--work", type=Path, help="data and checkpoints directory")
    parser.add_argument("--model", type=Path, help="ONNX output (card beside it)")
    parser.add_argument("--rebuild-data", action="store_true", help="rebuild the data set")
    parser.add_argument(
        "--rule-tonal",
        action=argparse.BooleanOptionalAction,
        help="write the rule pieces in major or minor only (data; default: the data config's)",
    )
    parser.add_argument(
        "--rule-key-filter",
        action=argparse.BooleanOptionalAction,
        help="keep only rule pieces whose notes hold the key their bar lines name (data; "
        "default: the data config's)",
    )
    parser.add_argument(
        "--evaluate-only",
        action="store_true",
        help="re-export and re-evaluate the trained model.pt",
    )
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="re-score the decodings of the ONNX file as it is (no model.pt needed) and "
        "rewrite its card, keeping what only the weights decide from its card",
    )
    args = parser.parse_args(argv)
    if args.threads < 1 or (args.steps is not None and args.steps < 1):
        parser.error("--threads and --steps must be >= 1")

    import torch

    from training.transformer.dataset import DataConfig, TooFewRulePieces, build, data_differs
    from training.transformer.model import CompoundTransformer, ModelConfig
    from training.transformer.train import TrainConfig, load_data, train

    torch.set_num_threads(args.threads)
    work = args.work or REPO / ("build/transformer-quick" if args.quick else "build/transformer")
    model_path = args.model or (
        work / "transformer.onnx" if args.quick else REPO / "models/transformer.onnx"
    )
    data_cfg = replace(DataConfig.quick() if args.quick else DataConfig(), seed=args.seed)
    for name in ("rule_tonal", "rule_key_filter"):
        if getattr(args, name) is not None:
            data_cfg = replace(data_cfg, **{name: getattr(args, name)})
    model_cfg = ModelConfig(d_model=32, layers=1, heads=2, d_ff=64) if args.quick else ModelConfig()
    train_cfg = replace(
        TrainConfig.quick() if args.quick else TrainConfig(), seed=args.seed, threads=args.threads
    )
    if args.steps is not None:
        train_cfg = replace(train_cfg, steps=args.steps)

    data_file = work / "data.npz"
    if args.rebuild_data or not data_file.exists():
        try:
            build(data_cfg, work)
        except TooFewRulePieces as error:
            print(f"kelly train transformer: {error}", file=sys.stderr)
            return 1
    else:
        stale = data_differs(work, data_cfg)
        if stale:
            parser.error(f"{data_file} was built {stale}: add --rebuild-data")
    data = load_data(data_file)
    if args.rescore:
        from training.transformer.card import rescore

        rescore(data, work, model_path, quick=args.quick)
        print(f"rewrote the card of {model_path}")
        return 0
    if args.evaluate_only:
        state = torch.load(work / "model.pt", weights_only=False)
        model = CompoundTransformer(ModelConfig(**state["model_config"]))
        model.load_state_dict(state["model"])
        log = torch.load(work / "checkpoint.pt", weights_only=False)["log"]
    else:
        model, log = train(data, model_cfg, train_cfg, work, resume=args.resume)
    from training.transformer.card import finish

    finish(model, data, work, model_path, train_cfg, log, quick=args.quick)
    print(f"wrote {model_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
