"""The transformer's step model as the inference actor and its workers serve it.

Its input shapes change on every call: a variation is one prompt (1 … ``max_len - 97``
tokens on an empty cache) and then one token at a time on a cache that grows by one
per note. onnxruntime's *memory pattern* (on by default) is made for models whose shapes
repeat: it records the allocations of a run, keyed by its input shapes, keeps that plan
for as long as the session lives, and serves the next run of those shapes as one block
cut from the session's arena. With shapes that keep changing, every prompt length and
cache length not seen before is a new plan and a new block: the arena and the plans grow
for as long as new lengths turn up, which in a performance is for hours (a long-tailed
mix of bar lengths): the inference actor's RSS rose ~19 MiB/h in its first 12 minutes,
still 3 MiB/h after 40 (docs/performance.md, "Soak"). Without it, each tensor is taken
from the arena and given back when the run no longer needs it, so memory follows the
largest run so far, not the history of shapes: ~1 MiB/h in the same 12 minutes, as
little as the synths', and 4,000 variations take as long either way (±5 %).
"""

from __future__ import annotations

import onnxruntime as ort

from kelly_actors.transformer.session import StepSession


def session_options(threads: int = 1) -> ort.SessionOptions:
    """Options for a model whose input shapes change from call to call."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_mem_pattern = False
    return options


def load_step_session(data: bytes, name: str, threads: int = 1) -> StepSession:
    """A checked :class:`StepSession` of ``data`` that runs with :func:`session_options`.

    Raises ``kelly_actors.transformer.session.ModelError`` for a file that is not a step
    model, as :class:`StepSession` does.
    """
    step = StepSession(data, threads, name=name)  # checks the file and reads its shapes
    # StepSession makes its session with onnxruntime's defaults: this one replaces it
    # (same bytes, same provider), made for changing shapes.
    step.session = ort.InferenceSession(
        data, session_options(threads), providers=["CPUExecutionProvider"]
    )
    return step
