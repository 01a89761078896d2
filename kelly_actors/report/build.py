"""A report from a directory to files: ``report.html`` and a PNG per plot beside it.

``build(directory, out)`` reads the run or take (:mod:`.load`), lays it on one time axis
(:mod:`.timeline`), draws each figure (:mod:`.plots`) and writes the page (:mod:`.page`).
Every file is written whole or not at all (:func:`~kelly_actors.files.atomic_write`) and
is the user's alone (0600): the page says what a performer felt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from kelly_actors.files import atomic_write
from kelly_actors.report import load, page, timeline

#: Where ``kelly report DIR`` writes when no ``-o`` is given.
DEFAULT_NAME = "report.html"
INSTALL_HINT = "kelly report needs matplotlib: pip install 'kelly-actors[report]'"


class MissingPlotting(ImportError):
    """matplotlib is not installed (the ``report`` extra)."""


@dataclass(frozen=True)
class Built:
    """What was written: the page, the PNGs, what was missing, how long it took (s)."""

    html: Path
    pngs: tuple[Path, ...]
    missing: tuple[str, ...]
    seconds: float
    events: int
    bars: int


def build(directory: Path, out: Path | None = None) -> Built:
    """Write the report of ``directory`` to ``out`` (default ``directory/report.html``)
    and ``<stem>-<figure>.png`` beside it. Raises :class:`load.Refused` for a directory
    that is not this user's and :class:`MissingPlotting` without matplotlib."""
    began = time.monotonic()
    try:
        import matplotlib  # noqa: F401  (the optional extra: say so before any work)
    except ImportError as exc:
        raise MissingPlotting(f"{INSTALL_HINT} ({exc})") from None
    from kelly_actors.report import plots

    directory = Path(directory)
    found = load.find(directory)
    if not (found.events.records or found.run or found.wavs or found.midi):
        raise load.Refused(
            f"{directory}: nothing to report (no events.jsonl, run.json, WAV or MIDI file)"
        )
    tl = timeline.build(found)
    out = Path(out) if out is not None else directory / DEFAULT_NAME
    out.parent.mkdir(parents=True, exist_ok=True)
    figures = []
    pngs = []
    for name, title, draw in plots.FIGURES:
        fig = draw(tl, found.wavs) if name == "audio" else draw(tl)
        data = plots.png(fig)
        path = out.with_name(f"{out.stem}-{name}.png")
        atomic_write(path, data, mode=0o600)
        pngs.append(path)
        figures.append((name, title, data, path.name))
    atomic_write(out, page.render(found, tl, figures), mode=0o600)
    missing = (*found.missing, *tl.notes.problems)
    return Built(
        out, tuple(pngs), missing, time.monotonic() - began, len(found.events.records),
        len(tl.bars),
    )  # fmt: skip
