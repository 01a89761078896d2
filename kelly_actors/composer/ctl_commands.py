"""``kelly ctl`` actions for a running composer: feel, set-emotion, lock, unlock, panic.

:func:`register` adds them to the ``kelly ctl`` sub-parsers object. Each
sets ``ctl_call``: a function from the parsed arguments to
``(actor, method, call_args)``, which the CLI sends as a supervisor ``call``
(the composer validates the values and refuses bad ones with a message).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from kelly_actors.composer.live.fusion import AXES

#: The actor name these commands address.
COMPOSER = "composer"

CtlCall = Callable[[argparse.Namespace], tuple[str, str, dict[str, Any]]]


def feel_call(args: argparse.Namespace) -> tuple[str, str, dict[str, Any]]:
    return args.composer, "feel", {"text": args.text}


def set_emotion_call(args: argparse.Namespace) -> tuple[str, str, dict[str, Any]]:
    values = {"valence": args.valence, "arousal": args.arousal, "dominance": args.dominance}
    return args.composer, "set_emotion", values


def lock_call(args: argparse.Namespace) -> tuple[str, str, dict[str, Any]]:
    return args.composer, "lock", {"axis": args.axis}


def unlock_call(args: argparse.Namespace) -> tuple[str, str, dict[str, Any]]:
    return args.composer, "unlock", {"axis": args.axis}


def panic_call(args: argparse.Namespace) -> tuple[str, str, dict[str, Any]]:
    return args.composer, "panic", {}


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--composer", default=COMPOSER, metavar="ACTOR", help="composer actor name (%(default)s)"
    )


def register(actions: argparse._SubParsersAction) -> None:
    """Add ``feel``, ``set-emotion``, ``lock``, ``unlock`` and ``panic`` to ``kelly ctl``."""
    feel = actions.add_parser("feel", help="tell the composer how you feel, in words")
    feel.add_argument("text", help='e.g. "I feel grief, but I want to get to acceptance"')
    _target(feel)
    feel.set_defaults(ctl_call=feel_call)

    pad = actions.add_parser("set-emotion", help="set the emotion: valence arousal dominance")
    pad.add_argument("valence", type=float, help="−1…1")
    pad.add_argument("arousal", type=float, help="0…1")
    pad.add_argument("dominance", type=float, help="0…1")
    _target(pad)
    pad.set_defaults(ctl_call=set_emotion_call)

    for name, call, verb in (("lock", lock_call, "hold"), ("unlock", unlock_call, "release")):
        parser = actions.add_parser(name, help=f"{verb} one emotion axis at its current value")
        parser.add_argument("axis", choices=AXES)
        _target(parser)
        parser.set_defaults(ctl_call=call)

    panic = actions.add_parser("panic", help="all notes off now (the music goes on)")
    _target(panic)
    panic.set_defaults(ctl_call=panic_call)
