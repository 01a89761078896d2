"""Training runs started from the page: ``kelly train KIND …`` as a subprocess.

One run at a time (training takes every core this machine has). Each run gets its own
directory under the settings' ``training_dir`` (its models, checkpoints and data, and
``output.log``: the run's stdout and stderr), and runs in its own process group so
*cancel* (SIGTERM, SIGKILL after :data:`CANCEL_GRACE_S`) ends the pipeline with it.

Progress comes from the file ``kelly train`` already publishes,
``<run dir>/training/<kind>-<pid>.json`` (training/progress.py): :meth:`Trainer.watch`
reads it twice a second and keeps a loss curve from its ``extra`` (``loss 0.123``).
A run that ended shows its exit code, the last lines of its output, and the models it
wrote (offered for ``load-model`` when their kind can be loaded live).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from kelly_actors.cli.train import KINDS
from kelly_actors.supervisor.training_runs import TRAINING_DIR

#: ``kelly train ddsp`` needs one of these.
INSTRUMENTS = ("violin", "cello", "trumpet", "flute")
CANCEL_GRACE_S = 10.0
TAIL_LINES = 40
MAX_LOSS_POINTS = 2000
_LOSS = re.compile(r"loss\s+(-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)")


class TrainingError(ValueError):
    """A run that cannot start: the message says why (shown on the page)."""


def pipeline_args(kind: str, job: Path, quick: bool, options: dict[str, Any]) -> list[str]:
    """The pipeline's arguments for a run in ``job``: ``--quick``, the outputs inside
    ``job``, and the page's options (``steps`` or ``epochs`` and ``seed`` as integers,
    ``instrument`` for ddsp); :class:`TrainingError` for anything else."""
    if kind not in KINDS:
        raise TrainingError(f"unknown training kind {kind!r}; one of {', '.join(KINDS)}")
    known = {"seed", "steps", "instrument"}
    if unknown := sorted(set(options) - known):
        raise TrainingError(f"unknown option(s) {', '.join(unknown)}")
    args = ["--quick"] if quick else []
    for name in ("seed", "steps"):
        value = options.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**7:
            raise TrainingError(f"{name} must be a whole number from 0 to 10000000")
        flag = "--epochs" if (name == "steps" and kind == "emotion") else f"--{name}"
        args += [flag, str(value)]
    if kind == "ddsp":
        instrument = options.get("instrument")
        if instrument not in INSTRUMENTS:
            raise TrainingError(f"ddsp needs an instrument: one of {', '.join(INSTRUMENTS)}")
        args += ["--instrument", instrument, "--out", str(job), "--checkpoints", str(job / "ckpt")]
    elif kind == "emotion":
        args += ["--out", str(job), "--checkpoints", str(job / "ckpt")]
    else:
        args += ["--work", str(job / "work"), "--model", str(job / "transformer.onnx")]
    return args


def _tail(path: Path, lines: int = TAIL_LINES) -> list[str]:
    try:
        with path.open(errors="replace") as f:
            return [line.rstrip("\n") for line in deque(f, lines)]
    except OSError:
        return []


class Trainer:
    """The page's training run (at most one at a time) and its state for the page."""

    def __init__(self, run_dir: Path, training_dir: Path) -> None:
        self.run_dir = run_dir
        self.training_dir = training_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.job: Path | None = None
        self.kind = ""
        self.argv: list[str] = []
        self.started = 0.0
        self.progress: dict[str, Any] = {}
        self.loss: list[tuple[int, float]] = []
        self.cancelled = False
        self._seen = 0.0

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, kind: str, quick: bool, options: dict[str, Any]) -> dict[str, Any]:
        """Start ``kelly train KIND …``; :class:`TrainingError` if one runs or bad options."""
        if self.running:
            raise TrainingError(f"a {self.kind} run is still going: cancel it first")
        job = self.training_dir / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}"
        args = pipeline_args(kind, job, quick, options)
        job.mkdir(parents=True, exist_ok=True)
        self.argv = [sys.executable, "-m", "kelly_actors.cli", "--run-dir", str(self.run_dir)]
        self.argv += ["train", kind, *args]
        with (job / "output.log").open("wb") as log:
            self.proc = subprocess.Popen(
                self.argv, cwd=job, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        self.job, self.kind, self.started = job, kind, time.time()
        self.progress, self.loss, self.cancelled, self._seen = {}, [], False, 0.0
        return self.state()

    def cancel(self) -> dict[str, Any]:
        """SIGTERM the run's process group (SIGKILL later if it lingers)."""
        if not self.running or self.proc is None:
            raise TrainingError("no training run is going")
        self.cancelled = True
        os.killpg(self.proc.pid, signal.SIGTERM)
        return self.state()

    def progress_file(self) -> Path | None:
        if self.proc is None:
            return None
        return self.run_dir / TRAINING_DIR / f"{self.kind}-{self.proc.pid}.json"

    def refresh(self) -> bool:
        """Read the progress file; True when something changed."""
        path = self.progress_file()
        if path is None:
            return False
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            return False
        if not isinstance(state, dict) or state.get("time") == self._seen:
            return False
        self._seen = state.get("time", 0.0)
        self.progress = {k: state.get(k) for k in ("stage", "done", "total", "fraction",
                                                   "eta_s", "extra", "exit_code")}  # fmt: skip
        match = _LOSS.search(str(state.get("extra") or ""))
        if match and len(self.loss) < MAX_LOSS_POINTS:
            step = state.get("done") if isinstance(state.get("done"), int) else len(self.loss)
            self.loss.append((step, float(match.group(1))))
        return True

    def state(self) -> dict[str, Any]:
        """What the page shows: kind, state, progress, loss curve, the output's tail
        once ended, the models written."""
        if self.proc is None or self.job is None:
            return {"state": "idle"}
        code = self.proc.poll()
        if code is None:
            state = "cancelling" if self.cancelled else "running"
        elif self.cancelled:
            state = "cancelled"
        else:
            state = "finished" if code == 0 else f"failed (exit {code})"
        models = sorted(p.name for p in self.job.glob("*.onnx")) if code == 0 else []
        return {
            "state": state,
            "kind": self.kind,
            "job": self.job.name,
            "command": " ".join(["kelly", *self.argv[5:]]),
            "started": self.started,
            "exit_code": code,
            "progress": self.progress,
            "loss": self.loss,
            "tail": _tail(self.job / "output.log") if code is not None else [],
            "models": [f"{self.job.name}/{m}" for m in models],
        }

    async def watch(self, publish: Any) -> None:
        """Until cancelled: push the state to the pages whenever it changes."""
        last: dict[str, Any] = {}
        cancelled_at = 0.0
        while True:
            self.refresh()
            state = self.state()
            if state != last:
                last = state
                publish({"type": "training", "job": state})
            if self.cancelled and self.running and self.proc is not None:
                cancelled_at = cancelled_at or time.monotonic()
                if time.monotonic() - cancelled_at > CANCEL_GRACE_S:
                    os.killpg(self.proc.pid, signal.SIGKILL)
            await asyncio.sleep(0.5)

    def close(self) -> None:
        """End a run still going (the server is stopping)."""
        if self.running and self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(CANCEL_GRACE_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
