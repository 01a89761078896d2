"""The Link thread: one ``aalink`` peer in the clock actor, steering the clock.

``aalink`` is asyncio-based (a ``Link`` needs a running event loop), so the thread
runs a loop of its own that wakes every ``poll_ms`` — or at the exact moment one of
Kelly's own tempo changes is due — reads the transport (the clock's
sample ↔ time relation), takes a snapshot of the session and lets
:class:`~kelly_actors.link.follower.LinkFollower` decide. The clock hears of it
only through the engine's tempo queue (``request_tempo``, the same queue the
composer's requests use without Link), so the audio callback never waits on the
thread, on Link or on the network; while Link is on, the thread is that queue's
only producer.

If the thread fails (an exception from ``aalink``), it says why in ``error``,
clears the transport's Link words, and the clock plays on from its last segment;
the actor then sends the composer's requests to the engine again.
"""

from __future__ import annotations

import asyncio
import collections
import math
import random
import threading
import time
from typing import Any

from kelly_actors.bus.transport import LinkWords, Transport
from kelly_actors.link.config import LinkSettings
from kelly_actors.link.follower import LinkFollower, Post, Snapshot

INSTALL_HINT = "pip install 'kelly-actors[link]'"
#: A session snapshot whose two clock reads lie further apart (s) is read again.
SNAPSHOT_SPAN_S = 50e-6
SNAPSHOT_TRIES = 5


def missing() -> str | None:
    """Why Link cannot run here (``aalink`` not importable), or None."""
    try:
        import aalink  # noqa: F401
    except ImportError as exc:
        return f"aalink is not installed ({INSTALL_HINT}): {exc}"
    return None


class Unlinked:
    """Link off (or ``aalink`` missing): the composer's requests go to the engine."""

    def __init__(self, why: str | None = None) -> None:
        self.why = why

    def sink(self, engine: Any) -> Post:
        return engine.request_tempo

    def status(self) -> dict[str, Any]:
        return {"enabled": False, "error": self.why}

    def close(self) -> None:
        pass


def open_link(
    settings: LinkSettings, ctx: Any, engine: Any, latency_frames: int
) -> LinkSession | Unlinked:
    """The clock actor's session, running; :class:`Unlinked` when Link is off or
    ``aalink`` is missing (then the actor is degraded with the reason, and its clock
    plays as without Link). ``ctx``: the actor's context (transport, ``set_degraded``);
    ``engine``: the audio engine (``request_tempo``)."""
    if not settings.enabled:
        return Unlinked()
    why = missing()
    if why is not None:
        ctx.set_degraded(f"link: {why}")
        return Unlinked(why)
    session = LinkSession(settings, ctx.transport, engine.request_tempo, latency_frames)
    session.start()
    return session


def raw_now() -> float:
    """Seconds of ``CLOCK_MONOTONIC_RAW``: Link's clock on Linux."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW) / 1e9


class LinkSession:
    """Owns the thread; the actor's thread calls :meth:`request`, :meth:`status`,
    :meth:`close`.

    Args:
        settings: the ``[link]`` table.
        transport: the transport block (read for the clock, Link words written).
        post: the engine's ``request_tempo``.
        latency_frames: the device's output latency (frames).
    """

    def __init__(
        self, settings: LinkSettings, transport: Transport, post: Post, latency_frames: int = 0
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.post = post
        self.latency_frames = latency_frames
        self.follower: LinkFollower | None = None
        self.requests: collections.deque[tuple[int, float]] = collections.deque()
        self.error: str | None = None
        self._random = random.Random()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kelly-link", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and self.error is None

    def request(self, start: int, tempo: float, beat: float = 0.0, beats_per_bar: int = 4) -> bool:
        """The composer's bar from ``start`` (sample) wishes ``tempo`` bpm (the beat and
        bar of the request are the session's now, not the composer's). Always taken."""
        self.requests.append((int(start), float(tempo)))
        return True

    def sink(self, engine: Any) -> Post:
        """Where the composer's tempo requests go: this session while it runs, else the
        engine, so a failed session leaves the composer leading the clock."""
        return self.request if self.alive else engine.request_tempo

    def status(self) -> dict[str, Any]:
        follower = self.follower
        base: dict[str, Any] = {"enabled": True, "error": self.error}
        if follower is None:
            return {**base, "mode": self.settings.mode, "peers": 0, "locked": False}
        return {**base, **follower.status(raw_now())}

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as exc:  # aalink failed: the clock plays on without the session
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.transport.write_link(LinkWords())

    async def _main(self) -> None:
        import aalink

        s = self.settings
        clock = self._running_clock()
        if clock is None:
            return
        link = aalink.Link(clock.tempo)
        link.quantum = s.quantum
        link.start_stop_sync_enabled = s.start_stop_sync
        link.enabled = True
        try:
            follower = LinkFollower(
                s, clock.sample_rate, self.post, clock, self.latency_frames, clock.beats_per_bar
            )
            self.follower = follower
            now = raw_now()
            follower.observe_clock(clock.sample_counter, now)
            beat_now = follower.clock_at(follower.timeline.sample_at(now))[0]
            if s.mode == "lead":
                link.force_beat(beat_now)
                if s.start_stop_sync:
                    link.playing = True
            else:
                link.request_beat(beat_now)
            await self._follow(link, follower)
        finally:
            if s.mode == "lead" and s.start_stop_sync:
                link.playing = False
            link.enabled = False

    def _running_clock(self) -> Any:
        """The transport once the clock runs (a fresh performance's pre-roll first)."""
        while not self._stop.is_set():
            state = self.transport.read()
            if state is not None and state.running:
                return state
            time.sleep(self.settings.poll_ms / 1e3)
        return None

    async def _follow(self, link: Any, follower: LinkFollower) -> None:
        poll = self.settings.poll_ms / 1e3
        while not self._stop.is_set():
            state = self.transport.read()
            now = raw_now()
            if state is not None and state.running:
                follower.observe_clock(state.sample_counter, now)
            while self.requests:
                start, tempo = self.requests.popleft()
                follower.request(start, tempo, link.num_peers)
            act = follower.tick(now, _snapshot(link))
            if act.force_beat is not None:
                link.force_beat(act.force_beat)
            if act.commit_tempo is not None:
                link.tempo = act.commit_tempo
            self.transport.write_link(follower.words())
            # A random share of the period: looks at every phase of the audio block, so
            # the least observation delay (the sample clock's offset) is found within the
            # timeline's window; a fixed period beating with the block would bias it.
            wake = poll * self._random.uniform(0.5, 1.0)
            if follower.pending:
                due = follower.heard_at(follower.pending[0].start) - raw_now()
                wake = min(wake, max(0.0, due))
            # A plain sleep, to the microsecond: asyncio's waits are whole milliseconds,
            # and nothing else runs on this loop (no aalink callback or sync is used).
            time.sleep(wake)
            await asyncio.sleep(0)


def _snapshot(link: Any) -> Snapshot:
    """The session now. The beat's time is the middle of two clock reads around it; a pair
    further apart than SNAPSHOT_SPAN_S (the thread was preempted between them) is read
    again, up to SNAPSHOT_TRIES times, and the narrowest kept."""
    best = (math.inf, 0.0, 0.0)
    for _ in range(SNAPSHOT_TRIES):
        before = raw_now()
        beat = link.beat
        after = raw_now()
        if after - before < best[0]:
            best = (after - before, (before + after) / 2, beat)
        if best[0] < SNAPSHOT_SPAN_S:
            break
    _, t, beat = best
    return Snapshot(t, beat, link.tempo, link.num_peers, link.playing)
