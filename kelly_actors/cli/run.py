"""``kelly run [CONFIG]``: run a performance in this terminal until it stops.

Exit codes: 0 stopped cleanly (``kelly ctl stop``, a signal, ``--duration``), 1 bad
configuration or another performance already runs here, 3 escalated (an actor kept
crashing beyond the restart intensity).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kelly_actors.config import performance
from kelly_actors.config.typed import ConfigError
from kelly_actors.files import NotPrivate, private_dir
from kelly_actors.supervisor.rundir import RunDir


def _audio_device(name: str) -> dict[str, str]:
    """``jack``: the native JACK client (compiled callback); anything else: a PortAudio device."""
    if name == "jack":
        return {"backend": "jack"}
    return {"backend": "sounddevice", "device": name}


def run(args: argparse.Namespace) -> int:
    from kelly_actors import verbs
    from kelly_actors.supervisor.supervisor import AlreadyRunning, run_performance

    try:
        config = performance.load(args.config)
    except ConfigError as exc:
        print(f"kelly run: {exc}", file=sys.stderr)
        return 1
    if args.duration is not None and args.duration <= 0:
        print("kelly run: --duration must be positive", file=sys.stderr)
        return 1
    try:
        if args.record is not None:
            private_dir(args.record)
            config = performance.with_record_dir(config, str(args.record.resolve()))
        if args.audio_device is not None:
            config = performance.with_options(config, "audio", **_audio_device(args.audio_device))
    except ConfigError as exc:
        print(f"kelly run: {exc}", file=sys.stderr)
        return 1
    except NotPrivate as exc:
        print(f"kelly run: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"kelly run: cannot create {args.record}: {exc.strerror}", file=sys.stderr)
        return 1
    name = str(args.config) if args.config else "default"
    try:
        return run_performance(config, RunDir(args.run_dir), name, args.duration, verbs.served())
    except (ConfigError, AlreadyRunning, ValueError, NotPrivate) as exc:
        print(f"kelly run: {exc}", file=sys.stderr)
        return 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run a performance")
    parser.add_argument("config", nargs="?", type=Path, help="performance TOML (default: built in)")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument(
        "--record", type=Path, metavar="DIR", help="record audio, MIDI and run.json"
    )
    parser.add_argument(
        "--audio-device",
        metavar="NAME",
        help="jack: a native JACK client with a compiled callback; anything else: this "
        "PortAudio device (name substring, e.g. system)",
    )
    parser.set_defaults(func=run)
