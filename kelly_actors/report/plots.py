"""The report's figures, each a PNG (bytes), all on one time axis: seconds of the run.

matplotlib through its object API on the Agg canvas (no pyplot, no window, no global
state); every series is decimated first (:mod:`.decimate`), so a 3-hour run draws as fast
as a minute's. Each figure is :data:`WIDTH_IN` × its height in inches at :data:`DPI`.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kelly_actors.report.decimate import COLUMNS, envelope, every_nth, raster, series
from kelly_actors.report.load import Wav
from kelly_actors.report.timeline import KINDS, Timeline

DPI = 100
WIDTH_IN = COLUMNS / DPI
#: Most bar lines and text labels drawn on a figure (the tables have them all).
MOST_BAR_LINES = 240
MOST_LABELS = 24
AXES = ("valence", "arousal", "dominance")
#: Each emotion source's colour and marker.
SOURCES = {
    "text": ("#1f77b4", "o"),
    "performer": ("#d62728", "D"),
    "listener": ("#2ca02c", "."),
    "sensors": ("#9467bd", "^"),
}
_KIND_COLOUR = dict(zip([k for k, _ in KINDS], ["#d62728", "#ff7f0e", "#8c564b", "#e377c2",
                                                  "#17becf", "#7f7f7f"], strict=True))  # fmt: skip


def png(fig: Figure) -> bytes:
    """The figure rendered to PNG bytes."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _figure(rows: int, height: float, ratios: list[float] | None = None) -> tuple[Figure, list]:
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False, height_ratios=ratios)[:, 0]
    return fig, list(axes)


def _bar_lines(ax, tl: Timeline) -> None:
    times = [b["t"] for b in tl.bars]
    for t in times[:: every_nth(len(times), MOST_BAR_LINES)]:
        ax.axvline(t, color="#000000", alpha=0.08, linewidth=0.6)


def _typed_marks(ax, tl: Timeline, label: bool) -> None:
    """Where the performer typed: a dotted line each (a tick at the top when there are
    too many for lines), the words at the first few of them."""
    step = every_nth(len(tl.typed), MOST_LABELS)
    many = len(tl.typed) > 2 * MOST_LABELS
    for i, (t, words) in enumerate(tl.typed):
        if many:
            ax.axvline(t, ymin=0.94, color="#444444", linewidth=0.8)
        else:
            ax.axvline(t, color="#444444", linestyle=":", linewidth=0.8)
        if label and i % step == 0:
            short = words if len(words) <= 40 else words[:39] + "…"
            ax.annotate(short, (t, 1.0), xycoords=("data", "axes fraction"), rotation=18,
                        fontsize=7, ha="left", va="bottom", annotation_clip=False)  # fmt: skip


def emotion(tl: Timeline) -> Figure:
    """Valence, arousal, dominance: the fused emotion of each bar (a step line) and every
    source's word at the bar lines (marks); dotted lines where the performer typed."""
    fig, axes = _figure(3, 6.0)
    span = (0.0, tl.duration)
    t = np.array([b["t"] for b in tl.bars], np.float64)
    for row, (ax, axis) in enumerate(zip(axes, AXES, strict=True)):
        if len(t):
            y = np.array([b["emotion"].get(axis, np.nan) for b in tl.bars], np.float64)
            dt, dy = series(t, y, span)
            ax.step(dt, dy, where="post", color="#000000", linewidth=1.6, label="fused")
        for source, (colour, marker) in SOURCES.items():
            pts = [
                (b["t"], b["sources"][source].get(axis))
                for b in tl.bars
                if isinstance(b.get("sources"), dict) and isinstance(b["sources"].get(source), dict)
            ]
            pts = [(x, v) for x, v in pts if isinstance(v, int | float)]
            if pts:
                st, sy = series(*np.array(pts, np.float64).T, span)
                ax.scatter(st, sy, s=14, color=colour, marker=marker, label=source, zorder=3)
        ax.set_ylim((-1.05, 1.05) if axis == "valence" else (-0.05, 1.05))
        ax.set_ylabel(axis)
        ax.grid(alpha=0.3)
        _bar_lines(ax, tl)
        _typed_marks(ax, tl, label=row == 0)
    if axes[0].get_legend_handles_labels()[0]:  # nothing drawn: no bars in the log
        axes[0].legend(loc="upper right", fontsize=8, ncol=5)
    axes[-1].set_xlabel("seconds since the run started")
    axes[0].set_xlim(span)
    return fig


