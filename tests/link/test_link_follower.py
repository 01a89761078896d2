"""The Link follower's decisions against a simulated session and the real MusicalClock
(pure logic: no thread, no aalink, no network; tests/link/test_link_peers.py plays it
against a real Link peer)."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from kelly_actors.bus.clock import MusicalClock, SampleTimeline
from kelly_actors.bus.transport import LINK_LINKED, LINK_STOPPED
from kelly_actors.config.typed import ConfigError, from_mapping
from kelly_actors.link.config import LinkSettings
from kelly_actors.link.follower import LinkFollower, Snapshot

RATE, BLOCK = 48_000, 256
PERIOD = BLOCK / RATE
T0 = 1000.0  # the time (s) of sample 0


class Session:
    """A Link timeline: piecewise straight, changed at a time, beat kept there."""

    def __init__(self, tempo: float, beat_at_t0: float = 0.0) -> None:
        self.t, self.beat, self.tempo = T0, beat_at_t0, tempo
        self.peers, self.playing = 1, True

    def beat_at(self, t: float) -> float:
        return self.beat + (t - self.t) * self.tempo / 60.0

    def set_tempo(self, tempo: float, t: float) -> None:
        self.beat, self.t, self.tempo = self.beat_at(t), t, tempo

    def snapshot(self, t: float) -> Snapshot:
        return Snapshot(t, self.beat_at(t), self.tempo, self.peers, self.playing)


class Rig:
    """The clock (advanced block by block), the follower, and the session, in step.

    ``drift``: the sound card's rate error against the session's clock (0.0003 = 300 ppm
    fast); ``jitter``: the largest delay (s) before the follower sees a published counter.
    """

    def __init__(
        self,
        session: Session,
        clock_tempo: float = 120.0,
        drift: float = 0.0,
        jitter: float = 0.0,
        **settings: object,
    ) -> None:
        self.session = session
        self.drift, self.jitter = drift, jitter
        self.random = random.Random(7)
        self.clock = MusicalClock(RATE, BLOCK, clock_tempo)
        self.settings = LinkSettings(enabled=True, **settings)  # type: ignore[arg-type]
        self.posts: list[tuple[int, float, float, int]] = []
        self.follower = LinkFollower(
            self.settings, RATE, self._post, self.clock.state(), bar_beats=4
        )
        self.now = T0
        self.tempi: list[float] = []

    def _post(self, start: int, tempo: float, beat: float, bpb: int) -> bool:
        self.posts.append((start, tempo, beat, bpb))
        return self.clock.request(start, tempo, beat, bpb)

    def run(self, seconds: float, poll: float = 0.005) -> None:
        end = self.now + seconds
        while self.now < end:
            self.now += poll
            while self.time_of(self.clock.sample + BLOCK) <= self.now:
                self.clock.advance(BLOCK)
            published = self.time_of(self.clock.sample)
            seen = published + self.random.uniform(0.0, self.jitter)
            if seen <= self.now:
                self.follower.observe_clock(self.clock.sample, seen)
            act = self.follower.tick(self.now, self.session.snapshot(self.now))
            if act.commit_tempo is not None:
                self.session.set_tempo(act.commit_tempo, self.now)
            self.tempi.append(self.clock.current.tempo)

    def time_of(self, sample: float) -> float:
        """When the sound card reaches ``sample`` (s of the session's clock)."""
        return T0 + sample / RATE / (1.0 + self.drift)

    def phase_error_ms(self) -> float:
        """Clock beat against the session's at the clock's sample, in ms."""
        sample = self.clock.sample
        diff = self.clock.beat_at(sample) - self.session.beat_at(self.time_of(sample))
        return diff * 60_000.0 / self.session.tempo


def test_the_clock_locks_to_the_session_tempo_and_phase() -> None:
    rig = Rig(Session(97.5, beat_at_t0=13.37), clock_tempo=120.0)
    rig.run(1.0)
    assert rig.follower.locked
    assert rig.clock.current.tempo == pytest.approx(97.5, abs=1e-9)
    assert abs(rig.phase_error_ms()) < 0.3
    assert rig.follower.words().flags == LINK_LINKED


def test_the_lock_holds_with_a_drifting_sound_card_and_late_observations() -> None:
    rig = Rig(Session(128.0, beat_at_t0=2.5), drift=3e-4, jitter=0.004)
    rig.run(1.5)
    worst = 0.0
    for _ in range(200):  # 2 s more, checked every 10 ms
        rig.run(0.01)
        worst = max(worst, abs(rig.phase_error_ms()))
    assert rig.follower.locked and worst < 1.0
    assert rig.follower.counts["corrections"] >= 1  # 300 ppm is 0.3 ms a second


def test_a_peer_jumping_100_bpm_is_slewed_counted_and_locked_again() -> None:
    rig = Rig(Session(120.0), clock_tempo=120.0, max_jump_bpm=30.0, slew_bpm_per_s=60.0)
    rig.run(0.5)
    rig.session.set_tempo(220.0, rig.now)
    rig.posts.clear()
    rig.run(0.5)
    status = rig.follower.status(rig.now)
    assert status["tempo_jumps"] == 1 and status["slewing"] and not status["locked"]
    tempi = [120.0] + [tempo for _, tempo, _, _ in rig.posts]
    steps = [abs(b - a) for a, b in itertools.pairwise(tempi)]
    assert max(steps) <= 60.0 * 0.005 + 1e-9  # never more than the slew allows per poll
    rig.run(1.5)
    assert rig.follower.locked and rig.follower.counts["relocks"] == 1
    assert rig.clock.current.tempo == pytest.approx(220.0, abs=1e-9)
    assert abs(rig.phase_error_ms()) < 0.3


def test_a_session_outside_the_range_plays_at_the_bound_and_is_counted() -> None:
    rig = Rig(Session(120.0), tempo_max=180.0)
    rig.run(0.3)
    rig.session.set_tempo(150.0, rig.now)
    rig.run(0.3)
    rig.session.set_tempo(300.0, rig.now)
    rig.run(4.0)
    assert rig.clock.current.tempo == pytest.approx(180.0)
    assert rig.follower.clamped and not rig.follower.locked
    assert rig.follower.counts["tempo_clamped"] == 1


def test_follow_proposes_the_composers_tempo_one_bar_after_its_bar_and_announces_it() -> None:
    rig = Rig(Session(120.0), clock_tempo=120.0, request_step_bpm=2.0)
    rig.session.peers = 0  # alone: Kelly's first wish is proposed
    rig.run(0.5)
    bar = 4 * 60.0 / 120.0 * RATE
    line = math.ceil(rig.clock.beat_at(rig.clock.sample) / 4) * 4
    start = round(rig.clock.sample + (line - rig.clock.beat_at(rig.clock.sample)) * bar / 4)
    rig.follower.request(start, 132.0, peers=0)
    words = rig.follower.words()
    assert words.next_sample == round(start + bar) and words.next_tempo == 132.0
    rig.run((words.next_sample - rig.clock.sample) / RATE + 0.05)
    assert rig.session.tempo == 132.0 and rig.clock.current.tempo == 132.0
    # The bar line kept its place: beat 4 beats after the request's bar line.
    assert rig.clock.beat_at(words.next_sample) == pytest.approx(line + 4, abs=1e-3)
    assert abs(rig.phase_error_ms()) < 0.5
    rig.follower.request(start + 3 * round(bar), 133.0, peers=0)  # under the step: not proposed
    assert rig.follower.words().next_tempo == 0.0 and rig.follower.counts["proposals"] == 1


def test_follow_with_peers_takes_the_sessions_tempo_first_and_yields_to_a_peer() -> None:
    rig = Rig(Session(100.0), clock_tempo=120.0)
    rig.run(0.3)
    rig.follower.request(rig.clock.sample + RATE, 120.0, peers=1)  # joining: no proposal
    assert rig.follower.counts["proposals"] == 0
    rig.session.set_tempo(110.0, rig.now)  # another peer's change, under the jump limit
    rig.run(0.3)
    assert rig.clock.current.tempo == pytest.approx(110.0)
    assert rig.follower.counts["peer_changes"] == 1 and rig.follower.counts["tempo_jumps"] == 0


def test_lead_undoes_another_peers_change_at_once() -> None:
    rig = Rig(Session(120.0), clock_tempo=120.0, mode="lead")
    rig.run(0.3)
    rig.session.set_tempo(180.0, rig.now)
    rig.run(0.05)
    assert rig.session.tempo == 120.0 and rig.follower.counts["overridden"] == 1
    assert min(rig.tempi) == max(rig.tempi) == 120.0


def test_a_stopped_session_says_so_in_the_words_with_start_stop_sync() -> None:
    session = Session(120.0)
    session.playing = False
    rig = Rig(session, start_stop_sync=True)
    rig.run(0.05)
    assert rig.follower.words().flags == LINK_LINKED | LINK_STOPPED
    off = Rig(Session(120.0), start_stop_sync=False)
    off.session.playing = False
    off.run(0.05)
    assert off.follower.words().flags == LINK_LINKED


def test_the_sample_timeline_takes_the_earliest_observation_and_follows_a_jump() -> None:
    timeline = SampleTimeline(RATE, window_s=1.0)
    for k, delay in enumerate([0.003, 0.0004, 0.002, 0.0001, 0.004]):
        counter = k * BLOCK
        timeline.observe(counter, 5.0 + counter / RATE + delay)
    assert timeline.offset == pytest.approx(5.0001)
    assert timeline.sample_at(timeline.time_of(12_345)) == pytest.approx(12_345)
    timeline.observe(10 * BLOCK, 9.0)  # the clock restarted from an earlier counter
    assert timeline.jumps == 1 and timeline.offset == pytest.approx(9.0 - 10 * BLOCK / RATE)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"mode": "chase"}, "mode must be one of follow, lead"),
        ({"quantum": 3}, "quantum must be one of 4, 8, 16"),
        ({"tempo_min": 200.0, "tempo_max": 100.0}, r"tempo_min \(200\) must be below tempo_max"),
        ({"poll_ms": 0.1}, "poll_ms must be within"),
        ({"tempo": 120}, "tempo"),
    ],
)
def test_a_bad_link_table_is_a_clear_error(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_mapping(LinkSettings, table, "actors.audio.options.link")


def test_the_sample_timeline_follows_a_clock_that_fell_behind_for_good() -> None:
    timeline = SampleTimeline(RATE, window_s=1.0)
    t = 5.0
    for k in range(200):  # 1 s on time
        t = 5.0 + k * PERIOD
        timeline.observe(k * BLOCK, t + 0.0002)
    assert timeline.offset == pytest.approx(5.0002)
    # A 60 ms stall the clock catches up on: the relation stands.
    stalled = 199 * BLOCK
    for k in range(12):
        timeline.observe(stalled, t + 0.0002 + k * 0.005)
    assert timeline.offset == pytest.approx(5.0002) and timeline.shifts == 0
    # A 150 ms stall it skipped: from then on every block is 150 ms later than before.
    for k in range(200, 260):
        timeline.observe(k * BLOCK, 5.15 + k * PERIOD + 0.0002)
    assert timeline.shifts == 1 and timeline.offset == pytest.approx(5.1502)
