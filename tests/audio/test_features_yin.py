"""YIN f0 accuracy: within 1 % on synthetic tones and on real instrument notes (FluidSynth)."""

import subprocess
import wave
from pathlib import Path

import mido
import numpy as np
import pytest

from kelly_actors.audio.features import extract
from kelly_actors.audio.features.yin import Yin
from kelly_actors.bus import frames as L

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
F0_TOLERANCE = 0.01  # relative


def _harmonic_tone(f0: float, sr: int, seconds: float, n_harm: int = 8) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    tone = sum(np.sin(2 * np.pi * k * f0 * t + 0.3 * k) / k for k in range(1, n_harm + 1))
    return (0.4 * tone / np.max(np.abs(tone))).astype(np.float32)


@pytest.mark.parametrize("sr,frame", [(44100, 2048), (48000, 2048), (96000, 4096)])
@pytest.mark.parametrize("f0", [55.0, 110.0, 196.0, 440.0, 987.77, 1760.0])
def test_yin_finds_f0_of_pure_and_harmonic_tones_within_1_percent(sr, frame, f0):
    yin = Yin(sr, frame)
    for n_harm in (1, 8):
        x = _harmonic_tone(f0, sr, frame / sr + 0.01, n_harm).astype(np.float64)
        est, confidence, voiced = yin(x[:frame])
        assert voiced, (f0, n_harm)
        assert confidence > 0.9
        assert abs(est - f0) / f0 < F0_TOLERANCE, (est, f0, n_harm)


def test_yin_reports_white_noise_and_silence_as_unvoiced():
    yin = Yin(48000, 2048)
    noise = np.random.default_rng(1).standard_normal(2048) * 0.3
    assert yin(noise)[2] is False
    assert yin(np.zeros(2048))[2] is False


def _render_note(tmp_path: Path, program: int, note: int, sr: int) -> np.ndarray:
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.Message("program_change", program=program, time=0))
    track.append(mido.Message("note_on", note=note, velocity=100, time=0))
    track.append(mido.Message("note_off", note=note, velocity=0, time=960))  # 1 s at 120 bpm
    mid_path, wav_path = tmp_path / "note.mid", tmp_path / "note.wav"
    mid.save(mid_path)
    subprocess.run(
        ["fluidsynth", "-ni", "-g", "1.0", "-F", str(wav_path), "-r", str(sr),
         str(SOUNDFONT), str(mid_path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    with wave.open(str(wav_path)) as w:
        assert w.getframerate() == sr and w.getsampwidth() == 2
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        stereo = raw.reshape(-1, w.getnchannels()).astype(np.float32) / 32768.0
    return stereo.mean(axis=1)


@pytest.mark.parametrize(
    "program,note",
    [(73, 72), (40, 67), (32, 40), (71, 55)],
    ids=["flute-C5", "violin-G4", "bass-E2", "clarinet-G3"],
)
def test_yin_tracks_fluidsynth_instrument_note_within_1_percent(tmp_path, program, note):
    sr = 48000
    audio = _render_note(tmp_path, program, note, sr)
    times, feats = extract(audio, sr, 2048, 512)
    expected = 440.0 * 2 ** ((note - 69) / 12)
    # Frames fully inside the sounding part: 0.1 s … 0.9 s after the note-on.
    inside = (times >= int(0.1 * sr)) & (times + 2048 <= int(0.9 * sr))
    voiced = feats[inside, L.VOICED] == 1.0
    assert voiced.mean() > 0.9
    f0 = feats[inside, L.F0_HZ][voiced]
    error = np.abs(f0 - expected) / expected
    assert np.median(error) < F0_TOLERANCE
    assert np.quantile(error, 0.9) < F0_TOLERANCE
    midi = feats[inside, L.PITCH_MIDI][voiced]
    assert np.abs(np.median(midi) - note) < 0.2


def test_yin_tracks_a_fluidsynth_piano_note_within_1_percent_in_median(tmp_path):
    """Piano strings are inharmonic (upper partials sharp), which pulls any period-based
    estimator sharp during the bright attack: librosa.yin reads this A3 1.6 % sharp in the
    first 0.1 s too. So the piano bound is on the median over 0.1…0.9 s, and ours must agree
    with librosa.yin frame by frame within 0.3 %."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import librosa

    sr, note = 48000, 57
    audio = _render_note(tmp_path, 0, note, sr)
    times, feats = extract(audio, sr, 2048, 512)
    inside = (times >= int(0.1 * sr)) & (times + 2048 <= int(0.9 * sr))
    f0 = feats[inside, L.F0_HZ]
    assert np.all(feats[inside, L.VOICED] == 1.0)
    expected = 440.0 * 2 ** ((note - 69) / 12)
    assert np.median(np.abs(f0 - expected) / expected) < F0_TOLERANCE
    # Just above our effective fmin at 48 kHz / 2048 (48000 / 1024 = 46.875 Hz).
    ref = librosa.yin(audio, fmin=47.0, fmax=2000.0, sr=sr, frame_length=2048, hop_length=512,
                      center=False, trough_threshold=0.15)  # fmt: skip
    np.testing.assert_allclose(f0, ref[: len(times)][inside], rtol=3e-3)
