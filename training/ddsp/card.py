"""Model card: ``models/ddsp-<instrument>.json`` (machine-readable; its ``runtime`` table is
what :class:`kelly_actors.synth.neural.NeuralTimbre` reads) and ``.md`` (for people)."""

from __future__ import annotations

import json
from pathlib import Path

from kelly_actors.files import atomic_write


def write_card(path_json: Path, card: dict) -> None:
    """Write the JSON card and its Markdown twin next to it (atomically each)."""
    atomic_write(path_json, json.dumps(card, indent=2) + "\n")
    atomic_write(path_json.with_suffix(".md"), markdown(card))


def markdown(card: dict) -> str:
    if None in card["metrics"].values():
        return f"# ddsp-{card['instrument']}\n\nEvaluation in progress.\n"
    m, d, t = card["metrics"], card["data"], card["training"]
    lines = [
        f"# ddsp-{card['instrument']} — neural DDSP timbre decoder",
        "",
        f"GRU decoder (hidden {card['model']['hidden']}) from f0 and loudness to a 64-harmonic "
        "distribution, 65 noise-filter bands and amplitude, one frame per 512 samples at "
        "48 kHz, streaming (GRU state in and out). Emotion conditioning is the documented "
        "modulation (valence → harmonic tilt, arousal → noise, dominance → gain).",
        "",
        f"This card describes `{card['file']}`, sha256 `{card['sha256']}`.",
        "",
        "## Data",
        "",
        f"FluidSynth {d['renderer']} with `{d['soundfont']}`, General MIDI program "
        f"{d['program']} ({card['instrument']}), reverb and chorus off, 48 kHz. "
        f"{d['phrases_train']} training and {d['phrases_holdout']} held-out phrases "
        f"({d['seconds_train']} s / {d['seconds_holdout']} s), seed {d['seed']}. "
        "f0 (YIN) and loudness from the project's own feature extractor.",
        "",
        "## Training",
        "",
        f"{t['steps']} steps, batch {t['batch']} × {t['segment_frames']} frames, "
        f"{t['train_seconds']} s on one CPU thread; multi-scale spectral loss "
        f"{t['loss_first_20']} (first 20 steps) → {t['loss_last_20']} (last 20).",
        "",
        "## Held-out multi-scale spectral distance to the real FluidSynth audio (lower is closer)",
        "",
        "| voice | distance |",
        "|---|---|",
        f"| neural decoder, MIDI notes through the live synth | {m['neural_midi']} |",
        f"| plain preset `{card['compared_preset']}`, same notes | {m['preset_midi']} |",
        f"| plain preset, level-matched to the real audio | {m['preset_midi_level_matched']} |",
        f"| neural decoder driven by the real audio's f0/loudness | {m['neural_resynthesis']} |",
        "",
        f"Neural closer than the preset: **{m['neural_midi'] < m['preset_midi_level_matched']}**.",
        f"ONNX vs torch parity (max abs difference over 64 streamed frames): {card['parity']:.2e}.",
        "",
        "## Limits",
        "",
        "Learned from one soundfont's samples, not from recordings; MIDI-driven loudness comes "
        "from the preset's ADSR envelope and a velocity line fitted on the data "
        f"({card['runtime']['db_at_127']:.1f} dBFS at velocity 127, slope "
        f"{card['runtime']['db_per_velocity_db']:.2f} dB/dB).",
        "",
    ]
    return "\n".join(lines)
