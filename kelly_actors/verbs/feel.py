"""Tell the composer how you feel, in words: it finds the emotions the text names (the
72-emotion thesaurus, intensifiers, negation, "but I want to get to …" journeys), steers
the music there from the next bar and answers what it understood. Text with no emotion
in it is refused (`refused`: "no emotion recognised …"). `--composer ACTOR` addresses
another composer.

Request: `{"cmd": "call", "args": {"actor": "composer", "method": "feel",
"args": {"text": "I feel grief, but I want to get to acceptance"}}}`

Reply: what the composer understood: `{"nearest": ["grief", …], "confidence": 0.8,
"desired": ["acceptance", …], "target": {"valence": …, "arousal": …, "dominance": …},
"from_bar": 12}` (`target` null when the text names no destination).
"""

from __future__ import annotations

import argparse

from kelly_actors.verbs.composer_target import COMPOSER, add_composer_option
from kelly_actors.verbs.verb import Request, actor_call, json_line

NAME = "feel"
HELP = "tell the composer how you feel, in words"
ACTORS = (COMPOSER,)
METHOD = "feel"
render = json_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help='e.g. "I feel grief, but I want to get to acceptance"')
    add_composer_option(parser)


def request(args: argparse.Namespace) -> Request:
    return actor_call(args.composer, METHOD, {"text": args.text})
