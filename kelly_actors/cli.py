"""The ``kelly`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kelly_actors.composer import ctl_commands as composer_ctl
from kelly_actors.config import performance
from kelly_actors.config.typed import ConfigError
from kelly_actors.inference import ctl_commands as inference_ctl
from kelly_actors.supervisor.client import ControlClient, NoAnswer, NotRunning, Refused
from kelly_actors.supervisor.rundir import RunDir, default_run_dir

EXIT_OK, EXIT_REFUSED, EXIT_NOT_RUNNING = 0, 1, 2


def _audio_device(name: str) -> dict[str, str]:
    """``jack``: the native JACK client (compiled callback); anything else: a PortAudio device."""
    if name == "jack":
        return {"backend": "jack"}
    return {"backend": "sounddevice", "device": name}


def _run(args: argparse.Namespace) -> int:
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
            args.record.mkdir(parents=True, exist_ok=True)
            config = performance.with_record_dir(config, str(args.record.resolve()))
        if args.audio_device is not None:
            config = performance.with_options(config, "audio", **_audio_device(args.audio_device))
    except ConfigError as exc:
        print(f"kelly run: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"kelly run: cannot create {args.record}: {exc.strerror}", file=sys.stderr)
        return 1
    name = str(args.config) if args.config else "default"
    try:
        return run_performance(config, RunDir(args.run_dir), name, args.duration)
    except (ConfigError, AlreadyRunning, ValueError) as exc:
        print(f"kelly run: {exc}", file=sys.stderr)
        return 1


def _client_call(cli: argparse.Namespace, cmd: str, /, **cmd_args: Any) -> tuple[int, dict]:
    try:
        client = ControlClient(
            RunDir(cli.run_dir), timeout=cli.timeout, connect=cli.connect or "", keys=cli.keys
        )
        with client:
            return EXIT_OK, client.request(cmd, **cmd_args)
    except NotRunning as exc:
        print(f"kelly: {exc}", file=sys.stderr)
        return EXIT_NOT_RUNNING, {}
    except NoAnswer as exc:
        print(f"kelly: {exc}", file=sys.stderr)
        return EXIT_NOT_RUNNING, {}
    except Refused as exc:
        print(f"kelly: refused ({exc.code}): {exc}", file=sys.stderr)
        return EXIT_REFUSED, {}


def _format_status(snap: dict[str, Any]) -> str:
    run = snap["run"]
    lines = [
        f"performance {run['tag']} (pid {run['pid']}), up {run['uptime_s']:.1f} s, {run['config']}"
    ]
    lines.append(
        f"{'ACTOR':<12}{'STATE':<11}{'PID':>8}{'RESTARTS':>10}{'CPU%':>7}{'RSS MB':>8}  LAST EXIT"
    )
    for a in snap["actors"]:
        rss = a["rss_bytes"] / 2**20
        lines.append(
            f"{a['name']:<12}{a['state']:<11}{a['pid'] or '-':>8}{a['restarts']:>10}"
            f"{a['cpu_percent']:>7.1f}{rss:>8.1f}  {a['last_exit'] or '-'}"
        )
    lines.append(f"{'RING':<12}{'CAP':>6}{'USED':>6}{'PEAK':>6}{'OVERRUNS':>10}{'UNDERRUNS':>11}")
    for r in snap["rings"]:
        lines.append(
            f"{r['name']:<12}{r['capacity']:>6}{r['used']:>6}{r['peak_used']:>6}"
            f"{r['overruns']:>10}{r['underruns']:>11}"
        )
    return "\n".join(lines)


def _status(args: argparse.Namespace) -> int:
    code, snap = _client_call(args, "status")
    if code == EXIT_NOT_RUNNING:
        return 1
    if code == EXIT_OK:
        print(json.dumps(snap, indent=2) if args.json else _format_status(snap))
    return code


def _ctl(args: argparse.Namespace) -> int:
    if args.action == "restart":
        code, result = _client_call(args, "restart", actor=args.actor)
    elif args.action == "stop":
        code, result = _client_call(args, "stop")
    elif args.action == "status":
        code, result = _client_call(args, "status")
        if code == EXIT_OK:
            print(json.dumps(result, indent=2) if args.json else _format_status(result))
        return code
    elif getattr(args, "ctl_call", None) is not None:
        actor, method, call_args = args.ctl_call(args)
        code, result = _client_call(args, "call", actor=actor, method=method, args=call_args)
    elif args.action == "call":
        try:
            call_args = json.loads(args.json_args)
        except json.JSONDecodeError as exc:
            print(f"kelly ctl call: ARGS is not JSON: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        if not isinstance(call_args, dict):
            print("kelly ctl call: ARGS must be a JSON object", file=sys.stderr)
            return EXIT_REFUSED
        code, result = _client_call(
            args, "call", actor=args.actor, method=args.method, args=call_args
        )
    else:
        code, result = _client_call(args, "ping")
    if code == EXIT_OK:
        print(json.dumps(result))
    return code


def _add_client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer")
    parser.add_argument(
        "--connect",
        metavar="tcp://HOST:PORT",
        help="a remote performance's control endpoint (supervisor.remote_control)",
    )
    parser.add_argument(
        "--keys", type=Path, metavar="DIR", help="CurveZMQ keys (kelly keys generate) for --connect"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kelly", description=__doc__)
    parser.add_argument(
        "--run-dir",
        type=Path,
        default=default_run_dir(),
        help="where the running performance keeps its endpoints (default: %(default)s)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a performance")
    run.add_argument("config", nargs="?", type=Path, help="performance TOML (default: built in)")
    run.add_argument("--duration", type=float, help="stop after this many seconds")
    run.add_argument("--record", type=Path, metavar="DIR", help="record audio, MIDI and run.json")
    run.add_argument(
        "--audio-device",
        metavar="NAME",
        help="jack: a native JACK client with a compiled callback; anything else: this "
        "PortAudio device (name substring, e.g. system)",
    )
    run.set_defaults(func=_run)

    status = sub.add_parser("status", help="show the running performance")
    status.add_argument("--json", action="store_true", help="one JSON object")
    _add_client_options(status)
    status.set_defaults(func=_status)

    ctl = sub.add_parser("ctl", help="control the running performance")
    _add_client_options(ctl)
    actions = ctl.add_subparsers(dest="action", required=True)
    restart = actions.add_parser("restart", help="restart one actor")
    restart.add_argument("actor")
    actions.add_parser("stop", help="stop the performance")
    ctl_status = actions.add_parser("status", help="one status snapshot (as kelly status)")
    ctl_status.add_argument("--json", action="store_true", help="one JSON object")
    actions.add_parser("ping", help="check the supervisor answers")
    call = actions.add_parser("call", help="send a command to one actor")
    call.add_argument("actor")
    call.add_argument("method")
    call.add_argument("json_args", nargs="?", default="{}", metavar="ARGS", help="JSON object")
    composer_ctl.register(actions)
    inference_ctl.register(actions)
    ctl.set_defaults(func=_ctl)

    for register in _feature_commands():
        register(sub)
    return parser


def _feature_commands() -> list[Any]:
    """``register(subparsers)`` of each feature package that adds commands."""
    from kelly_actors import train_commands
    from kelly_actors.composer import commands as composer_commands
    from kelly_actors.console import commands as console_commands
    from kelly_actors.inference import commands as inference_commands

    return [
        composer_commands.register,
        train_commands.register,
        console_commands.register,
        inference_commands.register,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # `kelly emotions | head`: the reader left; that is not an error.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
