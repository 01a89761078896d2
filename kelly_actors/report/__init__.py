"""``kelly report``: one self-contained HTML page of a run or a take (docs/report.md).

- :mod:`.load`: what the directory holds, read as far as it is readable.
- :mod:`.timeline`: bars, typed words, incidents, audio and notes on one time axis.
- :mod:`.decimate`: fewer points for the plots (never for the tables).
- :mod:`.plots`: the figures (matplotlib, Agg), each a PNG.
- :mod:`.page`: the HTML, every plot inline as a data: URI.
- :mod:`.build`: the whole report, from a directory to files.
"""
