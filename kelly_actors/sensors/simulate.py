"""A realistic synthetic sensor stream, for demos and tests (``kelly sensor simulate``).

Every stream follows one slow cycle of ``period_s`` seconds: it starts at the low end of
its range, reaches the high end half a period later and comes back,
``u(t) = (1 − cos 2πt/P) / 2``. On top of that:

* **heart rate** arrives once per beat, as the instantaneous rate of the last beat-to-beat
  (RR) interval: RR = 60 / HR(t) × (1 + respiratory sinus arrhythmia, ±3 % at 0.25 Hz,
  + 2 % Gaussian variability), read with ±0.5 bpm of sensor noise;
* **EDA** (µS) arrives at ``rate_hz``: the tonic level of the range plus phasic skin
  conductance responses (a Poisson process, 1–5 a minute rising with ``u``, each
  0.05–0.35 µS with a 0.75 s rise and a 2 s decay) plus 0.01 µS of noise;
* **motion** arrives at ``rate_hz``: the magnitude (g) of gravity plus three Gaussian
  axes whose standard deviation (g) sweeps the range: still at 0.02, dancing at 0.6;
* each packet is dropped with probability ``drop``, as a wireless link does.

A stream is a pure function of its settings and ``seed``: :func:`packets` yields
``(time_s, address, value)`` in time order, and :func:`play` sends them on time.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

#: Respiratory sinus arrhythmia: its depth (fraction of RR) and the breathing rate (Hz).
RSA_DEPTH = 0.03
BREATH_HZ = 0.25
#: Beat-to-beat variability beyond breathing (fraction of RR, one standard deviation).
RR_JITTER = 0.02
#: The heart-rate sensor's own noise (bpm, one standard deviation).
HR_NOISE_BPM = 0.5
#: Skin conductance responses: rate at rest and at the top of the cycle (per minute),
#: amplitude range (µS), rise and decay time constants (s), sensor noise (µS).
SCR_PER_MIN = (1.0, 5.0)
SCR_AMPLITUDE = (0.05, 0.35)
SCR_RISE_S, SCR_DECAY_S = 0.75, 2.0
EDA_NOISE = 0.01

#: One packet: (seconds from the start, OSC address, value in the sensor's unit).
Packet = tuple[float, str, float]


@dataclass(frozen=True)
class Sweep:
    """A range a stream sweeps once a period: ``low`` at the start, ``high`` half-way."""

    low: float
    high: float

    def at(self, u: float) -> float:
        return self.low + (self.high - self.low) * u

    @classmethod
    def parse(cls, text: str) -> Sweep:
        """``"70..150"`` or ``"70"`` (a constant); ValueError with the reason."""
        low, sep, high = text.partition("..")
        try:
            if high.startswith("."):  # "70...150"
                raise ValueError(text)
            lo = float(low)
            hi = float(high) if sep else lo
        except ValueError:
            raise ValueError(f"expected LOW..HIGH or a number, got {text!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"the range must be finite, got {text!r}")
        return cls(lo, hi)


def cycle(t: float, period_s: float) -> float:
    """Where the slow cycle stands at ``t`` s: 0 at the start, 1 half a period in."""
    return (1.0 - math.cos(2.0 * math.pi * t / period_s)) / 2.0


def heart_beats(sweep: Sweep, period_s: float, rng: random.Random) -> Iterator[tuple[float, float]]:
    """``(beat time s, measured bpm)`` forever, one per beat."""
    t = 0.0
    while True:
        bpm = max(20.0, sweep.at(cycle(t, period_s)))
        rsa = RSA_DEPTH * math.sin(2.0 * math.pi * BREATH_HZ * t)
        rr = 60.0 / bpm * max(0.5, 1.0 + rsa + rng.gauss(0.0, RR_JITTER))
        t += rr
        yield t, 60.0 / rr + rng.gauss(0.0, HR_NOISE_BPM)


def skin_conductance(
    sweep: Sweep, period_s: float, rate_hz: float, rng: random.Random
) -> Iterator[tuple[float, float]]:
    """``(time s, µS)`` forever at ``rate_hz``."""
    dt = 1.0 / rate_hz
    responses: list[tuple[float, float]] = []  # (onset s, amplitude µS)
    peak = _scr_peak()
    for k in itertools.count():
        t = k / rate_hz
        u = cycle(t, period_s)
        per_s = (SCR_PER_MIN[0] + (SCR_PER_MIN[1] - SCR_PER_MIN[0]) * u) / 60.0
        if rng.random() < per_s * dt:
            responses.append((t, rng.uniform(*SCR_AMPLITUDE)))
        responses = [(t0, a) for t0, a in responses if t - t0 < 8 * SCR_DECAY_S]
        phasic = sum(a * _scr_shape(t - t0) / peak for t0, a in responses)
        yield t, max(0.01, sweep.at(u) + phasic + rng.gauss(0.0, EDA_NOISE))


def _scr_shape(t: float) -> float:
    return math.exp(-t / SCR_DECAY_S) - math.exp(-t / SCR_RISE_S)


def _scr_peak() -> float:
    tp = math.log(SCR_DECAY_S / SCR_RISE_S) * SCR_RISE_S * SCR_DECAY_S / (SCR_DECAY_S - SCR_RISE_S)
    return _scr_shape(tp)


def accelerometer(
    sweep: Sweep, period_s: float, rate_hz: float, rng: random.Random
) -> Iterator[tuple[float, float]]:
    """``(time s, |acceleration| g)`` forever at ``rate_hz``: gravity plus movement."""
    for k in itertools.count():
        t = k / rate_hz
        sigma = max(0.0, sweep.at(cycle(t, period_s)))
        x, y, z = (rng.gauss(0.0, sigma) for _ in range(3))
        yield t, math.sqrt(x * x + y * y + (1.0 + z) ** 2)


@dataclass(frozen=True)
class Settings:
    """What to simulate: a sweep per sensor (None: not sent) and where to send it.

    Attributes:
        hr / eda / motion: bpm, µS, and g of movement (standard deviation per axis).
        period_s: the slow cycle (s).
        rate_hz: samples per second of EDA and motion (heart rate comes per beat).
        drop: the probability (0…1) that a packet is lost.
        seed: the random stream.
        addresses: the OSC address of each sensor, by kind.
    """

    hr: Sweep | None = None
    eda: Sweep | None = None
    motion: Sweep | None = None
    period_s: float = 60.0
    rate_hz: float = 20.0
    drop: float = 0.02
    seed: int = 0
    hr_address: str = "/kelly/sensor/heart_rate"
    eda_address: str = "/kelly/sensor/eda"
    motion_address: str = "/kelly/sensor/motion"


def packets(settings: Settings) -> Iterator[Packet]:
    """Every packet of the stream in time order (forever), dropped ones left out."""
    rng = random.Random(settings.seed)
    s = settings
    streams: list[Iterator[Packet]] = []
    if s.hr is not None:
        beats = heart_beats(s.hr, s.period_s, random.Random(rng.random()))
        streams.append((t, s.hr_address, v) for t, v in beats)
    if s.eda is not None:
        eda = skin_conductance(s.eda, s.period_s, s.rate_hz, random.Random(rng.random()))
        streams.append((t, s.eda_address, v) for t, v in eda)
    if s.motion is not None:
        moves = accelerometer(s.motion, s.period_s, s.rate_hz, random.Random(rng.random()))
        streams.append((t, s.motion_address, v) for t, v in moves)
    drops = random.Random(rng.random())
    for packet in heapq.merge(*streams):
        if drops.random() >= s.drop:
            yield packet


def play(
    stream: Iterator[Packet],
    send: Callable[[str, float], None],
    duration_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Send each packet of ``stream`` when its time comes, for ``duration_s`` seconds
    (0: until interrupted); returns how many were sent."""
    start = clock()
    sent = 0
    for t, address, value in stream:
        if duration_s and t > duration_s:
            break
        wait = start + t - clock()
        if wait > 0:
            sleep(wait)
        send(address, value)
        sent += 1
    return sent
