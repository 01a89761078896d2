"""The ``kelly compose`` and ``kelly emotions`` subcommands.

``register(subparsers)`` adds both to the runtime's argparse parser. Values
are validated here rather than by argparse types, so every mistake is one
clear line on stderr and exit code 2 (bad input) or 1 (could not write).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from typing import Any

from kelly_actors.composer import midi_file, orchestrator
from kelly_actors.composer.emotion import thesaurus
from kelly_actors.composer.emotion.intent import Strategy, plan
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.emotion.text import analyse
from kelly_actors.composer.mapper import MusicalParams, timeline
from kelly_actors.composer.orchestrator import Composition, compose_emotion

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_BARS = 100_000
#: ``--explain`` renders and hears every bar (about a second of CPU a bar here).
MAX_EXPLAIN_BARS = 256


class UsageError(ValueError):
    """Bad command-line input; the message is shown as is."""


@dataclass(frozen=True)
class _Request:
    current: PAD
    desired: PAD | None
    strategy: Strategy
    bars: int
    seed: int
    notes: tuple[str, ...]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``compose`` and ``emotions`` to an argparse subparsers object."""
    compose = subparsers.add_parser(
        "compose",
        help="compose a MIDI file from text, a named emotion or a PAD point",
        description="Offline composition: emotion → intent → music → Standard MIDI File.",
    )
    compose.add_argument("text", nargs="?", help='how you feel, e.g. "I feel grief but want peace"')
    compose.add_argument(
        "--emotion", metavar="NAME", help="a thesaurus emotion (see `kelly emotions`)"
    )
    compose.add_argument(
        "--pad", nargs=3, metavar=("V", "A", "D"), help="valence −1…1, arousal 0…1, dominance 0…1"
    )
    compose.add_argument("--to", metavar="TEXT|NAME", help="where to go: an emotion name or text")
    compose.add_argument(
        "--strategy", help="express | soothe | transform (default: transform with a goal)"
    )
    compose.add_argument("--bars", required=True, help="number of 4/4 bars (≥ 1)")
    compose.add_argument("--seed", default="0", help="random seed (integer, default 0)")
    compose.add_argument(
        "-o", "--output", required=True, metavar="FILE.mid", help="MIDI file to write"
    )
    compose.add_argument(
        "--engine", default="rules", help="rules | transformer | hybrid (default rules)"
    )
    compose.add_argument(
        "--tracks", help="hybrid: comma-separated tracks the transformer writes (melody,counter)"
    )
    compose.add_argument(
        "--model", metavar="FILE.onnx", help="transformer model (default models/transformer.onnx)"
    )
    compose.add_argument(
        "--decoding",
        default="scale",
        help="transformer decoding: scale (the key's scale, as live; default) | free "
        "(grammar only, the model alone with classifier-free guidance)",
    )
    compose.add_argument(
        "--explain",
        action="store_true",
        help="print each bar's target emotion, key, tempo, the engine or model that wrote each "
        "track, and what the listener (models/emotion.onnx) hears in the bar rendered by the "
        "DDSP synth",
    )
    compose.add_argument("--json", action="store_true", help="with --explain: one JSON object")
    compose.add_argument(
        "--render",
        help="with --explain: synth (the project's DDSP synth, as live; default) | fluidsynth "
        "(the MIDI file through FluidSynth's GM soundfont, drums too)",
    )
    compose.add_argument(
        "--listener",
        metavar="FILE.onnx",
        help="with --explain: the emotion model that listens (default models/emotion.onnx)",
    )
    compose.set_defaults(func=compose_command)

    emotions = subparsers.add_parser("emotions", help="list the 72-emotion thesaurus")
    emotions.add_argument("--json", action="store_true", help="print a JSON list of objects")
    emotions.set_defaults(func=emotions_command)


def _error(message: str, code: int) -> int:
    print(f"kelly: error: {message}", file=sys.stderr)
    return code


