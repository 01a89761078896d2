"""The synthetic sensor stream: it sweeps its range, varies beat to beat, drops packets
now and then, is the same for the same seed, and is played on time."""

from __future__ import annotations

import itertools
import statistics

import pytest

from kelly_actors.sensors.signal import refusal
from kelly_actors.sensors.simulate import Settings, Sweep, packets, play
from kelly_actors.sensors.spec import KINDS


def take(settings: Settings, until_s: float) -> list[tuple[float, str, float]]:
    return list(itertools.takewhile(lambda p: p[0] <= until_s, packets(settings)))


def test_heart_rate_sweeps_its_range_once_a_period_with_beat_to_beat_variability() -> None:
    stream = take(Settings(hr=Sweep(70.0, 150.0), period_s=60.0, drop=0.0), 60.0)
    assert {address for _, address, _ in stream} == {"/kelly/sensor/heart_rate"}
    start = [v for t, _, v in stream if t < 5.0]
    top = [v for t, _, v in stream if 28.0 < t < 32.0]
    end = [v for t, _, v in stream if t > 56.0]
    assert statistics.mean(start) == pytest.approx(71.0, abs=3.0)
    assert statistics.mean(top) == pytest.approx(150.0, abs=5.0)
    assert statistics.mean(end) == pytest.approx(71.0, abs=3.0)
    # One packet per beat: as many as the mean rate makes (≈ 110 bpm for a minute).
    assert 100 <= len(stream) <= 120
    # Beat-to-beat variability (RMSSD of RR at rest) of a few tens of ms, as a heart has.
    rr = [b - a for (a, _, _), (b, _, _) in itertools.pairwise(stream) if b < 5.0]
    rmssd = statistics.mean((y - x) ** 2 for x, y in itertools.pairwise(rr)) ** 0.5
    assert 0.005 < rmssd < 0.08
    assert all(refusal(KINDS["heart_rate"], v) is None for _, _, v in stream)


def test_packets_are_dropped_now_and_then_and_the_stream_is_the_seeds() -> None:
    full = take(Settings(eda=Sweep(2.0, 8.0), rate_hz=20.0, drop=0.0), 100.0)
    lossy = take(Settings(eda=Sweep(2.0, 8.0), rate_hz=20.0, drop=0.05), 100.0)
    assert len(full) == 2001
    assert 0.03 < 1 - len(lossy) / len(full) < 0.07
    again = take(Settings(eda=Sweep(2.0, 8.0), rate_hz=20.0, drop=0.05), 100.0)
    assert again == lossy
    other = take(Settings(eda=Sweep(2.0, 8.0), rate_hz=20.0, drop=0.05, seed=1), 100.0)
    assert other != lossy


def test_eda_and_motion_follow_the_cycle_within_their_physical_range() -> None:
    settings = Settings(eda=Sweep(2.0, 8.0), motion=Sweep(0.02, 0.6), period_s=40.0, drop=0.0)
    stream = take(settings, 40.0)
    eda = {round(t, 3): v for t, a, v in stream if a == "/kelly/sensor/eda"}
    motion = {round(t, 3): v for t, a, v in stream if a == "/kelly/sensor/motion"}
    assert len(eda) == len(motion) == 801
    rest = [v for t, v in eda.items() if t < 2.0]
    aroused = [v for t, v in eda.items() if 19.0 < t < 21.0]
    assert statistics.mean(rest) == pytest.approx(2.0, abs=0.5)
    assert statistics.mean(aroused) == pytest.approx(8.0, abs=0.8)
    still = [v for t, v in motion.items() if t < 2.0]
    dancing = [v for t, v in motion.items() if 19.0 < t < 21.0]
    assert statistics.mean(still) == pytest.approx(1.0, abs=0.03)
    assert statistics.pstdev(dancing) > 10 * statistics.pstdev(still)
    assert all(refusal(KINDS["eda"], v) is None for v in eda.values())
    assert all(refusal(KINDS["motion"], v) is None for v in motion.values())


def test_play_sends_each_packet_at_its_time_and_stops_at_the_duration() -> None:
    now = [100.0]
    sent: list[tuple[float, str, float]] = []

    def sleep(s: float) -> None:
        now[0] += s

    stream = iter([(0.0, "/a", 1.0), (0.5, "/b", 2.0), (1.5, "/a", 3.0), (2.5, "/a", 4.0)])
    count = play(stream, lambda a, v: sent.append((now[0], a, v)), 2.0, lambda: now[0], sleep)
    assert count == 3
    assert sent == [(100.0, "/a", 1.0), (100.5, "/b", 2.0), (101.5, "/a", 3.0)]


@pytest.mark.parametrize(("text", "sweep"), [("70..150", Sweep(70, 150)), ("72", Sweep(72, 72))])
def test_ranges_parse(text: str, sweep: Sweep) -> None:
    assert Sweep.parse(text) == sweep


@pytest.mark.parametrize("text", ["fast", "70..", "nan..80", "70...150"])
def test_bad_ranges_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Sweep.parse(text)
