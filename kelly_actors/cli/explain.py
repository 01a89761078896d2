"""``kelly compose --explain``: each bar's target, key, tempo, writers, and what the listener hears.

The piece is composed as ``kelly compose`` composes it (the same seed gives the same MIDI
file); a hook on the orchestrator's bar loop notes, per bar, the target emotion, the key, the
tempo and which engine wrote each track. Then the bars are played and heard the way a live
performance plays and hears them:

* **render**: each bar becomes the composer's own ``notes`` ring events
  (:func:`kelly_actors.composer.live.events.bar_events`: the emotion at the bar line, the
  programs on the first bar) on a sample grid at the bar's tempo, and the project's DDSP
  synth (:class:`kelly_actors.synth.voices.Synth` with the synth actor's default settings,
  through :func:`kelly_actors.synth.ring_events.to_record`, drums left out as live) renders
  them, 48 kHz, stereo mixed to mono;
  ``--render fluidsynth`` plays the written MIDI file through FluidSynth and its GM
  soundfont instead (every track, drums too), as ``benchmarks/closed_loop.py`` does;
* **listen**: the live path's feature extractor (:func:`kelly_actors.audio.features.extract`,
  hop 512) and the emotion model (``models/emotion.onnx`` unless ``--listener``), frame by
  frame with its LSTM state carried; a frame under the inference actor's silence floor
  (−60 dB) has confidence 0, as live.

A bar's reading is the mean of the model's (valence, arousal, dominance) over the frames that
start within the bar and carry a confidence, with the mean confidence of all its frames; the
first second (the LSTM's warm-up, as the model card leaves out) does not count. The
agreement line at the end is :func:`kelly_actors.composer.live.agreement.agreement` over all
the bars, the figures ``kelly top`` shows live.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kelly_actors.composer.emotion.pad import PAD
from kelly_actors.composer.live import agreement
from kelly_actors.composer.live.events import bar_events
from kelly_actors.composer.live.fusion import nearest_name
from kelly_actors.composer.mapper import MusicalParams
from kelly_actors.music.notes import BEATS_PER_BAR, TRACKS, Note
from kelly_actors.music.theory import Key

SAMPLE_RATE = 48_000
#: Frames left out at the start (1 s at hop 512: the model card's warm-up).
WARMUP_FRAMES = 94
#: Frames the offline synth renders at a time (the live one: the audio block).
RENDER_BLOCK = 8192
#: Seconds rendered after the last bar (release tails).
TAIL_S = 1.0
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
#: ``--render`` choices and how the report names them.
RENDERERS = {
    "synth": "ddsp synth (synth actor defaults), 48 kHz",
    "fluidsynth": f"fluidsynth ({SOUNDFONT.name}), 48 kHz",
}
#: The rule engine that writes each track (kelly_actors/composer/engines).
RULE_ENGINES = {
    "melody": "melody",
    "counter": "counter_melody",
    "chords": "chords",
    "pad": "pad",
    "arpeggio": "arpeggio",
    "bass": "bass",
    "drums": "drums",
}


@dataclass(frozen=True)
class BarFacts:
    """One composed bar: its index, target emotion, key, tempo (bpm), notes (beats from
    the bar line) and the writer of each track that sounds or that the model wrote (a
    track the model left silent in the bar too)."""

    bar: int
    target: PAD
    key: Key
    tempo: float
    notes: tuple[Note, ...]
    writers: dict[str, str]


class Observer:
    """The orchestrator's ``vary`` hook: records each bar, passing ``inner``'s notes on."""

    def __init__(self, inner: Any = None, model_tracks: tuple[str, ...] = (), model: str = ""):
        self.inner = inner
        self.model_tracks = model_tracks
        self.model = model
        self.bars: list[BarFacts] = []

    def __call__(self, bar: int, notes: list[Note], params: MusicalParams, key: Key) -> list[Note]:
        out = self.inner(bar, notes, params, key) if self.inner is not None else notes
        sounding = {n.track for n in out}
        writers = {
            t.name: f"transformer ({self.model})" if t.name in self.model_tracks
            else f"rules/{RULE_ENGINES.get(t.name, t.name)}"
            for t in TRACKS
            if t.name in sounding or t.name in self.model_tracks
        }  # fmt: skip
        self.bars.append(BarFacts(bar, params.emotion, key, params.tempo_bpm, tuple(out), writers))
        return out


class RenderError(RuntimeError):
    """A renderer is missing or failed; the message says which and why."""


def spans_of(bars: list[BarFacts]) -> list[tuple[int, int]]:
    """Each bar's (first sample, end sample) at 48 kHz, bar after bar at its tempo."""
    spans, start = [], 0
    for b in bars:
        length = round(BEATS_PER_BAR * 60.0 / b.tempo * SAMPLE_RATE)
        spans.append((start, start + length))
        start += length
    return spans


