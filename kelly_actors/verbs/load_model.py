"""Check a model file, then swap it in live. `emotion` goes to the inference actor (a hot
swap between two frames), `ddsp` to the synth (a new timbre from the next bar line; an
empty path `''` goes back to the preset voice). Either actor loads and probes the file
first; a bad file is refused (`refused`, with the reason) and the running model stays.
The path is made absolute by the console, because the actor runs in another directory.

Request: `{"cmd": "call", "args": {"actor": "inference", "method": "load_model",
"args": {"path": "/abs/models/emotion.onnx"}}}`, or for a timbre
`{"cmd": "call", "args": {"actor": "synth", "method": "load_model",
"args": {"kind": "ddsp", "path": "/abs/models/ddsp-cello.onnx"}}}`

Reply: from the inference actor `{"path": "…", "version": "emotion-3f2a…",
"swap": "at the next frame"}`; from the synth `{"timbre": "cello", "switch_at": 192000}`
(`"preset"` for the preset voice; `switch_at` the bar line's sample).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kelly_actors.verbs.verb import Request, actor_call, json_line

NAME = "load-model"
HELP = "check a model file, then swap it in live"
INFERENCE, SYNTH = "inference", "synth"
ACTORS = (INFERENCE, SYNTH)
METHOD = "load_model"
render = json_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=("emotion", "ddsp"), help="which model")
    parser.add_argument("path", help="the .onnx file")
    parser.add_argument("--actor", help="actor to address (default: inference or synth)")


def request(args: argparse.Namespace) -> Request:
    if args.kind == "ddsp":
        path = str(Path(args.path).resolve()) if args.path else ""
        return actor_call(args.actor or SYNTH, METHOD, {"kind": "ddsp", "path": path})
    return actor_call(args.actor or INFERENCE, METHOD, {"path": str(Path(args.path).resolve())})
