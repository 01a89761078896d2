"""All notes off now; the music goes on from the next bar. The composer sends
all-notes-off on the synth ring and the MIDI port.

Request: `{"cmd": "call", "args": {"actor": "composer", "method": "panic"}}`

Reply: the sample it happened at, whether the ring took it and whether a MIDI port is
open: `{"sample": 96000, "ring": true, "midi": false}`.
"""

from __future__ import annotations

import argparse

from kelly_actors.verbs.composer_target import COMPOSER, add_composer_option
from kelly_actors.verbs.verb import Request, actor_call, json_line

NAME = "panic"
HELP = "all notes off now (the music goes on)"
ACTORS = (COMPOSER,)
METHOD = "panic"
render = json_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_composer_option(parser)


def request(args: argparse.Namespace) -> Request:
    return actor_call(args.composer, METHOD, {})