def render(bars: list[BarFacts]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The bars through the DDSP synth: float32 mono ``(n,)`` at 48 kHz, and each bar's
    (first sample, end sample)."""
    from kelly_actors.synth.config import SynthConfig
    from kelly_actors.synth.ring_events import as_records, to_record
    from kelly_actors.synth.voices import Synth

    cfg = SynthConfig()
    spans = spans_of(bars)
    rows = [
        bar_events(b.notes, first, 60.0 / b.tempo * SAMPLE_RATE, end - first,
                   emotion=b.target, programs=i == 0)
        for i, (b, (first, end)) in enumerate(zip(bars, spans, strict=True))
    ]  # fmt: skip
    start = spans[-1][1] if spans else 0
    events = np.concatenate(rows) if rows else np.zeros((0, 8))
    # Blocks of any size render the same samples (voices.py): large ones cost less Python.
    synth = Synth(SAMPLE_RATE, channels=2, n_voices=cfg.voices, preset=cfg.preset,
                  master_gain=cfg.master_gain, seed=cfg.seed, max_block=RENDER_BLOCK,
                  event_capacity=len(events) + 256)  # fmt: skip
    records = [to_record(ev, synth, cfg.play_drums) for ev in events.tolist()]
    synth.schedule_array(as_records([r for r in records if r is not None]))
    stereo = synth.render(start + round(TAIL_S * SAMPLE_RATE))
    return stereo.mean(axis=1).astype(np.float32), spans


def render_fluidsynth(
    bars: list[BarFacts], midi_path: str | Path
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The written MIDI file through FluidSynth and its GM soundfont (every track, drums
    too), as ``benchmarks/closed_loop.py`` hears pieces: float32 mono at 48 kHz, and the
    bars' spans. RenderError when FluidSynth or the soundfont is missing or fails."""
    import shutil
    import subprocess
    import tempfile

    from kelly_actors.audio import wav

    exe = shutil.which("fluidsynth")
    if exe is None or not SOUNDFONT.exists():
        raise RenderError(f"--render fluidsynth needs fluidsynth and {SOUNDFONT} "
                          "(apt install fluidsynth fluid-soundfont-gm)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="kelly-explain-") as tmp:
        out = Path(tmp) / "bars.wav"
        cmd = [exe, "-ni", "-R", "0", "-C", "0", "-g", "0.5", "-F", str(out),
               "-r", str(SAMPLE_RATE), str(SOUNDFONT), str(midi_path)]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not out.exists():
            why = (done.stderr or done.stdout).strip()[-300:]
            raise RenderError(f"fluidsynth failed ({done.returncode}): {why}")
        samples, info = wav.read(out)
    if info.sample_rate != SAMPLE_RATE:
        raise RenderError(f"fluidsynth wrote {info.sample_rate} Hz, not {SAMPLE_RATE}")
    return samples.mean(axis=1).astype(np.float32), spans_of(bars)


def listen(
    signal: np.ndarray, spans: list[tuple[int, int]], model_path: str | Path
) -> list[dict[str, float] | None]:
    """Each span's reading (valence, arousal, dominance, confidence, frames), or None when
    none of its frames counts (warm-up or silence). ``ModelError`` for a bad model."""
    from kelly_actors.audio.features import extract
    from kelly_actors.bus.frames import LOUDNESS_DB, STATE_SIZE
    from kelly_actors.inference.heuristic import SILENCE_DB
    from kelly_actors.inference.model import load_model

    model = load_model(model_path)
    times, feats = extract(signal, SAMPLE_RATE)
    h = np.zeros((1, 1, STATE_SIZE), np.float32)
    out, _, _ = model.run(feats[:, None, :], h, h.copy())
    raw = out[:, 0, :].astype(np.float64)
    raw[:, 0] = np.clip(raw[:, 0], -1.0, 1.0)
    raw[:, 1:] = np.clip(raw[:, 1:], 0.0, 1.0)
    raw[feats[:, LOUDNESS_DB] < SILENCE_DB, 3] = 0.0  # nobody plays: the live path's 0
    counted = np.arange(len(times)) >= WARMUP_FRAMES
    readings: list[dict[str, float] | None] = []
    for first, end in spans:
        frames = counted & (times >= first) & (times < end)
        sure = frames & (raw[:, 3] > 0.0)
        if not sure.any():
            readings.append(None)
            continue
        v, a, d = raw[sure, :3].mean(axis=0)
        readings.append({
            "valence": round(float(v), 4), "arousal": round(float(a), 4),
            "dominance": round(float(d), 4),
            "confidence": round(float(raw[frames, 3].mean()), 4), "frames": int(frames.sum()),
        })  # fmt: skip
    return readings


def _pad(point: PAD) -> dict[str, float]:
    v, a, d = point.as_tuple()
    return {"valence": round(v, 4), "arousal": round(a, 4), "dominance": round(d, 4)}


def explain(
    bars: list[BarFacts],
    model_path: str | Path,
    renderer: str = "synth",
    midi_path: str | Path | None = None,
) -> dict[str, Any]:
    """Render (``synth``, or ``fluidsynth`` from ``midi_path``) and hear ``bars``: one dict
    per bar and the agreement over them."""
    if renderer == "fluidsynth":
        assert midi_path is not None
        signal, spans = render_fluidsynth(bars, midi_path)
    else:
        signal, spans = render(bars)
    heard = listen(signal, spans, model_path)
    rows = []
    for b, (first, _), reading in zip(bars, spans, heard, strict=True):
        rows.append({
            "bar": b.bar, "start_s": round(first / SAMPLE_RATE, 3),
            "target": {**_pad(b.target), "nearest": nearest_name(b.target)},
            "key": b.key.name, "tempo": round(b.tempo, 2), "writers": b.writers,
            "silent": sorted(set(b.writers) - {n.track for n in b.notes}),
            "listener": reading,
        })  # fmt: skip
    records = [
        {"bar": r["bar"], "emotion": r["target"], "sources": {"listener": r["listener"]}}
        for r in rows
    ]
    found = agreement.agreement(records, "audio", window=len(records))
    return {
        "listener_model": str(model_path),
        "render": RENDERERS[renderer],
        "bars": rows,
        "agreement": found.to_dict(),
    }


def _writers(writers: dict[str, str], silent: list[str]) -> str:
    """``rules: melody bass …; transformer (NAME): … (pad)``: the rule engines by family, a
    track written silent in parentheses."""
    by: dict[str, list[str]] = {}
    for track, writer in writers.items():
        by.setdefault(writer.split("/")[0], []).append(f"({track})" if track in silent else track)
    return "; ".join(f"{w}: {' '.join(tracks)}" for w, tracks in by.items())


#: (heading, width) of the table's columns before the writers.
COLUMNS = (("bar", 4), ("V", 6), ("A", 5), ("D", 5), ("nearest", 12), ("key", 14), ("bpm", 6),
           ("heard V", 8), ("A", 5), ("D", 5), ("conf", 5), ("same", 5))  # fmt: skip


def _row(cells: list[str]) -> str:
    return " ".join(
        c.ljust(w) if head in ("nearest", "key") else c.rjust(w)
        for c, (head, w) in zip(cells, COLUMNS, strict=True)
    )


def table(report: dict[str, Any]) -> list[str]:
    """The report as aligned text lines: target (V A D, nearest), key, tempo, what the
    listener heard (V A D, confidence), whether the quadrants match, the writers."""
    lines = [
        f"{'target':>{4 + 1 + 18}}{'':<{1 + 12 + 1 + 14 + 1 + 6}}  listener",
        _row([h for h, _ in COLUMNS]) + "  writers",
    ]
    for r in report["bars"]:
        t, h = r["target"], r["listener"]
        cells = [str(r["bar"]), f"{t['valence']:+.2f}", f"{t['arousal']:.2f}",
                 f"{t['dominance']:.2f}", t["nearest"], r["key"], f"{r['tempo']:.1f}"]  # fmt: skip
        if h is None:
            cells += ["-", "-", "-", "0.00", "-"]
        else:
            same = agreement.quadrant_of(h["valence"], h["arousal"]) == agreement.quadrant_of(
                t["valence"], t["arousal"]
            )
            cells += [f"{h['valence']:+.2f}", f"{h['arousal']:.2f}", f"{h['dominance']:.2f}",
                      f"{h['confidence']:.2f}", "yes" if same else "no"]  # fmt: skip
        lines.append(_row(cells) + "  " + _writers(r["writers"], r["silent"]))
    a = report["agreement"]
    where = f"{report['listener_model']}, {report['render']}"
    if a["heard"]:
        d = a["distance"]
        lines.append(
            f"listener ({where}): same quadrant in {round(a['quadrant'] * a['heard'])} of "
            f"{a['heard']} bars heard ({a['bars']} bars); mean |ΔV| {d['valence']:.2f} "
            f"|ΔA| {d['arousal']:.2f} |ΔD| {d['dominance']:.2f}"
        )
    else:
        lines.append(f"listener ({where}): no reading — {a['reason']}")
    return lines


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False)
