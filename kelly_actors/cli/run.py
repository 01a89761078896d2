"""``kelly run [CONFIG]``: run a performance in this terminal until it stops.

This process is the run's watchdog (:mod:`kelly_actors.supervisor.watchdog`): it checks the
configuration, then forks the supervisor, and a successor that adopts the run whenever the
supervisor dies. What the run does is said by a console process beside it
(:mod:`kelly_actors.console.run_console`), unless ``--quiet`` or stdout is ``/dev/null``.

Exit codes: 0 stopped cleanly (``kelly ctl stop``, a signal, ``--duration``), 1 bad
configuration, another performance already runs here, or the supervisor kept dying, 3
escalated (an actor kept crashing beyond the restart intensity).
"""

from __future__ import annotations

import argparse
import os
import shlex
import stat
import sys
import time
from pathlib import Path

from kelly_actors.config import performance
from kelly_actors.config.typed import ConfigError
from kelly_actors.console.run_lines import RunFacts
from kelly_actors.files import NotPrivate, private_dir
from kelly_actors.supervisor.rundir import RunDir, default_run_dir

#: The actor ``--audio-device`` sets up (the built-in performance's and the examples').
AUDIO_ACTOR = "audio"


def _audio_device(name: str) -> dict[str, str]:
    """``jack``: the native JACK client (compiled callback); anything else: a PortAudio device."""
    if name == "jack":
        return {"backend": "jack"}
    return {"backend": "sounddevice", "device": name}


def audio_choice(config: performance.PerformanceConfig, args: argparse.Namespace) -> str:
    """Why the audio device that plays was chosen, in words for the start lines."""
    if args.audio_device is not None:
        return f"chosen with --audio-device {args.audio_device}"
    try:
        options = config.actor(AUDIO_ACTOR).options
    except KeyError:
        return "this performance has no actor named audio"
    backend = options.get("backend", "the audio actor's default")
    if args.config is not None:
        return f"{backend} as set in {args.config}"
    return "the built-in performance's choice; add --audio-device jack|NAME to hear it"


def _stdout_is_read() -> bool:
    """False when stdout is closed or ``/dev/null``: then nobody reads what the run says."""
    try:
        out = os.fstat(sys.stdout.fileno())
        null = os.stat(os.devnull)
    except (OSError, ValueError):
        return False
    return not (stat.S_ISCHR(out.st_mode) and out.st_rdev == null.st_rdev)


def _console_facts(
    config: performance.PerformanceConfig, args: argparse.Namespace, started: float, tag: str
) -> RunFacts:
    default = args.run_dir == default_run_dir()
    return RunFacts(
        run_dir=str(args.run_dir),
        config=str(args.config) if args.config else "",
        actors=tuple(a.name for a in config.actors),
        record_dir=config.supervisor.record_dir or "",
        audio_choice=audio_choice(config, args),
        started=started,
        watchdog_pid=os.getpid(),
        tag=tag,
        run_dir_option="" if default else f"--run-dir {shlex.quote(str(args.run_dir))}",
    )


def run(args: argparse.Namespace) -> int:
    from kelly_actors import verbs
    from kelly_actors.bus.namespace import RunNamespace
    from kelly_actors.console import run_console
    from kelly_actors.supervisor.spawner import validate_actors
    from kelly_actors.supervisor.succession import AdoptionError
    from kelly_actors.supervisor.supervisor import AlreadyRunning, run_performance
    from kelly_actors.supervisor.watchdog import Watchdog

    started = time.time()
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
        validate_actors(config)  # in the watchdog: a bad option fails once, before any fork
    except ConfigError as exc:
        print(f"kelly run: {exc}", file=sys.stderr)
        return 1
    run_dir = RunDir(args.run_dir)
    deadline = None if args.duration is None else time.monotonic() + args.duration
    served = verbs.served()

    # The run's lock is taken here, in the watchdog, and inherited by every supervisor.
    namespace = RunNamespace.create()

    def start(successor_of: str | None) -> int:
        try:
            return run_performance(config, run_dir, name, served, deadline, successor_of, namespace)
        except (ConfigError, AlreadyRunning, AdoptionError, ValueError, NotPrivate) as exc:
            print(f"kelly run: {exc}", file=sys.stderr)
            return 1

    record_dir = Path(config.supervisor.record_dir) if config.supervisor.record_dir else None
    console = None
    if not args.quiet and _stdout_is_read():
        console = run_console.start(_console_facts(config, args, started, namespace.tag))
    companions = (console.pid,) if console is not None else ()
    watchdog = Watchdog(
        start, run_dir, config.supervisor.adoption_grace, namespace, record_dir, companions
    )
    code = watchdog.run()
    if console is not None:
        run_console.finish(console, code, watchdog.gave_up_because)
    return code


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
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="say nothing on stdout (errors still go to stderr); otherwise the start, "
        "notable events, a live status line in a terminal, and a summary at the end",
    )
    parser.set_defaults(func=run)
