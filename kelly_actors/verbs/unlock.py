"""Release an axis `lock` held: it follows text, inference and overrides again.

Request: `{"cmd": "call", "args": {"actor": "composer", "method": "unlock",
"args": {"axis": "arousal"}}}`

Reply: the axis and the axes still held: `{"axis": "arousal", "locks": {}}`.
"""

from __future__ import annotations

import argparse

from kelly_actors.composer.live.fusion import AXES
from kelly_actors.verbs.composer_target import COMPOSER, add_composer_option
from kelly_actors.verbs.verb import Request, actor_call, json_line

NAME = "unlock"
HELP = "release one emotion axis at its current value"
ACTORS = (COMPOSER,)
METHOD = "unlock"
render = json_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("axis", choices=AXES)
    add_composer_option(parser)


def request(args: argparse.Namespace) -> Request:
    return actor_call(args.composer, METHOD, {"axis": args.axis})
