"""``kelly log [-f]``: the run's event log, readably; ``-f`` follows it until the run stops.

The rotated files (``events.jsonl.5`` … ``.1``) print first, oldest first, then
``events.jsonl``; ``-f`` goes on across a rotation.

Exit codes: 0 done, 2 no event log in the run directory.
"""

from __future__ import annotations

import argparse
import sys

from kelly_actors.cli.endpoints import EXIT_NOT_RUNNING, EXIT_OK
from kelly_actors.supervisor.rundir import RunDir


def log(args: argparse.Namespace) -> int:
    from kelly_actors.console.eventlog import print_log
    from kelly_actors.supervisor.events import rotated_paths

    run_dir = RunDir(args.run_dir)
    if not run_dir.events_path.exists() and not rotated_paths(run_dir.events_path):
        print(f"kelly log: no event log in {run_dir.path} (nothing has run there)", file=sys.stderr)
        return EXIT_NOT_RUNNING
    try:
        print_log(
            run_dir.events_path, args.follow, sys.stdout, lambda: run_dir.running() is not None
        )
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("log", help="print the run's event log readably")
    parser.add_argument(
        "--follow", "-f", action="store_true", help="keep printing until the run stops"
    )
    parser.set_defaults(func=log)
