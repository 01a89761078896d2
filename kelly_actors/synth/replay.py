"""Moving a :class:`~kelly_actors.synth.voices.Synth` forward without rendering.

Two uses, one mechanism:

* :meth:`Replay.seek` — a synth that fell behind the clock skips the blocks it can no longer
  deliver. It advances as if it had rendered them and thrown them away: events due in between
  apply at their own sample times, voices that end are retired, and each oscillator's phase
  accumulator advances by exactly the sum rendering would have added. So the next block is
  bit-identical to the one an undisturbed synth renders.
* :meth:`Replay.resume` — a restarted synth rebuilds, from the note events its predecessor
  had (the ``notes`` ring still holds them), the voices that sound *now* and the events still
  to come, then seeks to *now*: notes already sounding come back at the phase, envelope,
  vibrato and noise sample they would have had.

Why this is exact: every voice quantity except the phase accumulator is an analytic function
of the absolute sample time, and noise is a hash of it (:mod:`kelly_actors.synth.noise`). The
accumulator's increment per sample, ``rint(f0 · 2^(bend/12) · 2³²/sr)``, is constant while a
channel's pitch bend is not gliding, so a stretch of ``m`` samples adds ``m`` times it (integer
arithmetic); only the few samples of a bend glide (``BEND_GLIDE_S``) are summed one by one,
computed by the same expressions as rendering uses. The cost is therefore proportional to the
number of events replayed, not to the duration of the notes.

What :meth:`Replay.resume` cannot know: notes whose note-on the ring no longer holds (it keeps
its last ``capacity`` events), steals forced by voices that started before the replayed span,
timbre switches (not note events; the caller re-applies its timbre), and a neural decoder's
recurrent state (neural voices restart their decoder at the new position, fading in over one
decoder frame).
"""

from __future__ import annotations

import math

import numpy as np

from kelly_actors.bus.note_events import N_CHANNELS, EventKind
from kelly_actors.synth.presets import PRESETS

CARRIER_BITS = 32
CARRIER_ONE = float(1 << CARRIER_BITS)  # one cycle, in accumulator steps
_CARRIER_MASK = (1 << CARRIER_BITS) - 1
_NOTE_ON, _NOTE_OFF = EventKind.NOTE_ON, EventKind.NOTE_OFF
_ALL_OFF = (EventKind.ALL_NOTES_OFF, EventKind.ALL_SOUND_OFF)


def still_sounding(events: np.ndarray, now: int, tail: int) -> list[int]:
    """Start times of the note-ons in ``events`` whose sound may last until sample ``now``.

    A note-on counts unless a note-off (or all-notes/sound-off) for it came at least ``tail``
    samples before ``now``; ``tail`` is the longest release there is. Conservative: a note that
    ended otherwise (a pluck's decay, a steal) still counts, and the replay retires it.

    Args:
        events: records of :data:`~kelly_actors.synth.events.EVENT_DTYPE` sorted by
            ``sample_time``.
        now: absolute sample.
        tail: samples.
    """
    held: dict[tuple[int, int], list[int]] = {}
    sounding: list[int] = []
    columns = (events[name].tolist() for name in ("sample_time", "kind", "channel", "note",
                                                  "velocity"))  # fmt: skip
    for t, kind, channel, note, velocity in zip(*columns, strict=True):
        if t >= now:
            break
        recent = now - t < tail
        if kind == _NOTE_ON and velocity > 0:
            held.setdefault((channel % N_CHANNELS, note), []).append(t)
        elif kind in (_NOTE_ON, _NOTE_OFF):
            ended = held.pop((channel % N_CHANNELS, note), [])
            if recent:
                sounding += ended
        elif kind in _ALL_OFF:
            if recent:
                sounding += [t_on for ons in held.values() for t_on in ons]
            held.clear()
    return sounding + [t_on for ons in held.values() for t_on in ons]


