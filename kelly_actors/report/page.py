"""The report's HTML: one file, nothing fetched. Plots are ``data:image/png;base64`` URIs,
the style sheet is inline, there is no script and no font to load; the only links are
relative ones to the PNG files written beside the page.

Every table lists every record (a 3-hour run's tables are long; the plots are the part
that is decimated). All text from the run (what the performer typed, reasons, paths) is
HTML-escaped.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from html import escape
from typing import Any

from kelly_actors.report.load import Found
from kelly_actors.report.timeline import Timeline

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1440px;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.1em; } h2 { margin-top: 1.6em; }
.sub { color: #555; } .missing { background: #fff4e5; border-left: 4px solid #ff9800;
  padding: 0.4em 1em; } figure { margin: 1em 0; } img { max-width: 100%; height: auto;
  border: 1px solid #ddd; } figcaption { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 12px; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; position: sticky; top: 0; } td.n { text-align: right; }
details { margin: 0.6em 0; } summary { cursor: pointer; font-weight: 600; }
"""


def _table(
    headers: Iterable[str], rows: Iterable[Iterable[Any]], numeric: frozenset[int] = frozenset()
) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            text = "" if value is None else value if isinstance(value, str) else _fmt(value)
            cls = ' class="n"' if i in numeric else ""
            cells.append(f"<td{cls}>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.0f}"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def _clock(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60.0)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:06.3f}" if h else f"{m}:{s:06.3f}"


def _word(source: Any) -> str:
    if not isinstance(source, dict):
        return ""
    if "valence" in source:
        return " ".join(f"{source.get(a, 0):.2f}" for a in ("valence", "arousal", "dominance"))
    return f"a {source.get('arousal', 0):.2f} ({source.get('sensors', 0)} sensor(s))"


def figures_html(figures: list[tuple[str, str, bytes, str]]) -> str:
    out = []
    for _, title, data, filename in figures:
        uri = "data:image/png;base64," + base64.b64encode(data).decode()
        out.append(
            f'<figure><img src="{uri}" alt="{escape(title)}">'
            f"<figcaption>{escape(title)} — "
            f'<a href="{escape(filename)}">{escape(filename)}</a></figcaption></figure>'
        )
    return "\n".join(out)


def run_html(run: dict[str, Any] | None) -> str:
    if run is None:
        return "<p>No run.json: the figures below come from the event log only.</p>"
    scalars = [(k, v) for k, v in run.items() if not isinstance(v, dict | list)]
    parts = [_table(("figure", "value"), scalars)]
    for key in ("restarts", "underruns", "overruns", "audio"):
        if isinstance(run.get(key), dict):
            parts.append(f"<h3>{escape(key)}</h3>" + _table(("name", "value"), run[key].items()))
    for name, figures in (run.get("actors") or {}).items():
        if isinstance(figures, dict):
            rows = sorted(figures.items())
            parts.append(f"<details><summary>{escape(name)}</summary>{_table(('', ''), rows)}"
                         "</details>")  # fmt: skip
    return "\n".join(parts)


def render(found: Found, tl: Timeline, figures: list[tuple[str, str, bytes, str]]) -> str:
    """The page."""
    run = found.run or {}
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(tl.t0)) if tl.t0 else "?"
    summary = (
        f"{escape(str(found.directory))} · started {started} · {_clock(tl.duration)} · "
        f"{len(tl.bars)} bars · {len(tl.typed)} words typed · "
        f"ended: {escape(str(run.get('reason', 'unknown (no run.json)')))}"
    )
    missing = ""
    notes = list(found.missing) + tl.notes.problems
    if found.events.earlier_runs:
        notes.append(
            f"events.jsonl holds {found.events.earlier_runs} earlier run(s) before this "
            "one; this page shows the last run"
        )
    if notes:
        items = "".join(f"<li>{escape(m)}</li>" for m in notes)
        missing = f'<div class="missing"><b>What is missing or odd</b><ul>{items}</ul></div>'
    typed = _table(("time", "typed"), ((_clock(t), w) for t, w in tl.typed))
    bars = _table(
        (
            "bar",
            "time",
            "tempo",
            "key",
            "valence",
            "arousal",
            "dominance",
            "confidence",
            "source",
            "text",
            "performer",
            "listener",
            "sensors",
            "locks",
            "writer",
            "model",
            "fallback",
        ),
        (
            (
                b.get("bar"),
                _clock(b["t"]),
                b.get("tempo"),
                b.get("key"),
                *(
                    b.get("emotion", {}).get(k)
                    for k in ("valence", "arousal", "dominance", "confidence", "source")
                ),
                *(
                    _word(b.get("sources", {}).get(k))
                    for k in ("text", "performer", "listener", "sensors")
                ),
                b.get("sources", {}).get("locks") or "",
                b.get("writer"),
                b.get("model"),
                b.get("fallback"),
            )
            for b in tl.bars
        ),
        numeric=frozenset({0, 2, 4, 5, 6, 7}),
    )
    incidents = _table(
        ("time", "kind", "actor", "what"),
        ((_clock(i.t), i.kind, i.actor, i.text) for i in tl.incidents),
    )
    events = _table(
        ("time", "event", "actor", "detail"),
        (
            (
                _clock(float(r["time"]) - tl.t0),
                r["event"],
                r["detail"].get("actor", ""),
                json.dumps({k: v for k, v in r["detail"].items() if k != "actor"}, default=str),
            )
            for r in found.events.records
        ),
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kelly Actors — session report</title><style>{STYLE}</style></head>
<body>
<h1>Session report</h1>
<p class="sub">{summary}</p>
{missing}
<h2>Over time</h2>
{figures_html(figures)}
<h2>What the performer typed ({len(tl.typed)})</h2>
{typed}
<h2>The run's figures (run.json)</h2>
{run_html(found.run)}
<h2>Incidents ({len(tl.incidents)})</h2>
<details><summary>every restart, degrade, under-run, xrun and switch</summary>{incidents}</details>
<h2>Bars ({len(tl.bars)})</h2>
<details><summary>each bar: tempo, key, the emotion by source, who wrote it</summary>
{bars}</details>
<h2>Every event ({len(found.events.records)})</h2>
<details><summary>the event log of this run, in order</summary>{events}</details>
</body></html>
"""
