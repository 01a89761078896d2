"""``kelly doctor [CONFIG]``: the pre-show self-test, with figures.

Exit codes: 0 every check passed, 1 a check failed (or bad input).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kelly_actors.cli.endpoints import EXIT_FAILED, EXIT_OK
from kelly_actors.config import performance
from kelly_actors.config.typed import ConfigError

#: The repository's models/ (what `kelly doctor` checks unless told otherwise).
DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def doctor(args: argparse.Namespace) -> int:
    from kelly_actors.console.doctor.run import DoctorOptions, report, run_checks

    if not 0 < args.max_load <= 1:
        print("kelly doctor: --max-load must be within (0, 1]", file=sys.stderr)
        return EXIT_FAILED
    try:
        config = performance.load(args.config)
    except ConfigError as exc:
        print(f"kelly doctor: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"kelly doctor: {args.config or 'the built-in performance'}")
    options = DoctorOptions(args.models, args.max_load, args.run_dir, args.record)
    results = run_checks(config, options)
    return EXIT_OK if report(results, sys.stdout) else EXIT_FAILED


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("doctor", help="pre-show self-test with figures")
    parser.add_argument("config", nargs="?", type=Path, help="performance TOML (default: built in)")
    parser.add_argument(
        "--models", type=Path, default=DEFAULT_MODELS_DIR, metavar="DIR",
        help="shipped models to load (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--max-load", type=float, default=0.7, metavar="FRACTION",
        help="CPU load per block that fails the headroom check (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--record", type=Path, metavar="DIR",
        help="the recordings directory to check for privacy (as given to kelly run --record)",
    )  # fmt: skip
    parser.set_defaults(func=doctor)
