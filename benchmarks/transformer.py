"""Transformer generation speed: the KV cache against a full re-run, and one bar's cost.

* ``tokens_per_s``: onnxruntime steps with the key/value cache, one token at a
  time over a real sequence (a piece the model generated), one thread;
* ``rerun_tokens_per_s``: the same tokens, re-running the whole prefix for each
  (what a model without a cache must do); ``ratio_vs_rerun`` = the two divided,
  both measured in this run on the same machine;
* ``bar_ms``: median wall time of one live bar (melody + counter over a rule
  composer bar: prompt of up to 192 tokens, then sampling under the grammar);
  ``bar_ms_p90`` its 90th percentile;
* ``worker_bar_ms``: the same bars asked of an inference worker process through
  the pool (request out, notes back over ZeroMQ), median; ``worker_overhead_ms``
  = that minus ``bar_ms``: what the trip to another process costs;
* ``free_bar_ms``: ``bar_ms`` under free decoding (classifier-free guidance: the
  model runs on a batch of two);
* ``free_mode_match``, ``free_density_rho``, ``free_velocity_rho``: controllability
  of free decoding on the product path (``kelly compose --engine transformer
  --decoding free`` at the four quadrant corners): the fraction of pieces whose
  Krumhansl mode matches the valence sign, and the Spearman ρ of arousal with notes
  per bar and with mean velocity (``free_pieces`` pieces of ``free_bars`` bars, seed
  1000 — not the card's seed); ``null_mode_match`` the same with a zero-logit model.

Targets (issue 7): ≥ 1 000 tokens/s with the cache on one core, a bar ≤ 50 ms;
(issue 12) free decoding: mode match ≥ 0.8, density and velocity ρ ≥ 0.6.

    python benchmarks/transformer.py [--quick] [--model PATH] [--tokens N]

The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from kelly_actors.composer.bar_composer import BarComposer
from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.mapper import map_emotion
from kelly_actors.composer.transformer_engine import DEFAULT_TRACKS, Variation
from kelly_actors.inference.config import PoolConfig
from kelly_actors.inference.pool import WorkerPool
from kelly_actors.transformer.generate import decoding_config
from kelly_actors.transformer.session import StepSession
from training.transformer import control


def cached(session: StepSession, sequence: np.ndarray, emotion: np.ndarray) -> float:
    """Seconds to feed ``sequence`` one token at a time with the cache."""
    cache = session.empty_cache()
    start = time.perf_counter()
    for row in sequence:
        _, cache = session.run(row[None, None], emotion, cache)
    return time.perf_counter() - start


def rerun(session: StepSession, sequence: np.ndarray, emotion: np.ndarray) -> float:
    """Seconds to compute the same next-token logits by re-running every prefix."""
    empty = session.empty_cache()
    start = time.perf_counter()
    for i in range(1, len(sequence) + 1):
        session.run(sequence[None, :i], emotion, empty)
    return time.perf_counter() - start


def bar_times(variation: Variation, bars: int) -> list[float]:
    """Wall ms of ``bars`` live bars over a rule composer at a high-arousal point."""
    composer, state = BarComposer(0), None
    params = map_emotion(PAD(0.5, 0.8, 0.6))
    times = []
    for bar in range(bars):
        notes, state = composer.compose_bar(bar, params, state)
        start = time.perf_counter()
        variation.bar(bar, notes, params)
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def worker_bar_times(variation: Variation, bars: int) -> list[float]:
    """Wall ms of ``bars`` bars served by one worker process (ask → notes back)."""
    composer, state = BarComposer(0), None
    params = map_emotion(PAD(0.5, 0.8, 0.6))
    with tempfile.TemporaryDirectory(prefix="kb-", dir="/tmp") as work:
        pool = WorkerPool(PoolConfig(workers=1), Path(work) / "w.sock", lambda *a, **k: None)
        try:
            pool.set_transformer("bench", variation.generator.session.path.read_bytes())
            deadline = time.monotonic() + 30
            while pool.ready_workers("bench") == 0:
                if time.monotonic() > deadline:
                    raise RuntimeError("the worker did not load the model in 30 s")
                pool.poll(time.monotonic())
                time.sleep(0.005)
            times = []
            for bar in range(bars):
                notes, state = composer.compose_bar(bar, params, state)
                payload = variation.request(bar, notes, params).to_bytes()
                start = time.perf_counter()
                pool.submit_variation(payload, time.monotonic() + 10.0)
                pool.dispatch(time.monotonic())
                results = []
                while not results:
                    pool.local.poll(100)  # the worker's answer wakes us
                    results = pool.poll(time.monotonic())
                times.append((time.perf_counter() - start) * 1000.0)
                variation.played(params.tempo_bpm, notes)
            return times
        finally:
            pool.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer tokens and bars (< 1 min)")
    parser.add_argument("--model", help="ONNX step model (default models/transformer.onnx)")
    parser.add_argument("--tokens", type=int, help="sequence length to time (default 256)")
    args = parser.parse_args()
    length = args.tokens or (128 if args.quick else 256)
    if length < 2:
        parser.error("--tokens must be >= 2")
    variation = Variation(args.model, DEFAULT_TRACKS, seed=0)
    session = variation.generator.session
    emotion = np.asarray([[0.5, 0.8]], np.float32)
    sequence = variation.generator.piece(0.5, 0.8, 16, np.random.default_rng(0))
    sequence = sequence[: min(length, session.info.max_len)]
    cached(session, sequence[:16], emotion)  # warm-up
    repeats = 2 if args.quick else 3
    t_cache = min(cached(session, sequence, emotion) for _ in range(repeats))
    t_rerun = rerun(session, sequence, emotion)
    bar_times(variation, 4)  # warm-up and history
    times = bar_times(variation, 16 if args.quick else 48)
    variation.history.clear()
    worker_bar_times(variation, 4)
    variation.history.clear()
    via_worker = worker_bar_times(variation, 16 if args.quick else 48)
    free = Variation(args.model, DEFAULT_TRACKS, seed=0, config=decoding_config("free"))
    bar_times(free, 4)
    free_times = bar_times(free, 16 if args.quick else 48)
    pieces, bars = (3, 4) if args.quick else (10, 8)
    rows = control.product_rows(control.variations(session, "free"), pieces, bars, 1000)
    free_control = control.summary(rows)
    null = control.ZeroLogits(session)
    null_rows = control.product_rows(control.variations(null, "free"), pieces, bars, 1000)
    result = {
        "benchmark": "transformer",
        "model": str(session.path.name),
        "parameters": int(session.metadata.get("kelly.parameters", 0)),
        "tokens": len(sequence),
        "tokens_per_s": round(len(sequence) / t_cache, 1),
        "rerun_tokens_per_s": round(len(sequence) / t_rerun, 1),
        "ratio_vs_rerun": round(t_rerun / t_cache, 2),
        "bar_ms": round(statistics.median(times), 2),
        "bar_ms_p90": round(float(np.percentile(times, 90)), 2),
        "bars": len(times),
        "worker_bar_ms": round(statistics.median(via_worker), 2),
        "worker_overhead_ms": round(statistics.median(via_worker) - statistics.median(times), 2),
        "free_bar_ms": round(statistics.median(free_times), 2),
        "free_mode_match": free_control["mode_matches_valence_sign"],
        "free_mode_match_ci95": free_control["mode_matches_valence_sign_ci95"],
        "free_density_rho": free_control["spearman_density_arousal"],
        "free_velocity_rho": free_control["spearman_velocity_arousal"],
        "null_mode_match": control.summary(null_rows)["mode_matches_valence_sign"],
        "free_pieces": len(rows),
        "free_bars": bars,
        "threads": 1,
        "machine": platform.machine(),
        "python": platform.python_version(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
