"""``kelly run [CONFIG]``: run a performance in this terminal until it stops.

This process is the run's watchdog (:mod:`kelly_actors.supervisor.watchdog`): it checks the
configuration, then forks the supervisor, and a successor that adopts the run whenever the
supervisor dies. Before the first fork it settles the audio device for the whole run
(``--audio-device``, else the automatic choice of :mod:`kelly_actors.audio.backends.choice`).
What the run does is said by a console process beside it
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
from typing import TYPE_CHECKING

from kelly_actors.config import performance
from kelly_actors.config.typed import ConfigError
from kelly_actors.console.run_lines import RunFacts
from kelly_actors.files import NotPrivate, private_dir
from kelly_actors.supervisor.rundir import RunDir, default_run_dir

if TYPE_CHECKING:
    from kelly_actors.audio.backends.choice import AudioChoice

#: The actor ``--audio-device`` sets up (the built-in performance's and the examples').
AUDIO_ACTOR = "audio"
#: ``--audio-device auto`` (and ``backend = "auto"``): the automatic choice.
AUTO = "auto"


def _audio_device(name: str) -> dict[str, str]:
    """``jack``: the native JACK client (compiled callback); ``null``: clocked silence;
    ``auto``: the automatic choice; anything else: a PortAudio device."""
    if name in ("jack", "null", AUTO):
        return {"backend": name}
    return {"backend": "sounddevice", "device": name}


def choose_audio(
    config: performance.PerformanceConfig, args: argparse.Namespace
) -> tuple[performance.PerformanceConfig, AudioChoice | None]:
    """The performance with its audio device settled for the whole run: ``--audio-device``,
    else the automatic choice wherever the config says ``backend = "auto"`` (probed here,
    in the watchdog, once: every supervisor and actor incarnation inherits the result)."""
    from kelly_actors.audio.backends.choice import resolve

    if args.audio_device is not None:
        config = performance.with_options(config, AUDIO_ACTOR, **_audio_device(args.audio_device))
    return resolve(config)


def audio_choice(
    config: performance.PerformanceConfig,
    args: argparse.Namespace,
    choice: AudioChoice | None = None,
    recording: bool = False,
) -> str:
    """Why the audio device that plays was chosen, in words for the start lines."""
    from kelly_actors.audio.backends.choice import SILENT

    if choice is not None and choice.silent:
        keep = (
            "the take is recorded to listen to afterwards"
            if recording
            else "add --record DIR to keep the music"
        )
        return f"{SILENT}; {keep} ({choice.why})"
    if choice is not None:
        how = "--audio-device auto" if args.audio_device == AUTO else "chosen automatically"
        return f"{how}: {choice.why}"
    if args.audio_device is not None:
        return f"chosen with --audio-device {args.audio_device}"
    try:
        options = config.actor(AUDIO_ACTOR).options
    except KeyError:
        return "this performance has no actor named audio"
    backend = options.get("backend", "the audio actor's default")
    if args.config is not None:
        return f"{backend} as set in {args.config}"
    return f"{backend}, the built-in performance's choice; add --audio-device jack|NAME"


def _stdout_is_read() -> bool:
    """False when stdout is closed or ``/dev/null``: then nobody reads what the run says."""
    try:
        out = os.fstat(sys.stdout.fileno())
        null = os.stat(os.devnull)
    except (OSError, ValueError):
        return False
    return not (stat.S_ISCHR(out.st_mode) and out.st_rdev == null.st_rdev)


def _console_facts(
    config: performance.PerformanceConfig,
    args: argparse.Namespace,
    started: float,
    tag: str,
    choice: AudioChoice | None,
) -> RunFacts:
    default = args.run_dir == default_run_dir()
    record_dir = config.supervisor.record_dir or ""
    return RunFacts(
        run_dir=str(args.run_dir),
        config=str(args.config) if args.config else "",
        actors=tuple(a.name for a in config.actors),
        record_dir=record_dir,
        audio_choice=audio_choice(config, args, choice, bool(record_dir)),
        started=started,
        watchdog_pid=os.getpid(),
        tag=tag,
        run_dir_option="" if default else f"--run-dir {shlex.quote(str(args.run_dir))}",
        silent=choice is not None and choice.silent,
    )


def _record_dir(args: argparse.Namespace, choice: AudioChoice | None) -> Path | None:
    """``--record``; else ``--record-if-silent`` when the automatic choice found no device."""
    if args.record is not None:
        return args.record
    if args.record_if_silent is not None and choice is not None and choice.silent:
        return args.record_if_silent
    return None


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
    record = None
    try:
        config, choice = choose_audio(config, args)
        record = _record_dir(args, choice)
        if record is not None:
            private_dir(record)
            config = performance.with_record_dir(config, str(record.resolve()))
    except ConfigError as exc:
        print(f"kelly run: {exc}", file=sys.stderr)
        return 1
    except NotPrivate as exc:
        print(f"kelly run: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"kelly run: cannot create {record}: {exc.strerror}", file=sys.stderr)
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
        console = run_console.start(_console_facts(config, args, started, namespace.tag, choice))
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
        "--record-if-silent",
        type=Path,
        metavar="DIR",
        help="record into DIR when the automatic choice finds no audio device (scripts/run "
        "gives takes/DATE-TIME); --record wins",
    )
    parser.add_argument(
        "--audio-device",
        metavar="NAME",
        help="jack: a native JACK client with a compiled callback; null: silence on a clock; "
        "auto: a running JACK server, else PortAudio's default output, else null (the "
        "built-in performance's choice); anything else: this PortAudio device (name "
        "substring, e.g. system)",
    )
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="say nothing on stdout (errors still go to stderr); otherwise the start, "
        "notable events, a live status line in a terminal, and a summary at the end",
    )
    parser.set_defaults(func=run)
