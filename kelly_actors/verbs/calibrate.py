"""Calibrate a sensor against the performer's resting state: the OSC actor (the sensors'
bridge) opens a window of `--seconds` (default: the sensor's `calibrate_s`, 30 s) and,
when it closes, the median of the samples in it becomes the sensor's resting baseline —
the level the music treats as calm. Until then the sensor runs on its kind's default
baseline (70 bpm, 5 µS, 1 g), which status says (`baseline_source`). A window with fewer
than 3 samples leaves the baseline as it was (`calibration`: "failed: …"). A sensor the
performance does not have is refused (`not_found`). `--osc ACTOR` addresses another
bridge.

Request: `{"cmd": "call", "args": {"actor": "osc", "method": "calibrate",
"args": {"sensor": "heart_rate", "seconds": 30}}}` (`seconds` 0: the sensor's own)

Reply: the window opened: `{"sensor": "heart_rate", "seconds": 30.0,
"until_unix": 1764940000.0, "baseline": 70.0, "baseline_source": "default"}`; the
outcome shows in the OSC actor's telemetry (`sensors.heart_rate.baseline`,
`baseline_source`, `calibration`).
"""

from __future__ import annotations

import argparse

from kelly_actors.verbs.verb import Request, actor_call, json_line

NAME = "calibrate"
HELP = "take a sensor's resting baseline from the next seconds of its samples"
#: The OSC actor's name in the built-in performance (the sensors' bridge).
OSC = "osc"
ACTORS = (OSC,)
METHOD = "calibrate"
render = json_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sensor", help="the sensor's name in [[sensors]], e.g. heart_rate")
    parser.add_argument(
        "--seconds",
        type=float,
        default=0.0,
        help="the window, 1…600 s (default: the sensor's calibrate_s)",
    )
    parser.add_argument(
        "--osc", default=OSC, metavar="ACTOR", help="the sensors' bridge actor (%(default)s)"
    )


def request(args: argparse.Namespace) -> Request:
    return actor_call(args.osc, METHOD, {"sensor": args.sensor, "seconds": args.seconds})
