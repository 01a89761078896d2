"""An ensemble's cost: the inference and features actors with 1 stream against 4, same run.

Real processes: ``kelly run`` of audio (the file backend: an N-channel WAV, one performer
per channel, the bright and dark loops of ``tests/support/ensemble_signals.py``) →
features → inference (the shipped model in the actor, ``workers = 0``: the streams of one
hop run in one model call), for N = 1 and N = 4 one after the other. Over a window of
``--seconds`` after warm-up, from each process's CPU time (psutil) and the actor's counts:

* ``inference_cpu_us_per_hop_n{1,4}``: the inference actor's CPU µs per hop (all streams
  of that hop), and ``..._per_frame_n4``: per stream-frame;
* ``features_cpu_us_per_hop_n{1,4}``: the same for the features actor;
* ``latency_ms_p50/p99_n{1,4}``: frame read → estimate published, from its telemetry;
* ``model_call_us_b{1,4}``: one hop through the model in this process (T = 1, batch B);
* ratios ``*_ratio_4_vs_1``: N = 4 over N = 1 of the same run (4.0 would be no sharing).

With ``--workers 1`` the inference actor sends each stream to one worker process as its
own request instead (``workers_1_*``). Usage: ``python benchmarks/ensemble.py [--quick]``;
the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import soundfile

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "support"))

from ensemble_signals import pattern  # noqa: E402
from performance import Performance, wait_until  # noqa: E402
from toml_config import performance_toml  # noqa: E402

from kelly_actors.inference.config import DEFAULT_MODEL  # noqa: E402
from kelly_actors.inference.model import load_model  # noqa: E402

RATE = 48_000
WARM_ESTIMATES = 100


def write_wav(path: Path, streams: int, seconds: int) -> Path:
    loops = [pattern("bright" if k % 2 == 0 else "dark", RATE) for k in range(streams)]
    data = np.stack([np.tile(loop, seconds // 2 + 1) for loop in loops], axis=1)
    soundfile.write(path, data, RATE, subtype="FLOAT")
    return path


def toml(wav: Path, streams: int, workers: int) -> str:
    rings = [
        {"name": "audio_in", "shape": [256, streams], "writer": "audio", "readers": ["features"]},
        {"name": "frames", "shape": [streams, 128] if streams > 1 else [128], "capacity": 256,
         "writer": "features", "readers": ["inference"]},
    ]  # fmt: skip
    actors = [
        {"name": "audio", "target": "kelly_actors.audio.actor:AudioActor",
         "options": {"backend": "file", "input_file": str(wav), "input_channels": streams,
                     "out_ring": "", "tempo_ring": ""}},
        {"name": "features", "target": "kelly_actors.audio.features_actor:FeaturesActor",
         "depends_on": ["audio"]},
        {"name": "inference", "target": "kelly_actors.inference.actor:InferenceActor",
         "depends_on": ["features"], "options": {"workers": workers, "variations": ""}},
    ]  # fmt: skip
    return performance_toml(actors, rings)


def cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        t = psutil.Process(pid).cpu_times()
        total += t.user + t.system
        for child in psutil.Process(pid).children(recursive=True):  # the pool's workers
            c = child.cpu_times()
            total += c.user + c.system
    return total


def measure(streams: int, workers: int, seconds: float, work: Path) -> dict[str, float]:
    wav = write_wav(work / f"ensemble-{streams}.wav", streams, int(seconds) + 30)
    run_dir = Path(tempfile.mkdtemp(prefix="kb-", dir="/tmp"))
    with Performance(run_dir, toml(wav, streams, workers)) as perf:
        perf.wait_ready()

        def estimates() -> int:
            return perf.actor("inference")["telemetry"].get("estimates", 0)

        wait_until(lambda: estimates() >= WARM_ESTIMATES * streams, 60, "warm-up")
        inference, features = perf.actor("inference")["pid"], perf.actor("features")["pid"]
        e0, i0, f0 = estimates(), cpu_s([inference]), cpu_s([features])
        time.sleep(seconds)
        e1, i1, f1 = estimates(), cpu_s([inference]), cpu_s([features])
        telemetry = perf.actor("inference")["telemetry"]
        perf.stop()
    hops = (e1 - e0) / streams
    return {
        "inference_cpu_us_per_hop": round((i1 - i0) / hops * 1e6, 1),
        "features_cpu_us_per_hop": round((f1 - f0) / hops * 1e6, 1),
        "latency_ms_p50": telemetry["latency_ms_p50"],
        "latency_ms_p99": telemetry["latency_ms_p99"],
        "hops": int(hops),
    }


def model_call_us(batch: int, calls: int) -> float:
    model = load_model(REPO / DEFAULT_MODEL)
    x = np.random.default_rng(0).standard_normal((1, batch, 128)).astype(np.float32)
    h = c = np.zeros((1, batch, 128), np.float32)
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        _, h, c = model.run(x, h, c)
        times.append(time.perf_counter() - t)
    return round(float(np.median(times[calls // 10 :])) * 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s windows (under a minute)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=0, help="inference worker processes")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else args.seconds
    prefix = f"workers_{args.workers}_" if args.workers else ""
    out: dict[str, float] = {"seconds": seconds, "workers": args.workers}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1, 4):
            figures = measure(n, args.workers, seconds, Path(tmp))
            for key, value in figures.items():
                out[f"{prefix}{key}_n{n}"] = value
            print(f"N = {n}: {figures}", file=sys.stderr)
    out[f"{prefix}inference_cpu_us_per_frame_n4"] = round(
        out[f"{prefix}inference_cpu_us_per_hop_n4"] / 4, 1
    )
    for key in ("inference_cpu_us_per_hop", "features_cpu_us_per_hop"):
        out[f"{prefix}{key}_ratio_4_vs_1"] = round(
            out[f"{prefix}{key}_n4"] / out[f"{prefix}{key}_n1"], 2
        )
    calls = 500 if args.quick else 3000
    out["model_call_us_b1"] = model_call_us(1, calls)
    out["model_call_us_b4"] = model_call_us(4, calls)
    out["model_call_ratio_b4_vs_b1"] = round(out["model_call_us_b4"] / out["model_call_us_b1"], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
