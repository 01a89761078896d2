"""``kelly sensor simulate``: a realistic synthetic sensor stream over OSC, for demos and
tests (:mod:`kelly_actors.sensors.simulate` says what is realistic about it: beat-to-beat
variability, noise, skin conductance responses, a dropped packet now and then).

Each stream sweeps its range once a period (low at the start, high half-way). The
addresses default to the built-in performance's sensors (``/kelly/sensor/heart_rate``,
``/kelly/sensor/eda``, ``/kelly/sensor/motion``) on ``127.0.0.1:9000``.

Exit codes: 0 done (or interrupted), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
import time

from kelly_actors.osc.wire import encode
from kelly_actors.sensors.simulate import Settings, Sweep, cycle, packets, play

EXIT_OK, EXIT_USAGE = 0, 2


def _sweep(text: str) -> Sweep:
    try:
        return Sweep.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def settings_of(args: argparse.Namespace) -> Settings:
    return Settings(
        hr=args.hr,
        eda=args.eda,
        motion=args.motion,
        period_s=args.period,
        rate_hz=args.rate,
        drop=args.drop,
        seed=args.seed,
        hr_address=args.hr_address,
        eda_address=args.eda_address,
        motion_address=args.motion_address,
    )


def simulate(args: argparse.Namespace) -> int:
    if args.hr is None and args.eda is None and args.motion is None:
        print("kelly sensor simulate: give at least one of --hr, --eda, --motion", file=sys.stderr)
        return EXIT_USAGE
    problems = [
        f"--{name} must be {rule}"
        for name, ok, rule in (
            ("period", args.period > 0, "> 0 s"),
            ("rate", 0 < args.rate <= 1000, "within 0…1000 Hz"),
            ("drop", 0 <= args.drop < 1, "within 0…1"),
            ("duration", args.duration >= 0, ">= 0 s"),
            ("port", 1 <= args.port <= 65535, "within 1…65535"),
        )
        if not ok
    ]
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(args.host).version == 6 else socket.AF_INET
    except ValueError:
        problems.append(f"--host must be an IP address, got {args.host!r}")
    if problems:
        print("kelly sensor simulate: " + "; ".join(problems), file=sys.stderr)
        return EXIT_USAGE
    settings = settings_of(args)
    to = (args.host, args.port)
    sock = socket.socket(family, socket.SOCK_DGRAM)
    start = time.monotonic()
    shown = [start]

    def send(address: str, value: float) -> None:
        try:
            sock.sendto(encode(address, float(value)), to)
        except OSError:
            pass  # nobody listening (ECONNREFUSED) is not the simulator's problem
        now = time.monotonic()
        if not args.quiet and now - shown[0] >= 1.0:
            shown[0] = now
            u = cycle(now - start, settings.period_s)
            print(f"{now - start:6.1f} s  cycle {u:4.2f}  {address} {value:.2f}", flush=True)

    try:
        sent = play(packets(settings), send, args.duration)
    except KeyboardInterrupt:
        sent = -1
    finally:
        sock.close()
    if not args.quiet and sent >= 0:
        print(f"sent {sent} packets to {args.host}:{args.port}")
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sensor", help="sensor tools (simulate a stream)")
    sub = parser.add_subparsers(dest="sensor_command", required=True)
    sim = sub.add_parser(
        "simulate",
        help="send a realistic synthetic sensor stream over OSC",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sim.add_argument("--hr", type=_sweep, metavar="LOW..HIGH", help="heart rate (bpm)")
    sim.add_argument("--eda", type=_sweep, metavar="LOW..HIGH", help="skin conductance (µS)")
    sim.add_argument(
        "--motion", type=_sweep, metavar="LOW..HIGH", help="movement per axis (g, std)"
    )
    sim.add_argument("--period", type=float, default=60.0, help="the sweep's period (s)")
    sim.add_argument("--duration", type=float, default=0.0, help="stop after (s; 0: never)")
    sim.add_argument("--rate", type=float, default=20.0, help="EDA and motion samples/s")
    sim.add_argument("--drop", type=float, default=0.02, help="packet loss probability")
    sim.add_argument("--seed", type=int, default=0, help="the random stream")
    sim.add_argument("--host", default="127.0.0.1", help="Kelly's OSC address (%(default)s)")
    sim.add_argument("--port", type=int, default=9000, help="Kelly's OSC port (%(default)s)")
    defaults = Settings()
    for kind in ("hr", "eda", "motion"):
        default = getattr(defaults, f"{kind}_address")
        sim.add_argument(
            f"--{kind}-address", default=default, metavar="ADDRESS", help=f"(default {default})"
        )
    sim.add_argument("--quiet", action="store_true", help="print nothing")
    sim.set_defaults(func=simulate)
