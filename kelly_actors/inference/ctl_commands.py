"""``kelly ctl load-model (emotion|ddsp) PATH``: swap a model in live.

``emotion`` goes to the inference actor (hot swap between two frames), ``ddsp``
to the synth (:mod:`kelly_actors.synth.ctl_commands`: a new timbre from the next
bar line). Either actor checks the new file first; a bad file is refused with
the reason and the running model stays. The path is made absolute here, because
the actor runs in another directory.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kelly_actors.synth import ctl_commands as synth_ctl

INFERENCE = "inference"


def load_model_call(args: argparse.Namespace) -> tuple[str, str, dict[str, Any]]:
    if args.kind == "ddsp":
        return synth_ctl.load_model_call(args)
    return args.actor or INFERENCE, "load_model", {"path": str(Path(args.path).resolve())}


def register(actions: argparse._SubParsersAction) -> None:
    """Add ``load-model`` to ``kelly ctl``."""
    parser = actions.add_parser("load-model", help="check a model file, then swap it in live")
    parser.add_argument("kind", choices=("emotion", "ddsp"), help="which model")
    parser.add_argument("path", help="the .onnx file")
    parser.add_argument("--actor", help="actor to address (default: inference or synth)")
    parser.set_defaults(ctl_call=load_model_call)
