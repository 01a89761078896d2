"""``kelly ctl VERB`` and ``kelly status``: send one verb to the running performance.

The verbs are the modules of :mod:`kelly_actors.verbs`: each adds its arguments, builds
its request and renders the reply; this module only connects, sends and maps failures to
exit codes: 0 done, 1 refused (or bad arguments), 2 nothing running or no answer;
``kelly status`` exits 1 when nothing runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from kelly_actors.supervisor.client import ControlClient, NoAnswer, NotRunning, Refused
from kelly_actors.supervisor.rundir import RunDir
from kelly_actors.verbs import VERBS
from kelly_actors.verbs import status as status_verb
from kelly_actors.verbs.verb import Request, UsageError

EXIT_OK, EXIT_REFUSED, EXIT_NOT_RUNNING = 0, 1, 2


def send(cli: argparse.Namespace, request: Request) -> tuple[int, dict[str, Any]]:
    """Send ``request`` to the performance ``cli`` names; the exit code and the result."""
    try:
        client = ControlClient(
            RunDir(cli.run_dir), timeout=cli.timeout, connect=cli.connect or "", keys=cli.keys
        )
        with client:
            return EXIT_OK, client.request(request.cmd, **request.args)
    except (NotRunning, NoAnswer) as exc:
        print(f"kelly: {exc}", file=sys.stderr)
        return EXIT_NOT_RUNNING, {}
    except Refused as exc:
        print(f"kelly: refused ({exc.code}): {exc}", file=sys.stderr)
        return EXIT_REFUSED, {}


def perform(verb: ModuleType, args: argparse.Namespace) -> int:
    """Build ``verb``'s request from ``args``, send it, print what it renders."""
    try:
        request = verb.request(args)
    except UsageError as exc:
        print(f"kelly ctl {verb.NAME}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    code, result = send(args, request)
    if code == EXIT_OK:
        print(verb.render(result, args))
    return code


def _ctl(args: argparse.Namespace) -> int:
    return perform(args.verb, args)


def _status(args: argparse.Namespace) -> int:
    code = perform(status_verb, args)
    return EXIT_REFUSED if code == EXIT_NOT_RUNNING else code


def add_client_options(parser: argparse.ArgumentParser, *, after_verb: bool = False) -> None:
    """``--timeout``, ``--connect`` and ``--keys``; on a verb (``after_verb``) their default
    is SUPPRESS, so they may follow the verb without undoing the same options before it."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if after_verb else value

    parser.add_argument(
        "--timeout", type=float, default=default(5.0), help="seconds to wait for an answer (5)"
    )
    parser.add_argument(
        "--connect",
        metavar="tcp://HOST:PORT",
        default=default(None),
        help="a remote performance's control endpoint (supervisor.remote_control)",
    )
    parser.add_argument(
        "--keys",
        type=Path,
        metavar="DIR",
        default=default(None),
        help="CurveZMQ keys (kelly keys generate) for --connect",
    )


def add_actions(actions: argparse._SubParsersAction) -> None:
    """One sub-command per verb; the parsed arguments carry the verb module as ``verb``."""
    for verb in VERBS:
        parser = actions.add_parser(verb.NAME, help=verb.HELP)
        verb.add_arguments(parser)
        add_client_options(parser, after_verb=True)
        parser.set_defaults(verb=verb)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``status`` and ``ctl`` to the ``kelly`` parser."""
    status = subparsers.add_parser("status", help="show the running performance")
    status_verb.add_arguments(status)
    add_client_options(status)
    status.set_defaults(func=_status)

    ctl = subparsers.add_parser("ctl", help="control the running performance")
    add_client_options(ctl)
    add_actions(ctl.add_subparsers(dest="action", required=True))
    ctl.set_defaults(func=_ctl)
