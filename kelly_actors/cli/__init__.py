"""The ``kelly`` command line, one module per program.

``kelly run`` (:mod:`.run`), ``kelly status`` and ``kelly ctl`` (:mod:`.ctl`, the verbs of
:mod:`kelly_actors.verbs`), ``kelly top`` / ``doctor`` / ``log`` (:mod:`.top`,
:mod:`.doctor`, :mod:`.log`), ``kelly train`` (:mod:`.train`), ``kelly worker`` and
``kelly keys`` (:mod:`.worker`), ``kelly cluster`` (:mod:`.cluster`), ``kelly compose``
and ``kelly emotions`` (:mod:`.compose`), ``kelly service`` (:mod:`.service`), ``kelly completion``
(:mod:`.completion`), ``kelly sensor simulate`` (:mod:`.sensor`). Each module's
``register(subparsers)`` adds its program; each program returns the process exit code.
Every program takes the global options (:func:`add_global_options`) before or after its
name, and shows examples (:mod:`.examples`) under its ``--help``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from kelly_actors.cli.examples import add_examples
from kelly_actors.supervisor.rundir import default_run_dir

DESCRIPTION = (
    "Kelly Actors, a live, emotion-driven music companion: kelly run plays a performance; "
    "the other programs watch it, steer it and check the machine, or compose offline. "
    "Options before the program's name (--run-dir) may also come after it."
)

EXIT_CODES = """\
exit codes:
  0  done; kelly run: stopped cleanly (kelly ctl stop, Ctrl-C, --duration)
  1  failed or refused: bad configuration or input, a refused command, a failed
     check; kelly run: another performance runs in the run directory, or the
     supervisor kept dying; kelly status: nothing is running
  2  bad usage; nothing running or no answer (kelly ctl, top, log);
     kelly compose: bad input; kelly service uninstall: nothing to uninstall
  3  kelly run: escalated (an actor kept crashing beyond the restart intensity)"""


def version() -> str:
    try:
        return metadata.version("kelly-actors")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def add_global_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """The options every program takes. On a program (``top`` False) their default is
    SUPPRESS, so a value given before the program's name is not overwritten by none after it.
    """
    parser.add_argument(
        "--run-dir",
        type=Path,
        metavar="DIR",
        default=default_run_dir() if top else argparse.SUPPRESS,
        help="where the running performance keeps its endpoints and event log "
        f"(default: {default_run_dir()})",
    )


def subparsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every program under ``parser``, depth first (``kelly ctl``, ``kelly ctl feel``, …)."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, sub in action.choices.items():
            if sub.description is None and helps.get(name):
                sub.description = str(helps[name])[:1].upper() + str(helps[name])[1:] + "."
            yield sub
            yield from subparsers(sub)


def build_parser() -> argparse.ArgumentParser:
    from kelly_actors.cli import (
        cluster,
        completion,
        compose,
        ctl,
        doctor,
        log,
        report,
        run,
        sensor,
        service,
        top,
        train,
        web,
        worker,
    )

    parser = argparse.ArgumentParser(
        prog="kelly",
        description=DESCRIPTION,
        epilog=EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    add_global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="PROGRAM")
    programs = (
        run, ctl, compose, train, top, web, doctor, log, report, worker, cluster, service,
        completion, sensor,
    )  # fmt: skip
    for program in programs:
        program.register(sub)
    add_examples(parser)
    for program_parser in subparsers(parser):
        add_global_options(program_parser, top=False)
        add_examples(program_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # `kelly emotions | head`: the reader left; that is not an error.
        sys.stderr.close()
        return 0
