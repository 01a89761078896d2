"""Where ``kelly top`` finds a performance: the run directory, or ``--connect``."""

from __future__ import annotations

import argparse
import sys

from kelly_actors.console.connection import ConnectError, Endpoints, NotRunning, resolve

EXIT_OK, EXIT_FAILED, EXIT_NOT_RUNNING = 0, 1, 2


def endpoints_or_exit_code(args: argparse.Namespace, prog: str) -> Endpoints | int:
    """The performance's endpoints, or the exit code after saying why there are none."""
    try:
        return resolve(args.run_dir, args.connect, args.keys)
    except ConnectError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except NotRunning as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_NOT_RUNNING
