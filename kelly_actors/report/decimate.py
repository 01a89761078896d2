"""Fewer points for a plot, keeping what the eye looks for; the tables keep every event.

A figure 1400 pixels wide shows at most ~1400 distinct x positions, so a 3-hour run's
hundreds of thousands of samples, bars or events are reduced to a few per pixel column
before matplotlib sees them: the waveform to its min/max envelope, a series to the first,
lowest, highest and last point of each column, a raster of event times to one mark per
column with the count it stands for.
"""

from __future__ import annotations

import numpy as np

#: Columns a plot is decimated to (about its width in pixels).
COLUMNS = 1400


def envelope(samples: np.ndarray, columns: int = COLUMNS) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of ``samples`` (1-D, any dtype) over ``columns`` equal slices, as
    float32 in the samples' own units; fewer when there are fewer samples than columns.

    Reads the samples once, slice by slice (a memory map of gigabytes is never copied
    whole)."""
    n = len(samples)
    if n == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    columns = max(1, min(columns, n))
    edges = np.linspace(0, n, columns + 1).astype(np.int64)
    lo = np.empty(columns, np.float32)
    hi = np.empty(columns, np.float32)
    step = int(edges[1] - edges[0])
    if n % columns == 0 and step > 0:
        # Equal slices: one reshape per block of columns, no Python loop per column.
        block = max(1, (1 << 24) // step)
        for c in range(0, columns, block):
            part = np.asarray(samples[c * step : min(columns, c + block) * step])
            part = part.reshape(-1, step)
            lo[c : c + len(part)] = part.min(axis=1)
            hi[c : c + len(part)] = part.max(axis=1)
        return lo, hi
    for c in range(columns):
        part = np.asarray(samples[edges[c] : max(edges[c + 1], edges[c] + 1)])
        lo[c], hi[c] = part.min(), part.max()
    return lo, hi


def series(
    t: np.ndarray, y: np.ndarray, span: tuple[float, float], columns: int = COLUMNS
) -> tuple[np.ndarray, np.ndarray]:
    """At most 4 points per column of ``span`` (s): each column's first, lowest, highest
    and last point, in time order. Short series come back unchanged."""
    t = np.asarray(t, np.float64)
    y = np.asarray(y, np.float64)
    if len(t) <= 4 * columns:
        return t, y
    width = max(span[1] - span[0], 1e-9) / columns
    col = np.clip(((t - span[0]) / width).astype(np.int64), 0, columns - 1)
    keep = np.zeros(len(t), bool)
    starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    ends = np.r_[starts[1:], len(t)]
    keep[starts] = True
    keep[ends - 1] = True
    # Lowest and highest of each run of one column (t is sorted, so a column is one run).
    order = np.lexsort((y, col))
    first_of = np.searchsorted(col[order], col[starts])
    last_of = np.searchsorted(col[order], col[starts], side="right") - 1
    keep[order[first_of]] = True
    keep[order[last_of]] = True
    return t[keep], y[keep]


def raster(
    times: np.ndarray, span: tuple[float, float], columns: int = COLUMNS, weights=None
) -> tuple[np.ndarray, np.ndarray]:
    """Event times binned to ``columns`` of ``span``: (the column's centre, s; how many
    events — or the sum of ``weights`` — fell there), only the columns with any."""
    times = np.asarray(times, np.float64)
    if len(times) == 0:
        return np.zeros(0), np.zeros(0)
    lo, hi = span
    width = max(hi - lo, 1e-9) / columns
    col = np.clip(((times - lo) / width).astype(np.int64), 0, columns - 1)
    counts = np.bincount(col, weights=weights, minlength=columns)
    where = np.flatnonzero(counts)
    return lo + (where + 0.5) * width, counts[where]


def every_nth(count: int, most: int) -> int:
    """The stride that leaves at most ``most`` of ``count`` items (1 when they fit)."""
    return max(1, -(-count // max(1, most)))