def music(tl: Timeline) -> Figure:
    """Tempo (bpm) with the key of each stretch, and who wrote each bar."""
    fig, (tempo_ax, writer_ax) = _figure(2, 3.6, [3.0, 1.0])
    span = (0.0, tl.duration)
    t = np.array([b["t"] for b in tl.bars], np.float64)
    if len(t):
        bpm = np.array([float(b.get("tempo", np.nan)) for b in tl.bars])
        dt, dy = series(t, bpm, span)
        tempo_ax.step(dt, dy, where="post", color="#1f77b4", linewidth=1.5)
        changes = [i for i, b in enumerate(tl.bars) if i == 0 or b["key"] != tl.bars[i - 1]["key"]]
        ends = [*(tl.bars[i]["t"] for i in changes[1:]), tl.duration]
        step = every_nth(len(changes), MOST_LABELS)
        for n, (i, end) in enumerate(zip(changes, ends, strict=True)):
            tempo_ax.axvspan(tl.bars[i]["t"], end, color=f"C{n % 10}", alpha=0.12, linewidth=0)
            if n % step == 0:
                tempo_ax.annotate(tl.bars[i]["key"], (tl.bars[i]["t"], 0.02), fontsize=7,
                                  xycoords=("data", "axes fraction"))  # fmt: skip
        lo, hi = np.nanmin(bpm), np.nanmax(bpm)
        tempo_ax.set_ylim(lo - 10, hi + 10)
        _writers(writer_ax, tl, t, span)
    tempo_ax.set_ylabel("tempo (bpm)")
    tempo_ax.grid(alpha=0.3)
    writer_ax.set_yticks([])
    writer_ax.set_ylabel("writer")
    for ax in (tempo_ax, writer_ax):
        _bar_lines(ax, tl)
    writer_ax.set_xlabel("seconds since the run started")
    tempo_ax.set_xlim(span)
    return fig


def _writers(ax, tl: Timeline, t: np.ndarray, span: tuple[float, float]) -> None:
    """A strip: per pixel column, the share of the bars sounding there that the
    transformer wrote (grey: the rules, orange: the model, between: both)."""
    ends = np.r_[t[1:], tl.duration]
    model = np.array([b.get("writer") == "transformer" for b in tl.bars], np.float64)
    width = max(span[1] - span[0], 1e-9) / COLUMNS
    first = np.clip(((t - span[0]) / width).astype(np.int64), 0, COLUMNS - 1)
    last = np.clip(((ends - span[0]) / width).astype(np.int64), 0, COLUMNS - 1)
    share, seen = np.zeros(COLUMNS), np.zeros(COLUMNS)
    np.add.at(share, first, model)
    np.add.at(seen, first, 1.0)
    # Columns inside one long bar take that bar's writer.
    for a, b, m in zip(first, last, model, strict=True):
        if b > a:
            share[a + 1 : b + 1] += m
            seen[a + 1 : b + 1] += 1.0
    rules, trans = np.array(_rgb("#7f7f7f")), np.array(_rgb("#ff7f0e"))
    frac = np.divide(share, seen, out=np.zeros(COLUMNS), where=seen > 0)
    rgba = np.ones((1, COLUMNS, 4))
    rgba[0, :, :3] = rules + frac[:, None] * (trans - rules)
    rgba[0, :, 3] = seen > 0
    ax.imshow(rgba, aspect="auto", extent=(span[0], span[1], 0, 1), interpolation="nearest")
    for name, colour in (("rules", "#7f7f7f"), ("transformer", "#ff7f0e")):
        ax.plot([], [], color=colour, linewidth=6, label=name)
    ax.legend(loc="upper right", fontsize=8, ncol=2)


def incidents(tl: Timeline) -> Figure:
    """One row per kind of incident; a mark per pixel column with any, sized by how many."""
    fig, (ax,) = _figure(1, 2.6)
    span = (0.0, tl.duration)
    for row, (kind, _) in enumerate(KINDS):
        got = [i for i in tl.incidents if i.kind == kind]
        times = np.array([i.t for i in got], np.float64)
        weights = np.array([i.count for i in got], np.float64)
        x, n = raster(times, span, weights=weights)
        if len(x):
            sizes = 120 + 40 * np.log2(np.maximum(n, 1))
            ax.scatter(x, np.full(len(x), row), s=sizes, marker="|", linewidths=1.6,
                       color=_KIND_COLOUR[kind])  # fmt: skip
        ax.annotate(f"{int(weights.sum())}", (1.002, row), xycoords=("axes fraction", "data"),
                    fontsize=8, va="center")  # fmt: skip
    ax.set_yticks(range(len(KINDS)), [label for _, label in KINDS])
    ax.set_ylim(-0.7, len(KINDS) - 0.3)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    _typed_marks(ax, tl, label=False)
    ax.set_xlabel("seconds since the run started (count of each kind on the right)")
    ax.set_xlim(span)
    return fig


