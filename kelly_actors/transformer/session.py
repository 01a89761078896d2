"""The exported step model under onnxruntime, with its key/value cache.

``StepSession(path).run(tokens, emotion, cache)``: ``tokens`` int64
``[B, S, N_FIELDS]``, ``emotion`` float32 ``[B, 2]`` (valence, arousal; a row of NaN
asks a model trained with condition dropout for its unconditional logits), the
cache a pair of float32 ``[layers, B, heads, T, head_dim]`` arrays → per-field
logits (float32 ``[B, S, FIELD_SIZES[f]]``) and the cache grown by ``S``.

The step model's input shapes change on every call: a prompt of 1 … ``max_len - 97``
tokens on an empty cache, then one token at a time on a cache one longer each time.
onnxruntime's *memory pattern* (on by default) is made for shapes that repeat: it
records a run's allocations keyed by its input shapes, keeps that plan for the
session's life and serves the next run of those shapes as one block cut from the
session's arena. With shapes that keep changing, every new prompt or cache length is a
new plan and a new block, for as long as new lengths turn up — in a performance, for
hours: the inference actor grew ~19 MiB/h in its first 12 minutes, still 3 MiB/h after
40 (docs/performance.md, "Soak"). So every step session runs without it: each tensor is
taken from the arena and given back when the run is done with it, memory follows the
largest run so far (~1 MiB/h over the same 12 minutes), and 4,000 variations take as
long either way (±5 %).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kelly_actors.transformer import vocab as V

Cache = tuple[np.ndarray, np.ndarray]
#: The shipped model, resolved from the package so any working directory works.
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "transformer.onnx"


class ModelError(RuntimeError):
    """The model file is missing, unreadable or not a compound-transformer step model."""


@dataclass(frozen=True)
class ModelInfo:
    layers: int
    heads: int
    head_dim: int
    max_len: int
    #: Trained with condition dropout: a NaN emotion row gives the unconditional logits.
    null_condition: bool = False


def resolve(path: str | os.PathLike[str] | None) -> Path:
    """A model path: absolute as given, relative ones against the repository root."""
    if path is None or str(path) == "":
        return DEFAULT_MODEL
    p = Path(path)
    return p if p.is_absolute() else DEFAULT_MODEL.parents[1] / p


def session_options(threads: int = 1):
    """onnxruntime options for a model whose input shapes change from call to call."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_mem_pattern = False
    return options


class StepSession:
    """One onnxruntime session of the step model, single-threaded by default."""

    def __init__(
        self,
        path: str | os.PathLike[str] | bytes | None = None,
        threads: int = 1,
        name: str = "transformer.onnx",
    ) -> None:
        """``path`` a model file, or the model's bytes (as sent to a worker; ``name``
        then stands in for the path in messages)."""
        import onnxruntime as ort

        if isinstance(path, bytes):
            source: str | bytes = path
            self.path = Path(name)
        else:
            self.path = resolve(path)
            if not self.path.is_file():
                raise ModelError(f"transformer model not found: {self.path}")
            source = str(self.path)
        try:
            self.session = ort.InferenceSession(
                source, session_options(threads), providers=["CPUExecutionProvider"]
            )
            meta = self.session.get_modelmeta().custom_metadata_map
            config = json.loads(meta["kelly.config"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"transformer model {self.path} is unusable: {exc}") from None
        if meta.get("kelly.kind") != "compound-transformer" or tuple(config["sizes"]) != tuple(
            V.FIELD_SIZES
        ):
            raise ModelError(f"{self.path} is not a compound-transformer of this vocabulary")
        self.info = ModelInfo(
            int(config["layers"]),
            int(config["heads"]),
            int(config["head_dim"]),
            int(config["max_len"]),
            bool(config.get("null_condition", False)),
        )
        self.metadata = dict(meta)
        self.outputs = [f"logits_{f}" for f in V.FIELDS] + ["present_keys", "present_values"]

    def empty_cache(self, batch: int = 1) -> Cache:
        i = self.info
        empty = np.zeros((i.layers, batch, i.heads, 0, i.head_dim), np.float32)
        return empty, empty.copy()

    def run(
        self, tokens: np.ndarray, emotion: np.ndarray, cache: Cache
    ) -> tuple[list[np.ndarray], Cache]:
        """Feed ``S`` new tokens after the cached ones; see the module docstring for shapes."""
        if cache[0].shape[3] + tokens.shape[1] > self.info.max_len:
            raise ValueError(f"sequence longer than the model's {self.info.max_len} positions")
        out = self.session.run(
            self.outputs,
            {
                "tokens": np.ascontiguousarray(tokens, np.int64),
                "emotion": np.ascontiguousarray(emotion, np.float32),
                "past_keys": cache[0],
                "past_values": cache[1],
            },
        )
        return out[: V.N_FIELDS], (out[-2], out[-1])
