"""Training runs that publish their progress into the run directory, for the status.

``kelly train`` has its pipeline write ``<run dir>/training/<kind>-<pid>.json``
(``training/progress.py``: stage, done/total, ETA, the last loss) at most once a
second, and adds the exit code when the pipeline ends. The status shows runs
still going and, for :data:`SHOW_ENDED_S`, those that ended.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kelly_actors.actor.pids import alive
from kelly_actors.files import atomic_write

TRAINING_DIR = "training"
#: Environment ``kelly train`` gives its pipeline: the JSON file to publish to, the run's name.
ENV_FILE = "KELLY_PROGRESS_FILE"
ENV_NAME = "KELLY_PROGRESS_NAME"
#: An ended run stays in the status this long (s).
SHOW_ENDED_S = 120.0
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "run": str,
    "stage": str,
    "done": int,
    "total": int,
    "fraction": (int, float),
    "eta_s": (int, float),
    "extra": str,
    "pid": int,
    "time": (int, float),
}


def training_runs(run_dir: Path, now: float) -> list[dict[str, Any]]:
    """Published runs, oldest first: each with its fields and ``state`` — running,
    finished, failed (exit code ≠ 0) or vanished (the process is gone without an
    exit code). ``now`` is Unix time. Unreadable or malformed files are skipped."""
    runs = []
    for path in sorted((run_dir / TRAINING_DIR).glob("*.json")):
        if path.name.startswith("."):
            continue  # a write in progress (files.atomic_write's hidden temporary)
        state = _read(path)
        if state is None:
            continue
        code = state.get("exit_code")
        if code is None and alive(state["pid"]):
            status = "running"
        elif now - state["time"] > SHOW_ENDED_S:
            continue
        elif code is None:
            status = "vanished"
        else:
            status = "finished" if code == 0 else f"failed (exit {code})"
        runs.append({**{k: state[k] for k in _FIELDS}, "state": status})
    return sorted(runs, key=lambda r: r["time"])


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace ``path`` with ``state`` as JSON in one step (a reader never sees half a
    file); OSError when the directory cannot be made or written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(state))


def _read(path: Path) -> dict[str, Any] | None:
    try:
        state = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    for name, kind in _FIELDS.items():
        value = state.get(name)
        if isinstance(value, bool) or not isinstance(value, kind):
            return None
    code = state.get("exit_code")
    if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
        return None
    return state
