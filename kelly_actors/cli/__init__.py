"""The ``kelly`` command line, one module per program.

``kelly run`` (:mod:`.run`), ``kelly status`` and ``kelly ctl`` (:mod:`.ctl`, the verbs of
:mod:`kelly_actors.verbs`), ``kelly top`` / ``doctor`` / ``log`` (:mod:`.top`,
:mod:`.doctor`, :mod:`.log`), ``kelly train`` (:mod:`.train`), ``kelly worker`` and
``kelly keys`` (:mod:`.worker`), ``kelly compose`` and ``kelly emotions``
(:mod:`.compose`), ``kelly service`` (:mod:`.service`). Each module's
``register(subparsers)`` adds its program; each program returns the process exit code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kelly_actors.supervisor.rundir import default_run_dir


def build_parser() -> argparse.ArgumentParser:
    from kelly_actors.cli import compose, ctl, doctor, log, run, service, top, train, worker

    parser = argparse.ArgumentParser(prog="kelly", description="The ``kelly`` command line.")
    parser.add_argument(
        "--run-dir",
        type=Path,
        default=default_run_dir(),
        help="where the running performance keeps its endpoints (default: %(default)s)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for program in (run, ctl, compose, train, top, doctor, log, worker, service):
        program.register(sub)
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
