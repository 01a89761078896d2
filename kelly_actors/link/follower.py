"""What the clock does with a Link session: pure logic, fed by the Link thread.

Every ``poll_ms`` the thread hands :meth:`LinkFollower.tick` the time and a
:class:`Snapshot` of the session; the follower answers with what the session must
do (:class:`Actions`) and sends the clock its tempo segments through ``post``
(the engine's ``request_tempo``: start sample, bpm, beat at that sample, beats per
bar). Times are seconds of ``CLOCK_MONOTONIC_RAW`` (Link's clock on Linux); a
:class:`~kelly_actors.bus.clock.SampleTimeline` maps them to samples.

* **Locked** (the usual case): the clock's beat at each sample is the session's
  beat at the moment the transport shows that sample (plus the device's output
  latency); a clock more than ``tolerance_ms`` off is re-anchored with a new
  segment — a jump of the transport's beat, never of the audio.
* **The composer's tempo** arrives as requests (bar line, wished bpm). One that is
  proposed (``follow``: it moved ``request_step_bpm`` since the last proposal;
  ``lead``: whenever it differs) takes effect one bar after the bar it came with:
  the clock's segment is queued at once and announced in the transport's Link
  words, so the composer writes that bar at the new tempo; the session gets it
  (``link.tempo``) when that bar line comes.
* **Another peer changes the tempo**: ``follow`` takes it (and drops Kelly's own
  queued change); ``lead`` undoes it at once (``overridden``). A change bigger than
  ``max_jump_bpm`` is a jump (``tempo_jumps``): Kelly's tempo slews to it at
  ``slew_bpm_per_s`` with its phase free, then locks again (``relocks``). A session
  outside ``tempo_min…tempo_max`` is played at the bound (``tempo_clamped``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kelly_actors.bus.clock import SampleTimeline, beat_at
from kelly_actors.bus.transport import LINK_LINKED, LINK_STOPPED, LinkWords, TransportState
from kelly_actors.link.config import LinkSettings

#: Tempos closer than this (bpm) are the same tempo.
SAME_TEMPO = 1e-6

Post = Callable[[int, float, float, int], bool]


@dataclass(frozen=True)
class Snapshot:
    """The session at time ``t`` (s): ``beat`` (on the quantum's timeline), ``tempo``
    (bpm), other ``peers``, ``playing`` (start/stop)."""

    t: float
    beat: float
    tempo: float
    peers: int
    playing: bool


@dataclass
class Actions:
    """What the Link thread must do to the session after a tick."""

    commit_tempo: float | None = None
    #: Lead mode meeting a session: make this Kelly's beat now, for every peer.
    force_beat: float | None = None


@dataclass(frozen=True)
class Segment:
    """The clock from ``start`` (sample) on: ``beat`` there, ``tempo`` bpm."""

    start: int
    beat: float
    tempo: float


class LinkFollower:
    """Keeps the clock on the session (see the module docstring).

    Args:
        settings: the ``[link]`` table.
        sample_rate: Hz.
        post: queues a clock segment (start, bpm, beat, beats per bar); False = full.
        clock: the transport when the session starts: the clock's segment then.
        latency_frames: the device's output latency: sample ``s`` is heard that much
            after the transport shows it, and it is the session's beat then that counts.
        bar_beats: beats in one of the composer's bars.
    """

    def __init__(
        self,
        settings: LinkSettings,
        sample_rate: int,
        post: Post,
        clock: TransportState,
        latency_frames: int = 0,
        bar_beats: int = 4,
    ) -> None:
        self.settings = settings
        self.rate = sample_rate
        self.post = post
        self.latency_s = latency_frames / sample_rate
        self.bar_beats = bar_beats
        self.timeline = SampleTimeline(sample_rate)
        self.segment = Segment(clock.sample_counter, clock.beat, clock.tempo)
        #: Kelly's own tempo changes, queued on the clock, not yet given to the session.
        self.pending: list[Segment] = []
        self.expected = clock.tempo  # the session tempo as Kelly last knew it
        self.tempo = clock.tempo  # what Kelly's clock plays
        self.last_proposed: float | None = None
        self.slewing = False
        self.clamped = False
        self.locked = False
        self.ever_locked = False
        self.last_now: float | None = None
        self.snapshot: Snapshot | None = None
        self.snapshot_peers = 0
        self.error_ms = 0.0
        self.counts = dict.fromkeys(
            (
                "corrections", "relocks", "tempo_jumps", "tempo_clamped", "peer_changes",
                "overridden", "proposals", "refused_posts",
            ),
            0,
        )  # fmt: skip
        self.composer_bars: deque[tuple[int, float]] = deque(maxlen=8)

    # -- the clock's mapping ---------------------------------------------------------

    def heard_at(self, sample: float) -> float:
        """When sample ``sample`` is heard (s)."""
        return self.timeline.time_of(sample) + self.latency_s

    def clock_at(self, sample: float) -> tuple[float, float]:
        """The clock's (beat, tempo) at ``sample``, its queued changes included."""
        seg = self.segment
        for p in self.pending:
            if p.start <= sample:
                seg = p
        return beat_at(seg.start, seg.beat, seg.tempo, self.rate, sample), seg.tempo

    def _post(self, seg: Segment) -> bool:
        """Queue ``seg`` on the clock, then Kelly's own later changes again (a segment
        replaces every queued one that starts at or after it), their beats continuing
        from ``seg``."""
        if not self.post(seg.start, seg.tempo, seg.beat, self.bar_beats):
            self.counts["refused_posts"] += 1
            return False
        self.segment = prev = seg
        kept = []
        for p in self.pending:
            if p.start <= seg.start:
                continue
            p = Segment(
                p.start, beat_at(prev.start, prev.beat, prev.tempo, self.rate, p.start), p.tempo
            )
            if not self.post(p.start, p.tempo, p.beat, self.bar_beats):
                self.counts["refused_posts"] += 1
                break
            kept.append(p)
            prev = p
        self.pending = kept
        return True

    # -- the composer's requests ------------------------------------------------------

    def request(self, start: int, wish: float, peers: int) -> None:
        """The composer's bar from ``start`` (sample) wishes ``wish`` bpm."""
        s = self.settings
        self.composer_bars.append((int(start), float(wish)))
        wish = min(max(wish, s.tempo_min), s.tempo_max)
        if s.mode == "follow":
            if self.last_proposed is None and peers > 0:
                self.last_proposed = wish  # joining a playing session: its tempo first
                return
            if self.last_proposed is not None and abs(wish - self.last_proposed) < (
                s.request_step_bpm
            ):
                return
        if not self.timeline.ready:
            return
        beat, tempo = self.clock_at(start)
        line = round(start + self.bar_beats * 60.0 / tempo * self.rate)
        if s.mode == "lead" and abs(self.clock_at(line)[1] - wish) < SAME_TEMPO:
            return
        change = Segment(line, beat + self.bar_beats, wish)
        self.pending = [p for p in self.pending if p.start < line]
        if self.post(change.start, change.tempo, change.beat, self.bar_beats):
            self.pending.append(change)
            self.last_proposed = wish
            self.counts["proposals"] += 1
        else:
            self.counts["refused_posts"] += 1

    # -- every poll -------------------------------------------------------------------

    def observe_clock(self, counter: int, now: float) -> None:
        """The transport showed ``counter`` at ``now``."""
        self.timeline.observe(counter, now)

    def tick(self, now: float, snap: Snapshot) -> Actions:
        """One look at the session; see the module docstring."""
        s = self.settings
        act = Actions()
        dt = 0.0 if self.last_now is None else max(0.0, now - self.last_now)
        self.last_now = now
        self.snapshot = snap
        if not self.timeline.ready:
            return act
        half_poll = s.poll_ms / 2e3
        due = [p for p in self.pending if self.heard_at(p.start) <= now + half_poll]
        if due:
            # Kelly's own change: its bar line has come, the session gets it now.
            self.pending = [p for p in self.pending if p not in due]
            self.segment = due[-1]
            act.commit_tempo = self.expected = self.tempo = due[-1].tempo
            self.slewing = False
            return act  # the snapshot predates the commit
        # Alone, the tempo changes only when Kelly meets a session: a meeting, not a jump.
        met = self.snapshot_peers == 0
        self.snapshot_peers = snap.peers
        if met and snap.peers > 0 and s.mode == "lead":
            act.force_beat = self.clock_at(self.timeline.sample_at(now))[0]
            act.commit_tempo = self.expected
            return act
        if abs(snap.tempo - self.expected) > SAME_TEMPO:
            if s.mode == "lead":
                self.counts["overridden"] += 1
                act.commit_tempo = self.expected
                return act
            self.pending = []
            if met:
                self.tempo, self.slewing = snap.tempo, False
            else:
                self.counts["peer_changes"] += 1
                if abs(snap.tempo - self.tempo) > s.max_jump_bpm:
                    self.counts["tempo_jumps"] += 1
                    self.slewing = True
            self.expected = snap.tempo
        self._steer_tempo(snap.tempo, dt)
        self._correct(now, snap)
        return act

    def _steer_tempo(self, session: float, dt: float) -> None:
        s = self.settings
        target = min(max(session, s.tempo_min), s.tempo_max)
        clamped = abs(target - session) > SAME_TEMPO
        if clamped and not self.clamped:
            self.counts["tempo_clamped"] += 1
        self.clamped = clamped
        if self.slewing:
            step = s.slew_bpm_per_s * dt
            if abs(target - self.tempo) <= step:
                self.tempo, self.slewing = target, False
            else:
                self.tempo += math.copysign(step, target - self.tempo)
        else:
            self.tempo = target
        was = self.locked
        self.locked = not self.slewing and not clamped
        if self.locked and not was:
            self.counts["relocks"] += int(self.ever_locked)
            self.ever_locked = True

    def _correct(self, now: float, snap: Snapshot) -> None:
        """Re-anchor the clock at the sample showing now if it is off the session."""
        sample = round(self.timeline.sample_at(now))
        if any(p.start <= sample for p in self.pending):
            return  # about to switch to Kelly's own change
        clock_beat, clock_tempo = self.clock_at(sample)
        if self.locked:
            want = snap.beat + (self.heard_at(sample) - snap.t) * snap.tempo / 60.0
        else:
            want = clock_beat  # slewing or clamped: the phase runs free
        self.error_ms = (want - clock_beat) * 60_000.0 / self.tempo
        off = abs(self.error_ms) > self.settings.tolerance_ms
        if (off or abs(self.tempo - clock_tempo) > SAME_TEMPO) and self._post(
            Segment(sample, want, self.tempo)
        ):
            self.counts["corrections"] += int(off)

    # -- what others see ----------------------------------------------------------------

    def words(self) -> LinkWords:
        """The transport's Link words: linked, stopped, Kelly's next queued change."""
        snap = self.snapshot
        flags = LINK_LINKED
        if self.settings.start_stop_sync and snap is not None and not snap.playing:
            flags |= LINK_STOPPED
        if self.pending:
            first = self.pending[0]
            return LinkWords(flags, first.start, first.tempo)
        return LinkWords(flags)

    def status(self, now: float) -> dict[str, Any]:
        """Telemetry: peers, tempi, phase, lock and counts."""
        snap = self.snapshot
        q = self.settings.quantum
        beat = None if snap is None else snap.beat + (now - snap.t) * snap.tempo / 60.0
        return {
            "mode": self.settings.mode,
            "peers": snap.peers if snap else 0,
            "session_tempo": round(snap.tempo, 4) if snap else None,
            "tempo": round(self.tempo, 4),
            "beat": None if beat is None else round(beat, 4),
            "phase": None if beat is None else round(beat % q, 4),
            "quantum": q,
            "playing": snap.playing if snap else None,
            "locked": self.locked,
            "slewing": self.slewing,
            "clamped": self.clamped,
            "error_ms": round(self.error_ms, 4),
            # CLOCK_MONOTONIC_RAW seconds at which the transport shows sample 0.
            "sample_clock_offset_s": (
                round(self.timeline.offset, 6) if self.timeline.ready else None
            ),
            "timeline_jumps": self.timeline.jumps,
            # A copy first: the Link thread appends while the actor's thread reports.
            "composer_bars": [list(b) for b in list(self.composer_bars)],
            **self.counts,
        }
