"""Text → emotion accuracy on the labelled set, against the old analyser.

Scores :func:`kelly_actors.composer.emotion.text.analyse` on
``benchmarks/data/text_emotion.tsv`` (200 tuning sentences, 50 held out by a
fixed sha256 rule and never tuned on): quadrant accuracy with a Wilson 95 %
interval, the confusion matrices (printed as Markdown for docs/emotions.md),
per-category accuracy, how often a stated wish lands in its quadrant, valence
and arousal error. The baseline is the analyser as it was before VADER and the
norms (thesaurus words only), loaded from git history at ``BASELINE_COMMIT``,
scored on the same sentences; if git or that commit is not available the
baseline figures are null and ``baseline_error`` says why. Speed: mean time
per sentence for both, and the time to analyse 1 MB of text.

    python benchmarks/text_emotion.py [--quick]

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kelly_actors.composer.emotion import evaluate  # noqa: E402
from kelly_actors.composer.emotion.text import analyse  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "text_emotion.tsv"
#: The labelled set's own commit: text.py there is the analyser before this work.
BASELINE_COMMIT = "9a42c3f"
BASELINE_PATH = "kelly_actors/composer/emotion/text.py"


def _baseline():
    """The old ``analyse`` from git history (its thesaurus and pad are unchanged)."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{BASELINE_COMMIT}:{BASELINE_PATH}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    module = types.ModuleType("text_before_vader")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, f"{BASELINE_COMMIT}:{BASELINE_PATH}", "exec"), module.__dict__)
    return module.analyse


def _ms_per_sentence(fn, texts: list[str], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for text in texts:
            fn(text)
        best = min(best, time.perf_counter() - start)
    return 1000.0 * best / len(texts)


def _summary(score: evaluate.Score) -> dict:
    lo, hi = score.interval()
    return {
        "accuracy": round(score.accuracy, 4),
        "interval95": [round(lo, 4), round(hi, 4)],
        "n": score.n,
        "desire_accuracy": round(score.desire_accuracy, 4),
        "valence_mae": round(score.valence_mae, 4),
        "arousal_mae": round(score.arousal_mae, 4),
        "by_category": {k: f"{ok}/{n}" for k, (ok, n) in score.by_category.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one timing repeat (< 1 min)")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 5
    rows = evaluate.load(DATA)
    held = evaluate.heldout_names(r.text for r in rows)
    if any((r.split == "heldout") != (r.text in held) for r in rows):
        raise SystemExit("the split column does not follow the held-out rule")
    tune = [r for r in rows if r.split == "tune"]
    heldout = [r for r in rows if r.split == "heldout"]
    new_tune, new_held = evaluate.score(tune, analyse), evaluate.score(heldout, analyse)
    print("## tuning set (200)\n" + evaluate.confusion_table(new_tune))
    print("\n## held-out set (50)\n" + evaluate.confusion_table(new_held))
    texts = [r.text for r in rows]
    megabyte = "I lost the baby. We won! 😭 " * ((1 << 20) // 27)
    start = time.perf_counter()
    analyse(megabyte)
    megabyte_ms = 1000.0 * (time.perf_counter() - start)
    result = {
        "quadrant_accuracy": round(new_tune.accuracy, 4),
        "heldout_quadrant_accuracy": round(new_held.accuracy, 4),
        "heldout_interval95": _summary(new_held)["interval95"],
        "tune": _summary(new_tune),
        "heldout": _summary(new_held),
        "ms_per_sentence": round(_ms_per_sentence(analyse, texts, repeats), 4),
        "megabyte_ms": round(megabyte_ms, 1),
    }
    try:
        old = _baseline()
    except (OSError, subprocess.SubprocessError) as exc:
        result["baseline_error"] = f"old analyser not loadable from git: {exc}"
        result["baseline_quadrant_accuracy"] = None
        result["baseline_heldout_quadrant_accuracy"] = None
    else:
        old_tune, old_held = evaluate.score(tune, old), evaluate.score(heldout, old)
        result["baseline_quadrant_accuracy"] = round(old_tune.accuracy, 4)
        result["baseline_heldout_quadrant_accuracy"] = round(old_held.accuracy, 4)
        result["baseline_heldout_interval95"] = _summary(old_held)["interval95"]
        old_ms = _ms_per_sentence(old, texts, repeats)
        result["baseline_ms_per_sentence"] = round(old_ms, 4)
        result["time_ratio_vs_baseline"] = round(result["ms_per_sentence"] / old_ms, 2)
        print("\n## old analyser, held-out set\n" + evaluate.confusion_table(old_held))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
