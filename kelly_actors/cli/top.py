"""``kelly top``: the live console (a Textual TUI), or with ``--once`` its panels as text.

Exit codes: 0 done, 1 bad ``--connect``/``--keys``, 2 nothing running (or no status in
``--timeout`` seconds).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kelly_actors.cli.endpoints import EXIT_NOT_RUNNING, EXIT_OK, endpoints_or_exit_code
from kelly_actors.console.connection import Endpoints


def top(args: argparse.Namespace) -> int:
    endpoints = endpoints_or_exit_code(args, "kelly top")
    if isinstance(endpoints, int):
        return endpoints
    if args.once:
        return _top_once(endpoints, args.timeout)
    from kelly_actors.console.top import TopApp

    return int(TopApp(endpoints, timeout=args.timeout).run() or 0)


def _top_once(endpoints: Endpoints, timeout: float) -> int:
    """Print the panels once as text (for scripts and a terminal without a TUI)."""
    from kelly_actors.console import ensemble, listening, view
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
        [
            *view.emotion_lines(snap),
            *ensemble.ensemble_lines(snap),
            *listening.agreement_lines(snap),
        ],
        view.music_lines(snap),
    )
    for lines in sections:
        print()
        print("\n".join(lines))
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("top", help="the live console (Textual TUI)")
    parser.add_argument(
        "--connect",
        metavar="ENDPOINT",
        help="a performance's ipc:///…/control.sock, or tcp://HOST:PORT with --keys",
    )
    parser.add_argument(
        "--keys", type=Path, metavar="DIR", help="CurveZMQ keys for a tcp:// endpoint"
    )
    parser.add_argument("--once", action="store_true", help="print the panels once and exit")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for answers")
    parser.set_defaults(func=top)
