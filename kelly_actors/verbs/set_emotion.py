"""Set the emotion directly (the performer's override), as valence (−1…1), arousal (0…1)
and dominance (0…1); the composer refuses values out of range.

Request: `{"cmd": "call", "args": {"actor": "composer", "method": "set_emotion",
"args": {"valence": 0.6, "arousal": 0.8, "dominance": 0.7}}}`

Reply: the point, its nearest named emotion and the bar it applies from:
`{"valence": 0.6, "arousal": 0.8, "dominance": 0.7, "nearest": "…", "from_bar": 12}`.
"""

from __future__ import annotations

import argparse

from kelly_actors.verbs.composer_target import COMPOSER, add_composer_option
from kelly_actors.verbs.verb import Request, actor_call, json_line

NAME = "set-emotion"
HELP = "set the emotion: valence arousal dominance"
ACTORS = (COMPOSER,)
METHOD = "set_emotion"
render = json_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("valence", type=float, help="−1…1")
    parser.add_argument("arousal", type=float, help="0…1")
    parser.add_argument("dominance", type=float, help="0…1")
    add_composer_option(parser)


def request(args: argparse.Namespace) -> Request:
    values = {"valence": args.valence, "arousal": args.arousal, "dominance": args.dominance}
    return actor_call(args.composer, METHOD, values)
