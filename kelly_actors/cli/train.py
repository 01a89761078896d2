"""``kelly train KIND [...]``: run one of the training pipelines in ``training/``.

Each pipeline is a package ``training.<kind>`` with a ``__main__`` taking its
own arguments (``--quick`` for a smoke run, ``--help`` for the rest); torch
comes with the ``train`` extra.

Progress goes to the terminal and, unless ``--no-publish``, to
``<run dir>/training/<kind>-<pid>.json``, where a performance's status and
``kelly top`` show it (kelly_actors/supervisor/training_runs.py); the exit
code is added there when the pipeline ends.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from kelly_actors.supervisor.training_runs import ENV_FILE, ENV_NAME, TRAINING_DIR, write_state

KINDS = ("emotion", "transformer", "ddsp")
DESCRIPTION = (
    "Run one of the training pipelines in training/ (needs the train extra: torch). "
    "Arguments after KIND go to the pipeline: --quick for a smoke run, --help for the rest. "
    "Progress goes to the terminal and, unless --no-publish, to the run directory, where "
    "kelly status and kelly top show it; the pipeline's exit code is kelly train's."
)


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
    if args.no_publish:
        return subprocess.call([sys.executable, "-m", module, *args.rest])
    target = Path(args.run_dir) / TRAINING_DIR / f"{args.kind}-{os.getpid()}.json"
    env = {**os.environ, ENV_FILE: str(target), ENV_NAME: args.kind}
    code = subprocess.call([sys.executable, "-m", module, *args.rest], env=env)
    _record_exit(target, args.kind, code)
    return code


def _record_exit(target: Path, kind: str, code: int) -> None:
    """Add the pipeline's exit code to its progress file (made if it never published)."""
    try:
        state = json.loads(target.read_text())
    except (OSError, ValueError):
        state = None
    if not isinstance(state, dict):
        state = {"run": kind, "stage": "", "done": 0, "total": 1, "fraction": 0.0,
                 "eta_s": 0.0, "extra": "", "pid": os.getpid()}  # fmt: skip
    state.update(exit_code=code, time=time.time())
    try:
        write_state(target, state)
    except OSError as exc:
        print(f"kelly train: progress file not updated ({exc})", file=sys.stderr)


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train",
        help="train a model (emotion, transformer, ddsp)",
        description=DESCRIPTION,
    )
    train.add_argument(
        "--no-publish",
        action="store_true",
        help="do not publish progress to the run directory (kelly top)",
    )
    train.add_argument("kind", choices=KINDS, metavar="KIND", help=", ".join(KINDS))
    train.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the pipeline")
    train.set_defaults(func=_train)
