"""The built-in performance, as a user starts it: music in WAV and MIDI, and run.json."""

from __future__ import annotations

import json

import mido
import numpy as np
from performance import kelly

from kelly_actors.audio import wav


def test_kelly_run_with_record_gives_the_music_as_wav_and_midi_and_the_run_figures(run_dir) -> None:
    record = run_dir / "take"
    done = kelly("run", "--duration", "10", "--record", str(record), run_dir=run_dir, timeout=120)
    assert done.returncode == 0, done.stderr
    samples, info = wav.read(next(record.glob("*.wav")))
    assert samples.shape[0] >= 8 * info.sample_rate
    assert float(np.sqrt(np.mean(samples**2))) > 1e-3, "the recording is silent"
    midi = mido.MidiFile(next(record.glob("*.mid")))
    notes = [m for track in midi.tracks for m in track if m.type == "note_on" and m.velocity > 0]
    assert len(notes) > 20
    summary = json.loads((record / "run.json").read_text())
    assert set(summary["restarts"]) == {"audio", "features", "inference", "synth", "composer"}
    assert set(summary["restarts"].values()) == {0}
    assert summary["xruns"] == 0
    assert {"callback_p50_ms", "callback_p99_ms", "callback_max_ms", "period_ms"} <= set(
        summary["audio"]
    )
    assert summary["audio"]["period_ms"] == round(256 / 48, 4)
    assert set(summary["underruns"]) == {"audio_in", "audio_out", "frames", "notes", "tempo"}
