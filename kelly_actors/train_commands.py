"""``kelly train KIND [...]``: run one of the training pipelines in ``training/``.

Each pipeline is a package ``training.<kind>`` with a ``__main__`` taking its
own arguments (``--quick`` for a smoke run, ``--help`` for the rest); torch
comes with the ``train`` extra.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys

KINDS = ("emotion", "transformer", "ddsp")


def _train(args: argparse.Namespace) -> int:
    module = f"training.{args.kind}"
    if importlib.util.find_spec("torch") is None:
        print(
            "kelly train: torch is not installed; pip install 'kelly-actors[train]'",
            file=sys.stderr,
        )
        return 1
    if importlib.util.find_spec(module) is None:
        print(f"kelly train: no training pipeline {module!r} in this installation", file=sys.stderr)
        return 1
    return subprocess.call([sys.executable, "-m", module, *args.rest])


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train",
        help="train a model (emotion, transformer, ddsp)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("kind", choices=KINDS)
    train.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the pipeline")
    train.set_defaults(func=_train)
