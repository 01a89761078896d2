"""Does every shipped ONNX model load and run? Each with its warm-up time."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kelly_actors.console.doctor.result import FAIL, PASS, CheckResult

#: Runs after the warm-up that give the steady per-call time (median).
STEADY_RUNS = 5
_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64,
           "tensor(int64)": np.int64, "tensor(int32)": np.int32}  # fmt: skip


@dataclass(frozen=True)
class ModelTiming:
    """``warmup_ms``: first run after loading; ``steady_ms``: median of later runs."""

    name: str
    version: str
    load_ms: float
    warmup_ms: float
    steady_ms: float


def _version(path: Path) -> str:
    """``version`` from the model card ``<name>.json`` beside the model, if any."""
    try:
        card = json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return "no card"
    return str(card.get("version", "unversioned")) if isinstance(card, dict) else "bad card"


def time_model(path: Path) -> ModelTiming:
    """Load ``path`` on the CPU and run it on zeros (dynamic dimensions = 1)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    started = time.perf_counter()
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    load_ms = 1000 * (time.perf_counter() - started)
    feeds = {}
    for arg in session.get_inputs():
        if arg.type not in _DTYPES:
            raise ValueError(f"input {arg.name!r} has type {arg.type}, not a numeric tensor")
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in arg.shape]
        feeds[arg.name] = np.zeros(shape, _DTYPES[arg.type])
    times = []
    for _ in range(1 + STEADY_RUNS):
        started = time.perf_counter()
        session.run(None, feeds)
        times.append(1000 * (time.perf_counter() - started))
    return ModelTiming(path.stem, _version(path), load_ms, times[0], float(np.median(times[1:])))


def check_models(models_dir: Path) -> tuple[list[CheckResult], list[ModelTiming]]:
    """One result per ``*.onnx`` in ``models_dir``; a pass with a note when none is shipped."""
    paths = sorted(models_dir.glob("*.onnx")) if models_dir.is_dir() else []
    if not paths:
        return [CheckResult("models", PASS, f"no models shipped in {models_dir}")], []
    results, timings = [], []
    for path in paths:
        try:
            t = time_model(path)
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            results.append(CheckResult(f"model {path.stem}", FAIL, f"{path}: {exc}"))
            continue
        timings.append(t)
        results.append(
            CheckResult(
                f"model {t.name}",
                PASS,
                f"{t.version}: load {t.load_ms:.1f} ms, warm-up {t.warmup_ms:.2f} ms, "
                f"then {t.steady_ms:.3f} ms per call",
            )
        )
    return results, timings
