"""The built-in performance, as a user starts it: music in WAV and MIDI, and run.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mido
import numpy as np
from performance import Performance, kelly, wait_until

from kelly_actors.audio import wav

#: Issue 11's target: the first note sounds this soon (s) after the performance is
#: ready, plus one synth look-ahead (the synth renders that far ahead of the clock).
FIRST_SOUND_TARGET_S = 0.25
#: Slack (s) for a shared, loaded machine: the composer's first step, the synth and
#: the status round trip that reads the ready sample may each run late. The robust
#: property is that the first bar is not a whole silent bar (2 s at 120 bpm).
FIRST_SOUND_SLACK_S = 0.25
#: A sample this loud (−80 dBFS) is sound; before the first note the output is 0.
SOUND_LEVEL = 1e-4


def test_kelly_run_with_record_gives_the_music_as_wav_and_midi_and_the_run_figures(run_dir) -> None:
    record = run_dir / "take"
    # The null clock, as on a machine without a sound device (CI's JACK server would be
    # chosen otherwise: tests/audio/test_audio_choice.py covers that choice).
    args = ("--duration", "10", "--record", str(record), "--audio-device", "null")
    done = kelly("run", *args, run_dir=run_dir, timeout=120)
    assert done.returncode == 0, done.stderr
    samples, info = wav.read(next(record.glob("*.wav")))
    assert samples.shape[0] >= 8 * info.sample_rate
    assert float(np.sqrt(np.mean(samples**2))) > 1e-3, "the recording is silent"
    midi = mido.MidiFile(next(record.glob("*.mid")))
    notes = [m for track in midi.tracks for m in track if m.type == "note_on" and m.velocity > 0]
    assert len(notes) > 20
    summary = json.loads((record / "run.json").read_text())
    # synth_b is the warm standby (these machines have two CPUs); osc takes OSC on loopback.
    actors = {"audio", "features", "inference", "synth", "synth_b", "composer", "osc"}
    assert set(summary["restarts"]) == actors
    assert set(summary["restarts"].values()) == {0}
    # No absolute real-time figure: the null backend's clocked loop misses a cycle too when
    # a loaded machine takes the CPU away (seen here: 1 in 10 s beside two soaks); the
    # figure must be there, counted.
    assert isinstance(summary["xruns"], int) and summary["xruns"] >= 0
    assert {"callback_p50_ms", "callback_p99_ms", "callback_max_ms", "period_ms"} <= set(
        summary["audio"]
    )
    assert summary["audio"]["period_ms"] == round(256 / 48, 4)
    rings = {"audio_in", "audio_out", "audio_out_b", "frames", "notes", "tempo", "sensors"}
    assert set(summary["underruns"]) == rings


def test_the_first_note_sounds_right_after_ready_not_after_a_silent_bar(run_dir: Path) -> None:
    record = run_dir / "take"
    with Performance(run_dir, None, ["--record", str(record)]) as perf:
        ready = started_snapshot(perf)["transport"]
        # Bar 1 has started once three bars are composed: the recording then holds more
        # than a whole bar after ready, so a silent first bar would show as one.
        composer = perf.wait_actor(
            "composer", lambda a: a["telemetry"].get("bars", 0) >= 3, 30, "bar 1 to start"
        )
        lookahead = perf.actor("synth")["telemetry"]["lookahead_frames"]
        assert perf.stop() == 0

    samples, info = wav.read(record / "output.wav")
    assert info.sample_rate == ready["sample_rate"]
    loud = np.flatnonzero(np.abs(samples).max(axis=1) > SOUND_LEVEL)
    assert loud.size, "the recording is silent"
    delay_s = (int(loud[0]) - ready["sample_counter"]) / info.sample_rate
    bar_s = 4 * 60.0 / composer["telemetry"]["tempo"]
    assert delay_s < bar_s, f"first sound {delay_s:.3f} s after ready: a whole silent bar"
    limit_s = FIRST_SOUND_TARGET_S + lookahead / info.sample_rate + FIRST_SOUND_SLACK_S
    assert delay_s <= limit_s, f"first sound {delay_s:.3f} s after ready (limit {limit_s:.3f} s)"


def started_snapshot(perf: Performance) -> dict[str, Any]:
    """The status when the supervisor first reports every actor ready (or degraded:
    started, with something missing). Polled every 5 ms, so its transport sample is
    at most a poll and a status round trip after the moment of ready."""

    def all_started() -> dict[str, Any] | None:
        snap = perf.status()
        states = {a["state"] for a in snap["actors"]}
        return snap if states <= {"ready", "degraded"} else None

    snap = wait_until(all_started, 60, "every actor ready", interval=0.005)
    assert snap["transport"] is not None and snap["transport"]["running"]
    return snap
