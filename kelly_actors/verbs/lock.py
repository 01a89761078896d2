"""Hold one emotion axis (valence, arousal or dominance) at its current value: text,
inference and overrides no longer move it until `unlock`.

Request: `{"cmd": "call", "args": {"actor": "composer", "method": "lock",
"args": {"axis": "arousal"}}}`

Reply: the axis, the value it is held at and every held axis:
`{"axis": "arousal", "value": 0.8, "locks": {"arousal": 0.8}}`.
"""

from __future__ import annotations

import argparse

from kelly_actors.composer.live.fusion import AXES
from kelly_actors.verbs.composer_target import COMPOSER, add_composer_option
from kelly_actors.verbs.verb import Request, actor_call, json_line

NAME = "lock"
HELP = "hold one emotion axis at its current value"
ACTORS = (COMPOSER,)
METHOD = "lock"
render = json_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("axis", choices=AXES)
    add_composer_option(parser)


def request(args: argparse.Namespace) -> Request:
    return actor_call(args.composer, METHOD, {"axis": args.axis})
