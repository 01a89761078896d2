"""The Takes page: recordings (``kelly run --record DIR``) with their session reports.

A *take* is a directory holding ``run.json``, WAV or MIDI files: each configured takes directory
is one itself, or holds takes one level down. Its report is ``report.html`` inside it,
which ``kelly report DIR -o DIR/report.html`` writes; the page offers to build it when the
``kelly report`` program exists in this installation (:func:`report_available`).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

REPORT = "report.html"
#: ``kelly report`` may take this long (s) before the page gives up on it.
REPORT_TIMEOUT_S = 300.0
MAX_RUN_JSON_BYTES = 1024 * 1024


def is_take(path: Path) -> bool:
    if not path.is_dir():
        return False
    return (path / "run.json").is_file() or any(path.glob("*.wav")) or any(path.glob("*.mid"))


def _summary(take: Path) -> dict[str, Any]:
    """A few facts from ``run.json`` (when present and readable)."""
    path = take / "run.json"
    try:
        if path.stat().st_size > MAX_RUN_JSON_BYTES:
            return {}
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    keep = ("exit_code", "uptime_s", "config", "stopped", "reason", "tag")
    return {k: data[k] for k in keep if isinstance(data.get(k), str | int | float)}


def describe(root: int, base: Path, take: Path) -> dict[str, Any]:
    """One take: its name inside the root, WAVs (name, bytes), MIDI files, report."""
    name = take.relative_to(base).as_posix() if take != base else ""
    prefix = f"{name}/" if name else ""
    return {
        "root": root,
        "name": name or base.name,
        "path": name,
        "wavs": [
            {"name": prefix + p.name, "bytes": p.stat().st_size} for p in sorted(take.glob("*.wav"))
        ],
        "midi": [prefix + p.name for p in sorted(take.glob("*.mid"))],
        "report": prefix + REPORT if (take / REPORT).is_file() else "",
        "summary": _summary(take),
    }


def listing(takes_dirs: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every take in the configured directories."""
    out = []
    for root, directory in enumerate(takes_dirs):
        base = Path(directory)
        if not base.is_dir():
            continue
        candidates = [base, *sorted(p for p in base.iterdir() if p.is_dir())]
        for take in candidates:
            if is_take(take) and take.resolve().is_relative_to(base.resolve()):
                out.append({**describe(root, base, take), "dir": directory})
    return out


def report_available() -> bool:
    """Whether this installation's ``kelly`` has a ``report`` program."""
    from kelly_actors.cli import build_parser

    parser = build_parser()
    programs = next(a for a in parser._actions if a.dest == "command")
    return "report" in (programs.choices or {})


async def build_report(take: Path) -> tuple[bool, str]:
    """Run ``kelly report TAKE -o TAKE/report.html``; (ok, the last lines of its output)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kelly_actors.cli", "report", str(take), "-o", str(take / REPORT),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), REPORT_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return False, f"kelly report took over {REPORT_TIMEOUT_S:g} s and was stopped"
    text = "\n".join(out.decode(errors="replace").splitlines()[-20:])
    return proc.returncode == 0, text