class Replay:
    """The silent-advance half of :class:`~kelly_actors.synth.voices.Synth` (a mixin: it uses
    the synth's voice slots, event queue and glides)."""

    def seek(self, sample_time: int) -> None:
        """Move the render position forward to ``sample_time`` without rendering.

        The state afterwards is the state rendering ``[sample_time_now, sample_time)`` would
        have left (see the module docstring); an earlier ``sample_time`` does nothing.
        """
        target = int(sample_time)
        if target <= self._time:
            return
        t = self._time
        queued = self._queue.queued
        times = queued["sample_time"]
        k = 0
        while k < queued.size and times[k] < target:
            due = int(times[k])
            if due < t:
                self.stats["late_events"] += 1
            else:
                self._silent(t, due)
                t = due
            self._apply(queued[k], t)
            k += 1
        self._silent(t, target)
        self._queue.drop_first(k)
        self._time = target
        self._restart_neural(target)

    def resume(self, now: int) -> int:
        """Rebuild the state at sample ``now`` of a synth fed the events queued so far.

        Queue everything known — the events a predecessor had already taken and the ones still
        to come, in the order they were written — on a fresh synth, then call this. Note events
        of notes that cannot sound at ``now`` are dropped unplayed; the rest replay silently
        from the oldest note that may still sound; control events (presets, bends, emotion)
        all apply in order. Later events stay queued.

        Returns:
            The sample from which notes were replayed (``now`` when none sounds).
        """
        queued = self._queue.queued
        since = min(still_sounding(queued, now, self._longest_tail()), default=now)
        kinds = queued["kind"]
        notes = (kinds == _NOTE_ON) | (kinds == _NOTE_OFF)
        self._queue.keep(~(notes & (queued["sample_time"] < since)))
        self.seek(now)
        return since

    def _longest_tail(self) -> int:
        """Samples a note can sound after its note-off, for any preset (+ a steal's fade)."""
        release = max(p.release_s for p in (*PRESETS.values(), *self._chan_preset))
        return math.ceil((release + self._steal_fade_s) * self.sample_rate) + 1

    # ------------------------------------------------------------------ silent advance
    def _silent(self, a: int, b: int) -> None:
        """Samples ``[a, b)`` pass unrendered: phases advance, finished voices retire."""
        if b <= a:
            return
        slots = self.slots
        idx = np.flatnonzero(slots.active)
        if idx.size == 0:
            return
        self._advance_carriers(idx[slots.bank[idx] < 0], a, b)
        slots.retire(idx, b)

    def _advance_carriers(self, idx: np.ndarray, a: int, b: int) -> None:
        """Add to the phase accumulators of preset voices ``idx`` what ``[a, b)`` adds."""
        carrier = self.slots.carrier
        chans = self.slots.channel[idx]
        for ch in np.unique(chans):
            rows = idx[chans == ch]
            total = self._carrier_sum(rows, int(ch), a, b)
            acc = carrier[rows].astype(np.int64) + total
            carrier[rows] = (acc & _CARRIER_MASK).astype(np.float64)

    def _carrier_sum(self, rows: np.ndarray, ch: int, a: int, b: int) -> np.ndarray:
        """Σ of the accumulator increments of voices ``rows`` (channel ``ch``) over ``[a, b)``,
        modulo 2³², int64 ``(r,)``: sample by sample while the bend glides, then m × the
        constant increment."""
        f0 = self.slots.f0[rows]
        glide = self._bend[ch]
        total = np.zeros(rows.size, np.int64)
        t = a
        if glide.nonzero:
            moving_end = min(b, glide.settled_from())
            while t < moving_end:
                m = min(moving_end - t, self._ramp.size)
                bend = glide.fill(t, self._ramp[:m], self._buf[:m])
                inc = self._carrier_inc(f0, bend, np.empty((rows.size, m)))
                total += inc.sum(axis=1).astype(np.int64)  # exact: integers below 2^53
                t += m
            if t >= b:
                return total & _CARRIER_MASK
            bend = glide.fill(t, self._ramp[:1], self._buf[:1])
        else:
            bend = None
        step = self._carrier_inc(f0, bend, np.empty((rows.size, 1)))[:, 0].astype(np.int64)
        # (m mod 2^32)·step < 2^63, so the product is exact in int64.
        total += ((b - t) & _CARRIER_MASK) * step
        return total & _CARRIER_MASK

    def _restart_neural(self, t: int) -> None:
        """Neural voices cannot be fast-forwarded (recurrent decoder state): start their
        decoders afresh at ``t`` (they fade in over one decoder frame)."""
        slots = self.slots
        for slot in np.flatnonzero(slots.active & (slots.bank >= 0)):
            self._start_neural(int(slot), t, bank_id=int(slots.bank[slot]))
