"""``kelly worker`` (a remote inference worker) and ``kelly keys generate`` (CurveZMQ keys)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kelly_actors.bus import curve


def _worker(args: argparse.Namespace) -> int:
    from kelly_actors.inference.worker import run

    return run(args.connect, args.keys, args.provider, args.threads, args.cpu, None)


def _keys(args: argparse.Namespace) -> int:
    try:
        written = curve.generate(args.dir)
    except curve.KeyError_ as exc:
        print(f"kelly keys: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    print(
        f"copy {args.dir}/server.key, client.key and client.key_secret to the worker host; "
        "server.key_secret stays with the performance",
        file=sys.stderr,
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    worker = subparsers.add_parser(
        "worker", help="serve emotion inference for a performance on another host"
    )
    worker.add_argument(
        "--connect",
        required=True,
        metavar="tcp://HOST:PORT",
        help="the performance's inference remote_endpoint",
    )
    worker.add_argument(
        "--keys",
        type=Path,
        metavar="DIR",
        help="CurveZMQ keys from `kelly keys generate` (required for tcp://)",
    )
    worker.add_argument("--provider", default="cpu", choices=("cpu", "cuda"))
    worker.add_argument("--threads", type=int, default=1, help="onnxruntime threads (1)")
    worker.add_argument("--cpu", type=int, help="pin to this core")
    worker.set_defaults(func=_worker)

    keys = subparsers.add_parser("keys", help="CurveZMQ keys for remote workers")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    generate = keys_sub.add_parser("generate", help="write server and client key pairs to DIR")
    generate.add_argument("dir", type=Path)
    generate.set_defaults(func=_keys)
