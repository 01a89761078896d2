"""``kelly service install [CONFIG]`` / ``kelly service uninstall``: a systemd user unit.

``install`` checks that CONFIG loads (:func:`kelly_actors.config.performance.load`), then
writes ``~/.config/systemd/user/kelly.service`` (``--name``, ``--unit-dir``; ``--print``
writes it to stdout instead) that runs ``kelly run CONFIG``. ``kelly run`` is the run's
watchdog (:mod:`kelly_actors.supervisor.watchdog`): it says ``READY=1`` once the run is
published and ``WATCHDOG=1`` every ``WatchdogSec``/2 while a supervisor lives, so the unit
is ``Type=notify`` with ``WatchdogSec=``, and systemd restarts a run that failed or hung.
An existing unit is replaced only with ``--force``. ``uninstall`` removes the unit and the
link ``systemctl --user enable`` made. Neither calls ``systemctl``: each prints the
commands to run next.

Exit codes: 0 done, 1 refused (the config does not load, the unit exists without
``--force``, a bad ``--name``, a file that cannot be written), 2 nothing to uninstall.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from pathlib import Path

from kelly_actors.cli.endpoints import EXIT_FAILED, EXIT_NOT_RUNNING, EXIT_OK
from kelly_actors.config import performance
from kelly_actors.config.performance import PerformanceConfig
from kelly_actors.config.typed import ConfigError
from kelly_actors.files import atomic_write

DEFAULT_NAME = "kelly"
#: systemd kills a run it has not heard ``WATCHDOG=1`` from for this long (s); the watchdog
#: sends it every half of this.
WATCHDOG_S = 30
#: Seconds between a failure and the restart.
RESTART_S = 2
#: Seconds ``kelly run`` has to say ``READY=1`` (it does once the run is published, before
#: the actors start: well under a second; 60 leaves room for a cold disk and a slow import).
START_TIMEOUT_S = 60
#: Added to the actors' summed ``shutdown_timeout`` and the adoption grace for the stop
#: timeout (s): the supervisor's own shutdown and the watchdog's reaping.
STOP_MARGIN_S = 10
#: More failed starts than this within the interval (s) and systemd stops retrying.
START_LIMIT_BURST, START_LIMIT_INTERVAL_S = 5, 120
#: The real-time priority asked for; the limits.conf line ``@audio - rtprio 95`` matches.
RTPRIO = 95
_NAME = re.compile(r"[A-Za-z0-9:_.@-]+")


def default_unit_dir() -> Path:
    """``$XDG_CONFIG_HOME/systemd/user``, else ``~/.config/systemd/user``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def unit_file_name(name: str) -> str:
    """``kelly`` → ``kelly.service``; ValueError for a name systemd would not take."""
    stem = name.removesuffix(".service")
    if not _NAME.fullmatch(stem):
        raise ValueError(f"--name {name!r}: letters, digits and :_.@- only")
    return f"{stem}.service"


def kelly_command() -> list[str]:
    """How this installation's ``kelly`` starts, as absolute paths: the ``kelly`` script
    beside the interpreter (what ``pip install`` made from ``[project.scripts]``), else
    ``<interpreter> -m kelly_actors.cli``. The interpreter's path is kept as it is, not
    resolved: a virtual environment's ``python`` is a link, and resolving it would leave
    the environment."""
    python = Path(os.path.abspath(sys.executable))
    script = python.parent / "kelly"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [str(python), "-m", "kelly_actors.cli"]


