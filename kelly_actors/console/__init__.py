"""The console: ``kelly top`` (a Textual TUI), ``kelly doctor`` and ``kelly log``.

- :mod:`.connection`: where a performance is (its control and status
  endpoints), a control client and a status subscriber.
- :mod:`.view`: pure functions from a status snapshot to what the panels show.
- :mod:`.top`: the Textual app.
- :mod:`.doctor`: the pre-show checklist.
- :mod:`.eventlog`: ``events.jsonl`` printed readably, optionally followed.
- :mod:`.run_console`: what ``kelly run`` says while it plays (a process beside the
  watchdog), in words from :mod:`.run_lines`.

The command-line programs themselves are :mod:`kelly_actors.cli.top`,
:mod:`kelly_actors.cli.doctor` and :mod:`kelly_actors.cli.log`.
"""
