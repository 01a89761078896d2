"""``kelly web``: the local web console (the ``web`` extra: Starlette and uvicorn).

Serves the live view, control, models, training and takes of the performance in
``--run-dir`` until Ctrl-C. Bound to 127.0.0.1 with a random token in the printed URL;
another address needs ``--certfile``/``--keyfile`` (HTTPS) or ``--insecure-lan``.
Exit codes: 0 stopped, 1 bad settings, a missing extra, or the address taken.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from kelly_actors.config.typed import ConfigError

EXTRA = ("starlette", "uvicorn", "websockets", "markdown_it")
DESCRIPTION = (
    "Serve a web console for the performance in --run-dir: live status and emotion plots, "
    "control (feel, set-emotion, lock, panic, restart, stop), the models with their cards, "
    "training runs and the recorded takes. Bound to 127.0.0.1 with a random token in the "
    "URL it prints; needs the web extra (pip install 'kelly-actors[web]')."
)


def _web(args: argparse.Namespace) -> int:
    missing = [m for m in EXTRA if importlib.util.find_spec(m) is None]
    if missing:
        print(
            f"kelly web: {', '.join(missing)} not installed; pip install 'kelly-actors[web]'",
            file=sys.stderr,
        )
        return 1
    from kelly_actors.web import server, settings

    overrides = {
        "host": args.host,
        "port": args.port,
        "certfile": args.certfile,
        "keyfile": args.keyfile,
        "insecure_lan": args.insecure_lan or None,
        "run_dir": str(args.run_dir),
        "model_dirs": tuple(args.models) if args.models else None,
        "takes_dirs": tuple(args.takes) if args.takes else None,
        "train_dir": args.train_dir,
        "allowed_hosts": tuple(args.allow_host) if args.allow_host else None,
    }
    try:
        web_settings = settings.load(args.config, overrides)
    except ConfigError as exc:
        print(f"kelly web: {exc}", file=sys.stderr)
        return 1
    return server.serve(web_settings, args.url_file)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "web", help="a web console for the room (live view, control, models, training)",
        description=DESCRIPTION,
    )  # fmt: skip
    parser.add_argument("--config", type=Path, metavar="FILE", help="TOML with a [web] table")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port (default 8770; 0 = any free port)")
    parser.add_argument("--certfile", metavar="PEM", help="TLS certificate (HTTPS)")
    parser.add_argument("--keyfile", metavar="PEM", help="TLS private key (HTTPS)")
    parser.add_argument(
        "--insecure-lan",
        action="store_true",
        help="serve plain HTTP on a non-loopback --host anyway (prints a warning)",
    )
    parser.add_argument(
        "--allow-host", action="append", metavar="NAME", help="a host name the page may be "
        "opened with, e.g. the TLS certificate's (repeatable; IP addresses always work)",
    )  # fmt: skip
    parser.add_argument(
        "--models", action="append", metavar="DIR", help="a model directory (repeatable; "
        "default: the shipped models/)",
    )  # fmt: skip
    parser.add_argument(
        "--takes", action="append", metavar="DIR", help="a recordings directory (repeatable)"
    )
    parser.add_argument(
        "--train-dir", metavar="DIR", help="where page-started training writes "
        "(default: RUN_DIR/web-training)",
    )  # fmt: skip
    parser.add_argument("--url-file", type=Path, metavar="FILE", help="also write the URL here")
    parser.set_defaults(func=_web)
