"""Failover: what the warm standby synth hides, what it costs, and the audio actor's own gap.

1. **Standby synth** (null backend, recorded). The two-synth graph of
   ``tests/support/standby_support.py`` (``synth`` and its twin ``synth_b`` in lockstep, a
   seeded :class:`~kelly_actors.demo.score.ScoreActor` score) plays N seconds while the
   synth playing at the moment is SIGKILLed three times and SIGSTOPped once for 2 s; then an
   undisturbed run of the same config, seed and length. The two ``output.wav`` are compared
   frame by frame (16-bit, both channels): ``differing_samples`` counts the frames that differ,
   ``longest_gap_ms`` is the longest run of consecutive differing frames (0 when the standby
   covered every miss exactly). ``fallback_blocks`` is the audio actor's under-run count in the
   disturbed run (hold-and-fade blocks played because neither synth had a block; the pre-roll
   before the first block counts none), ``switches`` how often the callback changed synths.
   ``standby_cpu_percent`` / ``active_cpu_percent``: the status telemetry's ``cpu_percent``
   (per process, % of one CPU) of the synth standing by and of the one playing, sampled every
   0.5 s and averaged over the undisturbed run (the steady cost of keeping a standby; each
   run's own averages are in its figures, samples taken while a synth restarts left out).
   Per disturbance: whether it switched, its fallback blocks, and ``in_step_seen_after_ms``,
   when the status (0.2 s heartbeats: an upper bound) first showed the standby trusted again.

2. **Audio actor under JACK** (``backend = "jack"``, the compiled callback). A measuring JACK
   client of our own (``failover-meter``, a Python process callback) has its input connected to
   ``kelly:out_1``; the audio actor keeps that connection in its saved state, so its
   replacement reconnects it (if it does not within 5 s the meter connects itself, and says
   so). The audio actor is SIGKILLed (1 time with ``--quick``, 3 times otherwise, 3 s apart);
   ``audio_actor_gap_ms`` is, from the server's frame time read just before the kill, to the
   frame time of the first non-silent sample (|x| > 1e-4) the meter receives afterwards —
   the whole outage a listener hears: the supervisor seeing the death, the fork, opening the
   JACK client and loading the compiled callback, reconnecting, the first block. Also given:
   when ``kelly:out_1`` was registered again (server frame time, from the meter's
   port-registration callback), as ``port_back_ms``. The worst of the kills is the headline.

    python benchmarks/failover.py [--quick]     # 60 s runs, or 20 s and one JACK kill

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "support"))

from jack_meter import Meter, jack_running  # noqa: E402
from performance import Performance, wait_until  # noqa: E402
from standby_support import (  # noqa: E402
    SAMPLE_RATE,
    SYNTHS,
    CpuSampler,
    audio,
    differences,
    disturb_active,
    recording_offset,
    run_for,
    standby_graph_toml,
    wait_in_step,
)

from kelly_actors.audio import wav  # noqa: E402

MUSIC_S = 1.5  # the score starts at 0.5 s: music sounds from here
STOP_S = 2.0
#: When each disturbance begins (fraction of the run) and its kind.
PLAN = (("kill", 0.15), ("kill", 0.35), ("stop", 0.5), ("kill", 0.8))
METER = "failover-meter"
#: The audio actor's JACK client here: a name of its own, so that another performance on the
#: same server (its "kelly") is never the one measured; JACK may add "-NN" to it.
CLIENT = "kelly-failover"
OUT_1 = re.compile(rf"^{CLIENT}(-\d+)?:out_1$")


def _ms(samples: float) -> float:
    return round(samples / SAMPLE_RATE * 1e3, 2)


def _config(record: Path | None = None, backend: str = "null") -> str:
    # A 2 s stop must stay a stop: the synths' heartbeat timeout is longer.
    return standby_graph_toml(
        str(record) if record else "",
        backend=backend,
        jack_client=CLIENT,
        synth_heartbeat_timeout=STOP_S + 3.0,
    )


def _client_name(perf: Performance) -> str:
    """The JACK client the audio actor opened (its telemetry's ``backend``: "jack: NAME (…)")."""
    backend = audio(perf)["backend"]
    assert backend.startswith("jack: "), backend
    return backend[len("jack: ") :].split(" (")[0]


def _finish(perf: Performance, record: Path, until: int, cpu: CpuSampler) -> dict[str, Any]:
    tel = run_for(perf, until, until / SAMPLE_RATE + 60, cpu)
    actors = {a["name"]: a for a in perf.status()["actors"]}
    assert perf.stop(60) == 0, perf.stderr()
    samples, _ = wav.read(record / "output.wav")
    return {
        "samples": samples,
        "offset": recording_offset(tel),
        "fallback_blocks": actors["audio"]["telemetry"]["underruns"],
        "switches": actors["audio"]["telemetry"]["switches"],
        "late_blocks": actors["audio"]["telemetry"]["late_blocks"],
        "diverged_blocks": actors["audio"]["telemetry"]["diverged_blocks"],
        "restarts": {name: actors[name]["restarts"] for name in SYNTHS},
        "score_late_writes": actors["score"]["telemetry"]["late_writes"],
        **cpu.means(),
    }


def disturbed_run(work: Path, seconds: int) -> dict[str, Any]:
    record = work / "rec"
    cpu = CpuSampler()
    with Performance(work, _config(record)) as perf:
        perf.wait_ready(60)
        wait_in_step(perf, int(MUSIC_S * SAMPLE_RATE), 60)
        disturbances = []
        for kind, fraction in PLAN:
            run_for(perf, int(fraction * seconds * SAMPLE_RATE), seconds + 60, cpu)
            d = disturb_active(perf, kind, STOP_S, timeout=60)
            disturbances.append(
                {
                    "kind": d.kind,
                    "actor": d.actor,
                    "at_s": round(d.sample / SAMPLE_RATE, 3),
                    "fallback_blocks": d.underruns_after - d.underruns_before,
                    "switched": d.switches_after > d.switches_before,
                    "in_step_seen_after_ms": _ms(d.recovered_sample - d.sample),
                    **d.detail,
                }
            )
        figures = _finish(perf, record, seconds * SAMPLE_RATE, cpu)
    figures["disturbances"] = disturbances
    return figures


def undisturbed_run(work: Path, frames: int) -> dict[str, Any]:
    record = work / "rec"
    cpu = CpuSampler()
    with Performance(work, _config(record)) as perf:
        perf.wait_ready(60)
        return _finish(perf, record, frames, cpu)


# ---------------------------------------------------------------- JACK
def audio_actor_kills(work: Path, kills: int) -> list[dict[str, Any]]:
    """SIGKILL the JACK audio actor ``kills`` times; per kill, the gap a listener hears."""
    results = []
    with Performance(work, _config(backend="jack")) as perf:
        perf.wait_ready(60)
        wait_in_step(perf, int(MUSIC_S * SAMPLE_RATE), 60)
        meter = Meter(METER, OUT_1)
        try:
            client = _client_name(perf)
            meter.client.connect(f"{client}:out_1", f"{METER}:in")
            for k in range(kills):
                if k:
                    time.sleep(3.0)  # a stable run again: the next kill restarts at once
                # The actor publishes its connections every 0.5 s: wait until ours is kept.
                wait_until(
                    lambda: (
                        f"{METER}:in"
                        in perf.actor("audio")["control_state"]
                        .get("jack_connections", {})
                        .get("out_1", [])
                    ),
                    10,
                    "the audio actor to keep the meter's connection",
                )
                now = meter.client.frame_time
                wait_until(lambda n=now: meter.first_sound_after(n), 5, "sound at the meter")
                old = perf.actor("audio")["pid"]
                kill_frame = meter.client.frame_time
                os.kill(old, signal.SIGKILL)
                perf.wait_actor(
                    "audio",
                    lambda a, old=old: (
                        a["pid"] not in (None, old)
                        and a["state"] == "ready"
                        and a["telemetry"].get("backend", "").startswith("jack: ")
                    ),
                    30,
                    "the audio actor's successor",
                )
                client = _client_name(perf)
                reconnected_by = "audio actor"
                try:
                    wait_until(lambda c=client: meter.connected(c), 5, "the successor reconnecting")
                except TimeoutError:
                    meter.client.connect(f"{client}:out_1", f"{METER}:in")
                    reconnected_by = "meter"
                sound = wait_until(
                    lambda kf=kill_frame: meter.first_sound_after(kf), 10, "sound again"
                )
                back = [f for name, f in meter.registered if f >= kill_frame]
                results.append(
                    {
                        "gap_ms": round((sound - kill_frame) / meter.sample_rate * 1e3, 2),
                        "port_back_ms": round((back[0] - kill_frame) / meter.sample_rate * 1e3, 2)
                        if back
                        else None,
                        "reconnected_by": reconnected_by,
                        "client": client,
                    }
                )
            callback = audio(perf).get("callback")
        finally:
            meter.close()
        assert perf.stop(60) == 0, perf.stderr()
    for r in results:
        r["callback"] = callback
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 s runs and one JACK kill")
    args = parser.parse_args()
    seconds = 20 if args.quick else 60
    work = Path(tempfile.mkdtemp(prefix="kf-", dir="/tmp"))
    jackd = None
    try:
        disturbed = disturbed_run(work / "d", seconds)
        frames = disturbed["offset"] + disturbed["samples"].shape[0] + 256
        baseline = undisturbed_run(work / "u", frames)
        # Frame i of a recording is clock sample offset + i: compare the same clock samples.
        start = max(disturbed["offset"], baseline["offset"])
        a = disturbed.pop("samples")[start - disturbed["offset"] :]
        b = baseline.pop("samples")[start - baseline["offset"] :]
        differing, longest, at = differences(a, b)
        if not jack_running():
            started = subprocess.run(
                [str(REPO / "scripts" / "jack")], check=True, capture_output=True, text=True
            )
            jackd = int(started.stdout.strip()) if started.stdout.strip() else None
        jack_kills = audio_actor_kills(work / "j", 1 if args.quick else 3)
    finally:
        if jackd is not None:
            os.kill(jackd, signal.SIGTERM)
        shutil.rmtree(work, ignore_errors=True)
    figures = {
        "seconds": seconds,
        "longest_gap_ms": _ms(longest),
        "longest_gap_at_s": round((start + at) / SAMPLE_RATE, 3) if longest else None,
        "differing_samples": differing,
        "compared_samples": int(min(a.shape[0], b.shape[0])),
        "fallback_blocks": disturbed["fallback_blocks"],
        "switches": disturbed["switches"],
        "standby_cpu_percent": baseline["standby_cpu_percent"],
        "active_cpu_percent": baseline["active_cpu_percent"],
        "audio_actor_gap_ms": max(k["gap_ms"] for k in jack_kills),
        "audio_actor_kills": jack_kills,
        "disturbed": disturbed,
        "undisturbed": baseline,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
