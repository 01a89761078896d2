"""Build the DDSP data set of one instrument: FluidSynth renders, f0 and loudness, phrase split.

``python -m training.ddsp.data --instrument violin [--quick] [--seed 0] [--out data/ddsp]``

1. Seeded phrases (:mod:`training.ddsp.phrases`) go into one MIDI file.
2. FluidSynth renders it offline with the General MIDI soundfont at 48 kHz, reverb and chorus
   off (``fluidsynth -ni -R 0 -C 0 -g 0.5 -F out.wav -r 48000 SF2 in.mid``): real instrument
   audio that no one here made.
3. The file is cut back into phrases (their times are known); each phrase's f0 (YIN) and
   loudness (dBFS RMS) come from the project's own :class:`FeatureExtractor` (2048/512 at
   48 kHz: one frame per 512 samples, frame ``k`` centred on sample ``512·k + 1024``).
   Unvoiced frames take the f0 of the nearest voiced frame.
4. Every :data:`HOLDOUT_EVERY`-th phrase is held out for validation and the model card.

The result is one ``.npz`` (:class:`Dataset`): float32 audio and frame features per phrase,
concatenated with offsets, plus the notes of each phrase.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kelly_actors.audio.features import extract
from kelly_actors.bus import frames as L
from kelly_actors.files import atomic_path
from training.ddsp.instruments import Instrument, get_instrument
from training.ddsp.phrases import make_phrases, phrase_length, write_midi
from training.progress import Progress

SAMPLE_RATE = 48_000
FRAME_SIZE = 2048
HOP = 512
#: Target audio of frame k starts here: frame k (centre 512·k + 1024) is the value reached
#: at the end of span k, i.e. at sample AUDIO_OFFSET + 512·(k + 1) − 1 of the phrase.
AUDIO_OFFSET = FRAME_SIZE // 2 - HOP
HOLDOUT_EVERY = 8
PRE_ROLL_S = 0.25
TAIL_S = 0.6
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
DEFAULT_OUT = Path("data/ddsp")


@dataclass(frozen=True)
class DataConfig:
    """How much to render. ``quick`` is the CI smoke version."""

    instrument: str
    n_phrases: int = 64
    phrase_s: float = 5.0
    seed: int = 0
    out: Path = DEFAULT_OUT

    @staticmethod
    def quick(instrument: str, out: Path = DEFAULT_OUT, seed: int = 0) -> DataConfig:
        return DataConfig(instrument, n_phrases=8, phrase_s=2.0, seed=seed, out=out)

    @property
    def path(self) -> Path:
        tag = f"{self.instrument}-{self.n_phrases}x{self.phrase_s:g}s-seed{self.seed}"
        return self.out / f"{tag}.npz"


@dataclass(frozen=True)
class Phrase:
    """One phrase: audio float32 ``(n,)`` at 48 kHz, frames float32 ``(T,)`` of f0 (Hz) and
    loudness (dBFS), and its notes float64 ``(m, 4)``: pitch, velocity, start_s, end_s
    (seconds from the audio's first sample)."""

    audio: np.ndarray
    f0_hz: np.ndarray
    loudness_db: np.ndarray
    notes: np.ndarray


@dataclass(frozen=True)
class Dataset:
    instrument: str
    train: list[Phrase]
    holdout: list[Phrase]

    @staticmethod
    def load(path: Path) -> Dataset:
        with np.load(path, allow_pickle=False) as z:
            instrument = str(z["instrument"])
            phrases = []
            for i in range(len(z["holdout"])):
                a0, a1 = z["audio_offsets"][i : i + 2]
                f0, f1 = z["frame_offsets"][i : i + 2]
                n0, n1 = z["note_offsets"][i : i + 2]
                phrases.append(
                    Phrase(
                        z["audio"][a0:a1],
                        z["f0_hz"][f0:f1],
                        z["loudness_db"][f0:f1],
                        z["notes"][n0:n1],
                    )
                )
            held = z["holdout"].astype(bool)
        train = [p for p, h in zip(phrases, held, strict=True) if not h]
        holdout = [p for p, h in zip(phrases, held, strict=True) if h]
        return Dataset(instrument, train, holdout)


def fill_unvoiced(f0: np.ndarray) -> np.ndarray:
    """f0 with every 0 (unvoiced) replaced by the nearest voiced value; all-zero stays zero."""
    f0 = np.asarray(f0, dtype=np.float32).copy()
    voiced = np.flatnonzero(f0 > 0)
    if voiced.size == 0:
        return f0
    idx = np.arange(f0.size)
    nearest = voiced[np.clip(np.searchsorted(voiced, idx), 0, voiced.size - 1)]
    before = voiced[np.clip(np.searchsorted(voiced, idx) - 1, 0, voiced.size - 1)]
    pick = np.where(np.abs(before - idx) <= np.abs(nearest - idx), before, nearest)
    return f0[pick]


def render(midi_path: Path, wav_path: Path, soundfont: Path = SOUNDFONT) -> np.ndarray:
    """FluidSynth render → float32 mono ``(n,)`` at 48 kHz. Raises ``RuntimeError`` with
    FluidSynth's message when it is missing or fails."""
    import wave

    exe = shutil.which("fluidsynth")
    if exe is None or not soundfont.exists():
        raise RuntimeError(
            "fluidsynth and the GM soundfont are needed: apt install fluidsynth fluid-soundfont-gm"
        )
    cmd = [
        exe,
        "-ni",
        "-R",
        "0",
        "-C",
        "0",
        "-g",
        "0.5",
        "-F",
        str(wav_path),
        "-r",
        str(SAMPLE_RATE),
        str(soundfont),
        str(midi_path),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not wav_path.exists():
        raise RuntimeError(f"fluidsynth failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    with wave.open(str(wav_path), "rb") as w:
        if w.getsampwidth() != 2 or w.getframerate() != SAMPLE_RATE:
            raise RuntimeError("fluidsynth wrote an unexpected WAV format")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        pcm = pcm.reshape(-1, w.getnchannels()).astype(np.float32) / 32768.0
    return pcm.mean(axis=1)


def _phrase(audio: np.ndarray, start_s: float, notes: list) -> Phrase | None:
    a0 = round((start_s - PRE_ROLL_S) * SAMPLE_RATE)
    a1 = round((start_s + phrase_length(notes) + TAIL_S) * SAMPLE_RATE)
    clip = np.ascontiguousarray(audio[max(0, a0) : a1], dtype=np.float32)
    _, feats = extract(clip, SAMPLE_RATE, FRAME_SIZE, HOP)
    f0 = fill_unvoiced(feats[:, L.F0_HZ])
    if not np.any(f0 > 0):
        return None
    table = np.array(
        [(n.pitch, n.velocity, n.start_s + PRE_ROLL_S, n.end_s + PRE_ROLL_S) for n in notes],
        dtype=np.float64,
    )
    return Phrase(clip, f0, feats[:, L.LOUDNESS_DB].astype(np.float32), table)


def build(cfg: DataConfig, progress: bool = True) -> Path:
    """Render, analyse and save the data set; returns the ``.npz`` path (reused if present)."""
    if cfg.path.exists():
        return cfg.path
    inst: Instrument = get_instrument(cfg.instrument)
    phrases = make_phrases(inst, cfg.n_phrases, cfg.seed, cfg.phrase_s)
    with tempfile.TemporaryDirectory(prefix="kelly-ddsp-") as tmp:
        midi, wav = Path(tmp) / "phrases.mid", Path(tmp) / "phrases.wav"
        starts = write_midi(inst, phrases, str(midi))
        if progress:
            print(f"rendering {len(phrases)} phrases with FluidSynth…", file=sys.stderr)
        audio = render(midi, wav)
    bar = Progress(len(phrases), f"{cfg.instrument} features") if progress else None
    kept: list[tuple[Phrase, bool]] = []
    for i, (start, notes) in enumerate(zip(starts, phrases, strict=True)):
        phrase = _phrase(audio, start, notes)
        if phrase is not None:
            kept.append((phrase, i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1))
        if bar:
            bar.update(i + 1)
    if bar:
        bar.close()
    if not any(h for _, h in kept) or all(h for _, h in kept):
        raise RuntimeError("too few phrases for a train / hold-out split; raise --phrases")
    cfg.out.mkdir(parents=True, exist_ok=True)
    ps = [p for p, _ in kept]
    offsets = lambda arrays: np.cumsum([0] + [len(a) for a in arrays]).astype(np.int64)  # noqa: E731
    # atomic: a killed build never leaves a half file
    with atomic_path(cfg.path) as tmp_path:
        np.savez(
            tmp_path,
            instrument=np.array(cfg.instrument),
            audio=np.concatenate([p.audio for p in ps]),
            audio_offsets=offsets([p.audio for p in ps]),
            f0_hz=np.concatenate([p.f0_hz for p in ps]),
            loudness_db=np.concatenate([p.loudness_db for p in ps]),
            frame_offsets=offsets([p.f0_hz for p in ps]),
            notes=np.concatenate([p.notes for p in ps]),
            note_offsets=offsets([p.notes for p in ps]),
            holdout=np.array([h for _, h in kept]),
        )
    return cfg.path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.ddsp.data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--instrument", required=True)
    parser.add_argument("--quick", action="store_true", help="small data set (CI smoke)")
    parser.add_argument("--phrases", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    try:
        get_instrument(args.instrument)
        cfg = (
            DataConfig.quick(args.instrument, args.out, args.seed)
            if args.quick
            else DataConfig(args.instrument, args.phrases, seed=args.seed, out=args.out)
        )
        path = build(cfg)
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
