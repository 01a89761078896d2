"""``kelly report [DIR] [-o FILE]``: the session report of a run or a recording.

One self-contained HTML page (plots inline, nothing fetched) and a PNG per plot beside
it; see docs/report.md. ``DIR`` is a recording (``kelly run --record DIR``) or a run
directory (default: the global ``--run-dir``). The page goes to ``DIR/report.html``
unless ``-o`` names another file. The web console runs exactly
``kelly report DIR -o DIR/report.html``: keep that form working.

Exit codes: 0 written; 1 refused (another user's directory, nothing to report, an
unwritable output) or matplotlib missing (``pip install 'kelly-actors[report]'``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1


def report(args: argparse.Namespace) -> int:
    from kelly_actors.report.build import MissingPlotting, build

    directory = Path(args.directory) if args.directory is not None else Path(args.run_dir)
    try:
        built = build(directory, Path(args.output) if args.output else None)
    except MissingPlotting as exc:
        print(f"kelly report: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # refused, nothing there, or the output cannot be written
        print(f"kelly report: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for note in built.missing:
        print(f"kelly report: missing: {note}", file=sys.stderr)
    print(
        f"{built.html} ({built.events} events, {built.bars} bars, "
        f"{len(built.pngs)} plots as PNG beside it; {built.seconds:.1f} s)"
    )
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="write the session report (HTML) of a run or a recording"
    )
    parser.add_argument(
        "directory",
        nargs="?",
        metavar="DIR",
        help="a recording (kelly run --record DIR) or a run directory (default: --run-dir)",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="the page to write (default: DIR/report.html)"
    )
    parser.set_defaults(func=report)
