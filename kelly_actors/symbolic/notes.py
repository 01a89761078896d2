"""Held notes and the recent onsets the listener reads.

:class:`NoteTracker` takes note events with their arrival time (``time.monotonic()`` s):
a note-on opens a note (a second note-on of a held note closes the first: a retrigger);
a note-off closes it, and one with no note-on before it is counted
(``orphan_note_offs``) and dropped; a note held longer than ``stuck_s`` is closed by
:meth:`NoteTracker.expire` and counted ``stuck_notes`` (a lost note-off must not make the
listener hear an endless drone). Closed and open notes are kept, newest last, at most
:data:`MAX_NOTES` of them and none older than the window the listener asks for.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

#: The most notes remembered (a window of 8 s at 60 notes/s).
MAX_NOTES = 512


@dataclass(slots=True)
class PlayedNote:
    """One note: ``onset`` and ``end`` in monotonic s (``end`` None while held), MIDI
    ``pitch`` 0–127, ``velocity`` 1–127, ``channel`` 0–15."""

    onset: float
    pitch: int
    velocity: int
    channel: int
    end: float | None = None

    def duration(self, now: float) -> float:
        """Seconds it sounded (so far, while held)."""
        return (self.end if self.end is not None else now) - self.onset


class NoteTracker:
    """The performer's notes: what is held, what was played lately, what went wrong."""

    def __init__(self, stuck_s: float) -> None:
        self.stuck_s = stuck_s
        self.notes: deque[PlayedNote] = deque(maxlen=MAX_NOTES)
        self.held: dict[tuple[int, int], PlayedNote] = {}
        self.note_ons = 0
        self.orphan_note_offs = 0
        self.stuck_notes = 0
        self.retriggers = 0
        #: The newest onset (monotonic s); -inf before the first note.
        self.last_onset = float("-inf")

    def note_on(self, channel: int, pitch: int, velocity: int, now: float) -> None:
        key = (channel, pitch)
        if key in self.held:
            self.retriggers += 1
            self.held.pop(key).end = now
        note = PlayedNote(now, pitch, velocity, channel)
        self.held[key] = note
        self.notes.append(note)
        self.note_ons += 1
        self.last_onset = now

    def note_off(self, channel: int, pitch: int, now: float) -> None:
        note = self.held.pop((channel, pitch), None)
        if note is None:
            self.orphan_note_offs += 1
        else:
            note.end = now

    def all_off(self, now: float) -> None:
        """Close every held note (all-notes-off, all-sound-off from the performer)."""
        for note in self.held.values():
            note.end = now
        self.held.clear()

    def expire(self, now: float) -> int:
        """Close notes held longer than ``stuck_s`` (at onset + ``stuck_s``); how many."""
        stuck = [k for k, n in self.held.items() if now - n.onset > self.stuck_s]
        for key in stuck:
            note = self.held.pop(key)
            note.end = note.onset + self.stuck_s
        self.stuck_notes += len(stuck)
        return len(stuck)

    def recent(self, now: float, window_s: float) -> list[PlayedNote]:
        """Notes whose onset lies within the last ``window_s`` s, oldest first."""
        since = now - window_s
        out = [n for n in self.notes if n.onset >= since]
        return out
