"""Ableton Link: the clock joins a Link session (the optional ``aalink`` package).

* :mod:`.config` — the ``[actors.options.link]`` table of the clock actor.
* :mod:`.follower` — what the clock does with the session: pure logic, no I/O.
* :mod:`.session` — the thread in the audio actor that owns the ``aalink`` peer.
* :mod:`.grid` — where the composer's bar lines fall when the clock follows a session.

Without ``aalink`` installed or with ``enabled = false`` nothing changes. See
docs/architecture.md ("Ableton Link").
"""
