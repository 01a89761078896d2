"""``kelly top``, ``kelly doctor`` and ``kelly log``.

``register(subparsers)`` adds them to the ``kelly`` parser; each handler
returns the exit code: 0 done, 1 failed (doctor: a check failed; bad input),
2 nothing running.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kelly_actors.config import performance
from kelly_actors.config.typed import ConfigError
from kelly_actors.console.connection import ConnectError, Endpoints, NotRunning, resolve
from kelly_actors.supervisor.rundir import RunDir

EXIT_OK, EXIT_FAILED, EXIT_NOT_RUNNING = 0, 1, 2
#: The repository's models/ (what `kelly doctor` checks unless told otherwise).
DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def _endpoints(args: argparse.Namespace, prog: str) -> Endpoints | int:
    try:
        return resolve(args.run_dir, args.connect, args.keys)
    except ConnectError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except NotRunning as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_NOT_RUNNING


def _top(args: argparse.Namespace) -> int:
    endpoints = _endpoints(args, "kelly top")
    if isinstance(endpoints, int):
        return endpoints
    if args.once:
        return _top_once(endpoints, args.timeout)
    from kelly_actors.console.top import TopApp

    return int(TopApp(endpoints, timeout=args.timeout).run() or 0)


def _top_once(endpoints: Endpoints, timeout: float) -> int:
    """Print the panels once as text (for scripts and a terminal without a TUI)."""
    from kelly_actors.console import view
    from kelly_actors.console.connection import StatusFeed
    from kelly_actors.console.top import wait_for_first_snapshot

    feed = StatusFeed(endpoints)
    try:
        if not wait_for_first_snapshot(feed, timeout):
            print(f"kelly top: no status from {endpoints.where} in {timeout:g} s", file=sys.stderr)
            return EXIT_NOT_RUNNING
        snap = feed.snapshot
        assert snap is not None
    finally:
        feed.close()
    writers = view.ring_writers(endpoints.config)
    for row in view.actor_rows(snap):
        flag = {"ok": " ", "degraded": "!", "failing": "✗"}[row.standing]
        print(f"{flag} {row.name:<10} {row.state:<10} pid {row.pid:>7} restarts {row.restarts} "
              f"cpu {row.cpu:>5}% rss {row.rss:>6} MiB hb {row.heartbeat:>5} s "
              f"misses {row.misses} {row.note}")  # fmt: skip
    sections = (
        view.ring_lines(snap, writers),
        view.audio_lines(snap, writers),
        view.emotion_lines(snap),
        view.music_lines(snap),
    )
    for lines in sections:
        print()
        print("\n".join(lines))
    return EXIT_OK


def _doctor(args: argparse.Namespace) -> int:
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
    results = run_checks(config, DoctorOptions(args.models, args.max_load))
    return EXIT_OK if report(results, sys.stdout) else EXIT_FAILED


def _log(args: argparse.Namespace) -> int:
    from kelly_actors.console.eventlog import print_log

    run_dir = RunDir(args.run_dir)
    if not run_dir.events_path.exists():
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
    """Add ``top``, ``doctor`` and ``log`` to the ``kelly`` parser."""
    top = subparsers.add_parser("top", help="the live console (Textual TUI)")
    top.add_argument(
        "--connect",
        metavar="ENDPOINT",
        help="a performance's ipc:///…/control.sock, or tcp://HOST:PORT with --keys",
    )
    top.add_argument("--keys", type=Path, metavar="DIR", help="CurveZMQ keys for a tcp:// endpoint")
    top.add_argument("--once", action="store_true", help="print the panels once and exit")
    top.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for answers")
    top.set_defaults(func=_top)

    doctor = subparsers.add_parser("doctor", help="pre-show self-test with figures")
    doctor.add_argument("config", nargs="?", type=Path, help="performance TOML (default: built in)")
    doctor.add_argument(
        "--models", type=Path, default=DEFAULT_MODELS_DIR, metavar="DIR",
        help="shipped models to load (default: %(default)s)",
    )  # fmt: skip
    doctor.add_argument(
        "--max-load", type=float, default=0.7, metavar="FRACTION",
        help="CPU load per block that fails the headroom check (default: %(default)s)",
    )  # fmt: skip
    doctor.set_defaults(func=_doctor)

    log = subparsers.add_parser("log", help="print the run's event log readably")
    log.add_argument(
        "--follow", "-f", action="store_true", help="keep printing until the run stops"
    )
    log.set_defaults(func=_log)
