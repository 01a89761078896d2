"""Sound performances: FluidSynth (GM soundfont) and the project's DDSP synth, at 48 kHz mono.

Every instrument is calibrated once: a fixed reference phrase (a C-major scale at velocity
100) is rendered and a gain is chosen so it reads −20 dBFS RMS. That removes the arbitrary
loudness of each soundfont preset or synth preset (a mixing engineer's channel gain) while
keeping what the performance's velocities do within the instrument.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

from kelly_actors.audio import wav
from kelly_actors.synth.voices import Synth
from training.emotion.performances import Performance, PlayedNote

SAMPLE_RATE = 48_000
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
#: Silence between performances in one FluidSynth batch (release tails and reverb die out).
GAP_S = 2.0
REFERENCE_DB = -20.0
_TICKS_PER_S = 960  # mido default 480 ticks per beat at the default 120 BPM


class RenderError(RuntimeError):
    """A renderer is missing or failed; the message says which and why."""


@dataclass(frozen=True)
class Instrument:
    """``renderer`` is ``fluidsynth`` (``program``: GM program, 0-based; ``channel`` 9 is
    the GM drum kit) or ``ddsp`` (``preset``: a :data:`kelly_actors.synth.presets.PRESETS`
    name)."""

    name: str
    renderer: str
    program: int = 0
    preset: str = ""
    channel: int = 0


#: The GM standard kit, for drum parts mixed under a take.
DRUM_KIT = Instrument("gm_drums", "fluidsynth", program=0, channel=9)


REFERENCE = Performance(
    "reference",
    "reference",
    (0.0, 0.5, 0.5),
    tuple(
        PlayedNote(0.25 * i, 0.24, p, 100) for i, p in enumerate((60, 62, 64, 65, 67, 69, 71, 72))
    ),
    2.5,
)


def render_all(instrument: Instrument, performances: list[Performance]) -> list[np.ndarray]:
    """One float32 mono signal per performance, calibrated, ``seconds × 48 kHz`` samples."""
    if instrument.renderer == "fluidsynth":
        signals = _fluidsynth([REFERENCE, *performances], instrument.program, instrument.channel)
    elif instrument.renderer == "ddsp":
        signals = [_ddsp(p, instrument.preset) for p in [REFERENCE, *performances]]
    else:
        raise RenderError(f"unknown renderer {instrument.renderer!r}")
    reference, *rest = signals
    rms = float(np.sqrt(np.mean(np.square(reference, dtype=np.float64))))
    if rms < 1e-6:
        raise RenderError(f"{instrument.name}: the reference phrase rendered silent")
    gain = 10 ** (REFERENCE_DB / 20) / rms
    return [np.clip(s * gain, -1.0, 1.0).astype(np.float32) for s in rest]


def _ddsp(performance: Performance, preset: str) -> np.ndarray:
    synth = Synth(SAMPLE_RATE, channels=1, n_voices=32, preset=preset, seed=0)
    # (sample time, order, pitch, velocity; 0 = note-off): each note's on before its off,
    # events of equal time in the order of the notes.
    events = []
    for i, note in enumerate(performance.notes):
        on = round(note.start * SAMPLE_RATE)
        off = on + max(1, round(note.duration * SAMPLE_RATE))
        events += [(on, 2 * i, note.pitch, note.velocity), (off, 2 * i + 1, note.pitch, 0)]
    events.sort()
    out = np.zeros(round(performance.seconds * SAMPLE_RATE), np.float32)
    pos, step, queued = 0, 4096, 0
    while pos < out.size:
        # Feed the queue in time order so a long performance never overflows it.
        horizon = pos + step
        while queued < len(events) and events[queued][0] < horizon:
            time, _, pitch, velocity = events[queued]
            if velocity:
                synth.note_on(time, pitch, velocity)
            else:
                synth.note_off(time, pitch)
            queued += 1
        n = min(step, out.size - pos)
        out[pos : pos + n] = synth.render(n)[:, 0]
        pos += n
    return out


def _fluidsynth(
    performances: list[Performance], program: int, channel: int = 0
) -> list[np.ndarray]:
    """All performances in one MIDI file, rendered by one FluidSynth run, cut apart again."""
    if shutil.which("fluidsynth") is None or not SOUNDFONT.exists():
        raise RenderError(
            f"FluidSynth and {SOUNDFONT} are needed (apt install fluidsynth fluid-soundfont-gm)"
        )
    starts, events, t = [], [], 0.0
    for perf in performances:
        starts.append(t)
        for note in perf.notes:
            on = t + note.start
            events.append((on, 1, note.pitch, note.velocity))
            events.append((on + note.duration, 0, note.pitch, 0))
        t += perf.seconds + GAP_S
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack(
        [mido.Message("program_change", channel=channel, program=program, time=0)]
    )
    last = 0
    for when, is_on, pitch, velocity in events:
        tick = round(when * _TICKS_PER_S)
        kind = "note_on" if is_on else "note_off"
        track.append(
            mido.Message(kind, channel=channel, note=pitch, velocity=velocity, time=tick - last)
        )
        last = tick
    with tempfile.TemporaryDirectory(prefix="kelly-render-") as tmp:
        midi_path, wav_path = Path(tmp) / "batch.mid", Path(tmp) / "batch.wav"
        mido.MidiFile(tracks=[track]).save(midi_path)
        cmd = [
            "fluidsynth",
            "-ni",
            "-q",
            "-g",
            "0.5",
            "-r",
            str(SAMPLE_RATE),
            "-F",
            str(wav_path),
            "-T",
            "wav",
            "-O",
            "float",
            str(SOUNDFONT),
            str(midi_path),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not wav_path.exists():
            raise RenderError(
                f"fluidsynth failed ({done.returncode}): {done.stderr.strip()[-400:]}"
            )
        samples, info = wav.read(wav_path)
    if info.sample_rate != SAMPLE_RATE:
        raise RenderError(f"fluidsynth wrote {info.sample_rate} Hz, expected {SAMPLE_RATE}")
    mono = samples.mean(axis=1)
    out = []
    for start, perf in zip(starts, performances, strict=True):
        a = round(start * SAMPLE_RATE)
        n = round(perf.seconds * SAMPLE_RATE)
        clip = np.zeros(n, np.float32)
        piece = mono[a : a + n]
        clip[: piece.size] = piece
        out.append(clip)
    return out