def audio(tl: Timeline, wavs: list[Wav]) -> Figure:
    """The recorded waveform (min/max per pixel column; each WAV segment at its start)
    and, under it, the MIDI piano roll (notes as velocity-shaded cells, a track per
    colour; pitched tracks and drums alike)."""
    rows = sorted({w.what for w in wavs}) or ["output"]
    fig, axes = _figure(len(rows) + 1, 2.0 * len(rows) + 3.4, [1.0] * len(rows) + [1.8])
    span = (0.0, tl.duration)
    for ax, what in zip(axes, rows, strict=False):
        for w in (w for w in wavs if w.what == what):
            start = tl.audio_offsets.get((w.what, w.incarnation), 0.0)
            mono = w.frames[:, 0]
            length = len(mono) / w.rate
            share = max(1, int(COLUMNS * length / max(tl.duration, 1e-9)))
            lo, hi = envelope(mono, share)
            scale = _full_scale(mono.dtype)
            x = start + (np.arange(len(lo)) + 0.5) * length / max(len(lo), 1)
            ax.fill_between(x, lo / scale, hi / scale, color="#1f77b4", linewidth=0.4)
        ax.set_ylim(-1.0, 1.0)
        ax.set_ylabel(f"{what} (left)")
        ax.grid(alpha=0.3)
        _bar_lines(ax, tl)
    _piano_roll(axes[-1], tl, span)
    axes[-1].set_xlabel("seconds since the run started")
    axes[0].set_xlim(span)
    return fig


def _full_scale(dtype: np.dtype) -> float:
    return float(np.iinfo(dtype).max) + 1.0 if np.issubdtype(dtype, np.integer) else 1.0


def _piano_roll(ax, tl: Timeline, span: tuple[float, float]) -> None:
    notes = tl.notes
    ax.set_ylabel("MIDI pitch")
    if not len(notes.start):
        ax.text(0.5, 0.5, "no MIDI recording", transform=ax.transAxes, ha="center")
        return
    low, high = int(notes.pitch.min()), int(notes.pitch.max())
    width = max(span[1] - span[0], 1e-9) / COLUMNS
    for index, name in enumerate(notes.tracks):
        mine = notes.track == index
        if not mine.any():
            continue
        # One image row per pitch: a cell is the loudest velocity sounding in that column.
        grid = np.zeros((high - low + 1, COLUMNS), np.float32)
        first = np.clip(((notes.start[mine] - span[0]) / width).astype(np.int64), 0, COLUMNS - 1)
        last = np.clip(((notes.end[mine] - span[0]) / width).astype(np.int64), 0, COLUMNS - 1)
        pitch = notes.pitch[mine] - low
        vel = notes.velocity[mine] / 127.0
        for a, b, p, v in zip(first, last, pitch, vel, strict=True):
            grid[p, a : b + 1] = np.maximum(grid[p, a : b + 1], v)
        rgba = np.zeros((*grid.shape, 4), np.float32)
        rgba[..., :3] = _rgb(f"C{index % 10}")
        rgba[..., 3] = np.where(grid > 0, 0.35 + 0.65 * grid, 0.0)
        ax.imshow(rgba, aspect="auto", origin="lower", interpolation="nearest",
                  extent=(span[0], span[1], low - 0.5, high + 0.5))  # fmt: skip
        ax.plot([], [], color=f"C{index % 10}", label=name, linewidth=4)
    ax.legend(loc="upper right", fontsize=7, ncol=min(8, len(notes.tracks)))
    ax.set_ylim(low - 1, high + 1)


def _rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(colour)


#: The figures in page order: (name, title, how to draw it).
FIGURES: tuple[tuple[str, str, Callable[..., Figure]], ...] = (
    ("emotion", "Emotion over time, by source", emotion),
    ("music", "Tempo, key and who wrote each bar", music),
    ("incidents", "Restarts, degrades, under-runs, xruns", incidents),
    ("audio", "Audio and the MIDI piano roll", audio),
)