def _int(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be an integer, got {value!r}") from None
    if not low <= number <= high:
        raise UsageError(f"{name} must be in {low}..{high}, got {number}")
    return number


def _pad(values: list[str]) -> PAD:
    try:
        v, a, d = (float(x) for x in values)
    except ValueError:
        raise UsageError(f"--pad needs three numbers, got {' '.join(values)!r}") from None
    if not all(math.isfinite(x) for x in (v, a, d)):
        raise UsageError("--pad values must be finite numbers")
    if not (-1 <= v <= 1 and 0 <= a <= 1 and 0 <= d <= 1):
        raise UsageError(
            f"--pad out of range: valence {v} (−1…1), arousal {a} (0…1), dominance {d} (0…1)"
        )
    return PAD(v, a, d)


def _named(name: str) -> PAD:
    emotion = thesaurus.lookup(name)
    if emotion is None:
        raise UsageError(f"unknown emotion {name!r} (see `kelly emotions`)")
    return emotion.pad


def _source(args: argparse.Namespace) -> tuple[PAD, PAD | None, list[str]]:
    given = [x for x in (args.text, args.emotion, args.pad) if x is not None]
    if len(given) != 1:
        raise UsageError("give exactly one of TEXT, --emotion NAME or --pad V A D")
    if args.emotion is not None:
        return _named(args.emotion), None, []
    if args.pad is not None:
        return _pad(args.pad), None, []
    result = analyse(args.text)
    if result.confidence > 0:
        nearest = ", ".join(result.nearest)
        notes = [f"text: {nearest} (confidence {result.confidence:.2f})"]
    else:
        notes = [f"text: {result.reason}; starting from the neutral point"]
    return result.pad, result.desired, notes


def _target(to: str | None) -> tuple[PAD | None, list[str]]:
    if to is None:
        return None, []
    if thesaurus.lookup(to) is not None:
        return _named(to), []
    result = analyse(to)
    goal = result.desired or (result.pad if result.recognised else None)
    if goal is None:
        raise UsageError(f"--to {to!r}: no emotion recognised ({result.reason})")
    return goal, [f"goal: {', '.join(thesaurus_names(goal))}"]


def thesaurus_names(point: PAD) -> tuple[str, ...]:
    return tuple(e.name for e, _ in thesaurus.nearest(point, 3))


def _strategy(value: str | None, has_goal: bool) -> Strategy:
    if value is None:
        return Strategy.TRANSFORM if has_goal else Strategy.EXPRESS
    try:
        return Strategy(value.strip().lower())
    except ValueError:
        raise UsageError(f"unknown strategy {value!r} (express, soothe or transform)") from None


def _request(args: argparse.Namespace) -> _Request:
    bars = _int(args.bars, "--bars", 1, MAX_BARS)
    seed = _int(args.seed, "--seed", -(2**63), 2**63 - 1)
    current, desired, notes = _source(args)
    goal, goal_notes = _target(args.to)
    desired = goal if goal is not None else desired
    strategy = _strategy(args.strategy, desired is not None)
    return _Request(current, desired, strategy, bars, seed, tuple(notes + goal_notes))


def _summary(request: _Request, composition: Composition, path: str) -> str:
    keys = " → ".join(k.key.name for k in composition.key_changes)
    first, last = composition.tempo_changes[0].bpm, composition.tempo_changes[-1].bpm
    tempo = f"{first:.0f} bpm" if abs(first - last) < 0.5 else f"{first:.0f}→{last:.0f} bpm"
    return (
        f"wrote {path}: {composition.bars} bar{'s' if composition.bars != 1 else ''}, "
        f"{request.strategy.value}, {keys}, {tempo}, "
        f"{len(composition.tracks)} tracks, {len(composition.notes)} notes"
    )


def _compose(args: argparse.Namespace, request: _Request, observer: Any = None) -> Composition:
    """The rules alone, or with the transformer (``--engine``); imports it only when asked.
    ``observer`` (:class:`kelly_actors.cli.explain.Observer`) sees every bar as written."""
    engine = str(args.engine or "rules").strip().lower()
    if engine == "rules":
        if observer is None:
            return compose_emotion(
                request.current, request.desired, request.strategy, request.bars, request.seed
            )
        return orchestrator.compose(_timeline(request), request.seed, vary=observer)
    from kelly_actors.composer import transformer_engine as engines

    tracks = [t.strip() for t in args.tracks.split(",")] if args.tracks else engines.DEFAULT_TRACKS
    try:
        chosen = engines.engine_tracks(engine, tracks)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from kelly_actors.transformer.generate import decoding_config

    try:
        config = decoding_config(str(args.decoding or "scale").strip().lower())
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    variation = engines.Variation(args.model, chosen, request.seed, config)
    if observer is None:
        return engines.compose(_timeline(request), request.seed, variation)
    observer.inner, observer.model_tracks = variation.bar, chosen
    observer.model = variation.model_name
    return orchestrator.compose(_timeline(request), request.seed, vary=observer)


def _timeline(request: _Request) -> tuple[MusicalParams, ...]:
    trajectory = plan(request.current, request.desired, request.strategy, request.bars)
    return timeline(trajectory.points)


def _check_explain(args: argparse.Namespace, request: _Request) -> None:
    explain = getattr(args, "explain", False)
    render = getattr(args, "render", None)
    if not explain and (getattr(args, "json", False) or getattr(args, "listener", None) or render):
        raise UsageError("--json, --listener and --render go with --explain")
    if render is not None and render not in ("synth", "fluidsynth"):
        raise UsageError(f"unknown --render {render!r} (synth or fluidsynth)")
    if explain and request.bars > MAX_EXPLAIN_BARS:
        raise UsageError(f"--explain hears at most {MAX_EXPLAIN_BARS} bars, got {request.bars}")


def compose_command(args: argparse.Namespace) -> int:
    """Handler for ``kelly compose``; returns the exit code."""
    try:
        request = _request(args)
        _check_explain(args, request)
    except UsageError as exc:
        return _error(str(exc), EXIT_USAGE)
    observer = None
    if getattr(args, "explain", False):
        from kelly_actors.cli.explain import Observer

        observer = Observer()
    try:
        composition = _compose(args, request, observer)
    except UsageError as exc:
        return _error(str(exc), EXIT_USAGE)
    except RuntimeError as exc:  # ModelError: missing or unusable model file
        return _error(str(exc), EXIT_FAILED)
    try:
        midi_file.write(composition, args.output)
    except OSError as exc:
        return _error(f"cannot write {args.output!r}: {exc.strerror or exc}", EXIT_FAILED)
    summary = [*request.notes, _summary(request, composition, args.output)]
    if observer is not None:
        return _explain(args, observer, summary)
    print("\n".join(summary))
    return EXIT_OK


def _explain(args: argparse.Namespace, observer: Any, summary: list[str]) -> int:
    """Render and hear the bars; print the table (or JSON with ``--json``)."""
    from kelly_actors.cli import explain
    from kelly_actors.inference.config import DEFAULT_MODEL
    from kelly_actors.inference.model import ModelError

    render = args.render or "synth"
    try:
        report = explain.explain(observer.bars, args.listener or DEFAULT_MODEL, render, args.output)
    except ModelError as exc:
        return _error(f"--explain: the listener cannot run: {exc}", EXIT_FAILED)
    except explain.RenderError as exc:
        return _error(f"--explain: {exc}", EXIT_FAILED)
    if args.json:
        print(explain.dumps({"summary": summary, **report}))
    else:
        print("\n".join([*summary, *explain.table(report)]))
    return EXIT_OK


def emotions_command(args: argparse.Namespace) -> int:
    """Handler for ``kelly emotions``; returns the exit code."""
    emotions = thesaurus.all_emotions()
    if args.json:
        rows = [
            {
                "name": e.name,
                "valence": e.valence,
                "arousal": e.arousal,
                "dominance": e.dominance,
                "family": e.family,
                "tier": e.tier,
                "synonyms": list(e.synonyms),
                "source": e.source,
            }
            for e in emotions
        ]
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    print(f"{'name':<15} {'valence':>7} {'arousal':>7} {'dominance':>9}  {'family':<10} tier")
    for e in emotions:
        tier = thesaurus.TIER_NAMES[e.tier]
        coords = f"{e.valence:>7.2f} {e.arousal:>7.2f} {e.dominance:>9.2f}"
        print(f"{e.name:<15} {coords}  {e.family:<10} {tier}")
    return EXIT_OK