def _quote(arg: str, variables: bool = True) -> str:
    """One word of a unit setting: ``%`` (specifiers) doubled, and ``$`` (variables, which
    ``ExecStart=`` expands and ``Environment=`` does not: ``variables``) doubled; a word
    with spaces or quotes goes in double quotes."""
    arg = arg.replace("%", "%%")
    if variables:
        arg = arg.replace("$", "$$")
    if re.fullmatch(r"[A-Za-z0-9_./:@+=,-]+", arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def stop_timeout(config: PerformanceConfig) -> int:
    """Seconds systemd waits after SIGTERM before SIGKILL: the supervisor stops the actors
    one after the other, each within its ``shutdown_timeout``; a supervisor dying meanwhile
    leaves them the adoption grace."""
    total = sum(spec.shutdown_timeout for spec in config.actors)
    return math.ceil(total + config.supervisor.adoption_grace + STOP_MARGIN_S)


def unit_text(
    config_path: Path | None,
    config: PerformanceConfig,
    name: str = DEFAULT_NAME,
    run_dir: Path | None = None,
    command: list[str] | None = None,
) -> str:
    """The unit ``name`` for ``kelly run`` of ``config_path`` (absolute; None: the built-in
    performance); ``run_dir`` only where it is not the service's default."""
    argv = list(command or kelly_command())
    by_module = argv[1:2] == ["-m"]
    if run_dir is not None:
        argv += ["--run-dir", str(run_dir)]
    argv.append("run")
    if config_path is not None:
        argv.append(str(config_path))
    exec_start = " ".join(_quote(a) for a in argv)
    what = str(config_path) if config_path is not None else "the built-in performance"
    environment = ["PYTHONUNBUFFERED=1"]
    if by_module:  # no installed script: the package is found where it is now
        package_root = Path(__file__).resolve().parents[2]
        environment.append(f"PYTHONPATH={package_root}")
    env_lines = "".join(f"Environment={_quote(e, variables=False)}\n" for e in environment)
    return f"""\
# Written by `kelly service install`. Start it with
#   systemctl --user daemon-reload && systemctl --user enable --now {name}
# and see its output with `journalctl --user -u {name}`.

[Unit]
Description=Kelly Actors live performance ({what})
StartLimitIntervalSec={START_LIMIT_INTERVAL_S}
StartLimitBurst={START_LIMIT_BURST}

[Service]
# `kelly run` is the run's watchdog: READY=1 once the run is published, WATCHDOG=1 every
# WatchdogSec/2 while a supervisor lives (a supervisor that dies is replaced inside the
# run; systemd restarts the whole run only when it fails or hangs).
Type=notify
NotifyAccess=main
WatchdogSec={WATCHDOG_S}
Restart=on-failure
RestartSec={RESTART_S}
TimeoutStartSec={START_TIMEOUT_S}
# SIGTERM to `kelly run` alone: it stops the supervisor, which stops the actors in order;
# whatever is left after TimeoutStopSec (the actors' shutdown_timeout summed, the adoption
# grace and a margin) is SIGKILLed.
KillMode=mixed
TimeoutStopSec={stop_timeout(config)}
ExecStart={exec_start}
{env_lines}# Real-time limits for the audio threads (JACK's and Kelly's SCHED_FIFO callback). A user
# unit gets them only up to the hard limits the user's service manager has, which come
# from /etc/security/limits.conf or limits.d at login (pam_limits), e.g.
#   @audio - rtprio {RTPRIO}
#   @audio - memlock unlimited
# with the user in the audio group; above that systemd sets the hard limit instead.
# CPUSchedulingPolicy= and Nice= are left out on purpose: they would apply to every
# process of the run, and only the audio callback needs real-time priority (it asks for
# it itself). `kelly doctor` shows the limits in force.
LimitRTPRIO={RTPRIO}
LimitMEMLOCK=infinity

[Install]
WantedBy=default.target
"""


def _service_default_run_dir() -> Path:
    """The run directory ``kelly run`` picks under the user's service manager, which sets
    ``XDG_RUNTIME_DIR=/run/user/<uid>`` and not ``KELLY_RUN_DIR``."""
    return Path(f"/run/user/{os.getuid()}") / "kelly"


def install(args: argparse.Namespace) -> int:
    try:
        file_name = unit_file_name(args.name)
    except ValueError as exc:
        print(f"kelly service: {exc}", file=sys.stderr)
        return EXIT_FAILED
    config_path = args.config.resolve() if args.config is not None else None
    try:
        config = performance.load(config_path)
    except ConfigError as exc:
        print(f"kelly service: the config does not load, no unit written: {exc}", file=sys.stderr)
        return EXIT_FAILED
    run_dir = Path(os.path.abspath(args.run_dir))
    stem = file_name.removesuffix(".service")
    own_run_dir = None if run_dir == _service_default_run_dir() else run_dir
    text = unit_text(config_path, config, stem, own_run_dir)
    if args.print:
        sys.stdout.write(text)
        return EXIT_OK
    unit = args.unit_dir / file_name
    if unit.exists() and not args.force:
        print(f"kelly service: {unit} exists (--force replaces it)", file=sys.stderr)
        return EXIT_FAILED
    try:
        args.unit_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(unit, text, mode=0o644)
    except OSError as exc:
        print(f"kelly service: cannot write {unit}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {unit}")
    print(f"next: systemctl --user daemon-reload && systemctl --user enable --now {stem}")
    later = (
        (f"journalctl --user -u {stem} -f", "its output"),
        ("loginctl enable-linger $USER", "to start at boot, without a login"),
    )
    for command, why in later:
        print(f"      {command:<34}# {why}")
    return EXIT_OK


def uninstall(args: argparse.Namespace) -> int:
    try:
        file_name = unit_file_name(args.name)
    except ValueError as exc:
        print(f"kelly service: {exc}", file=sys.stderr)
        return EXIT_FAILED
    unit = args.unit_dir / file_name
    # What `systemctl --user enable` made ([Install] WantedBy=default.target); `disable`
    # itself needs the unit file, so it is removed here with it.
    link = args.unit_dir / "default.target.wants" / file_name
    if not unit.exists() and not link.is_symlink():
        print(f"kelly service: no unit {unit} to remove", file=sys.stderr)
        return EXIT_NOT_RUNNING
    try:
        for path in (link, unit):
            if path.is_symlink() or path.exists():
                path.unlink()
                print(f"removed {path}")
    except OSError as exc:
        print(f"kelly service: cannot remove: {exc}", file=sys.stderr)
        return EXIT_FAILED
    stem = file_name.removesuffix(".service")
    print(f"next: systemctl --user stop {stem}; systemctl --user daemon-reload")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("service", help="install kelly run as a systemd user service")
    sub = parser.add_subparsers(dest="service_command", required=True)
    add = sub.add_parser("install", help="write the systemd user unit that runs kelly run")
    add.add_argument("config", nargs="?", type=Path, help="performance TOML (default: built in)")
    add.add_argument("--force", action="store_true", help="replace an existing unit")
    add.add_argument("--print", action="store_true", help="write the unit to stdout only")
    add.set_defaults(func=install)
    remove = sub.add_parser("uninstall", help="remove the unit (and its enable link)")
    remove.set_defaults(func=uninstall)
    for each in (add, remove):
        each.add_argument(
            "--name", default=DEFAULT_NAME, help="the unit's name (default: %(default)s)"
        )
        each.add_argument(
            "--unit-dir", type=Path, default=default_unit_dir(), metavar="DIR",
            help="where user units live (default: %(default)s)",
        )  # fmt: skip
