"""The model card: ``emotion.json`` (machine-readable) and ``emotion.md`` (for people)."""

from __future__ import annotations

import hashlib
import json
import platform
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from kelly_actors.bus.frames import LAYOUT_VERSION
from kelly_actors.files import atomic_write
from training.emotion.clip_level import RESAMPLES, TARGETS
from training.emotion.dataset import (
    TEST_INSTRUMENTS,
    TRAIN_INSTRUMENTS,
    VAL_INSTRUMENTS,
    DataConfig,
    Dataset,
)
from training.emotion.evaluate import AXES, RIDGE
from training.emotion.performances import corpus_family
from training.emotion.train import WARMUP_FRAMES

SPLITS = ("train", "val", "test")

LABELS = (
    "No labelled data set is downloaded. Every clip is a performance rendered here of a "
    "known PAD point: a piece from the music21 corpus (Bach chorales, Palestrina, folk "
    "tunes from Ryan's Mammoth Collection, the Trecento, and Monteverdi, Mozart, Haydn, "
    "Beethoven, Schumann and the corpus's other composers) or a piece the project's "
    "composer wrote for that point. The point (valence, arousal, dominance, uniform over "
    "the space) sets the performance through the project's own emotion→music formulas "
    "(kelly_actors.composer.mapper): {pace}, mode from valence (each "
    "diatonic note moved to the same degree of the target mode), mean velocity = 60 + "
    "67·dominance, register shift and legato from valence/dominance/arousal, humanised "
    "timing and velocity. The label is that point, exactly; so the model learns how *these "
    "formulas* sound, not how people feel — a performer whose expression follows other "
    "conventions will be read through these."
)
#: How arousal sets the pace of a corpus piece, by ``DataConfig.onset_rate``.
PACE = {
    True: "the pace from arousal, as an onset rate: a corpus piece is played at the speed at "
    "which its onsets come as often as the composer's melody's would (tempo = 60 + "
    "120·arousal times melody density = 0.5 + 3.5·arousal onsets a beat: 0.5 onsets a "
    "second at arousal 0, 4.5 at 0.5, 12 at 1), whatever note values it is written in",
    False: "tempo = 60 + 120·arousal, a written quarter note to the beat",
}

#: What the data card adds to the labels: what is and is not our formulas fed back.
DATA_CARD = (
    "What is ours and what is not. The labels and the expressive changes are our "
    "formulas; the notes are not — five of every six pieces were written by people "
    "(Bach to Joplin, modal polyphony, fiddle tunes), none of them for an emotion, and "
    "the composer's own pieces are a sixth. The formulas change pace, mode, loudness, "
    "register and articulation only; melody, harmony, texture, range and the instruments "
    "are the pieces' and the renderers', so a cue the network leans on must survive all "
    "of them. What is *not* tested by this data: music whose emotion comes from anything "
    "but these five changes (a minor-key piece played to be joyful reads as sad here). "
    "Training takes: each on one training instrument or two together (the notes split "
    "at the median pitch), corpus pieces transposed by up to ±{transpose} semitones, "
    "{room:.0%} in a simulated room (RT60 0.2–1.6 s, wet 10–50 %), {noise:.0%} over a "
    "pink noise floor (SNR 12–40 dB), {drums:.0%} over the composer's drums for the same "
    "point. Every take's level varies by ±2 dB. Not augmented: the pace (it is the "
    "arousal cue; changing it would change the label). Held-out takes are otherwise dry: each "
    "piece on each held-out instrument alone and by the two together."
)


#: The first full run (five training instruments, all 128 features; its card was kept in
#: build/emotion/run1/) — numbers copied from that run's emotion.json.
FIRST_RUN = (
    "A first run fed all 128 features to the network. On the validation pieces (training "
    "instruments) it reached MAE 0.149, but on the held-out instruments it lost to the "
    "baselines: test MAE valence/arousal/dominance 0.513/0.324/0.294 against linear "
    "0.469/0.290/0.287 and mean 0.517/0.237/0.255, quadrant accuracy 0.279 — it had "
    "learned the five training timbres. The per-feature shift between training and test "
    "instruments was largest in spectral contrast, MFCCs and ZCR. This model masks the "
    "timbre features (ZCR, centroid, bandwidth, rolloff, flatness, contrast, MFCCs and "
    "deltas, log-mel) and keeps loudness, onsets/tempo, pitch and chroma. That choice was "
    "made after seeing the test split, so these test numbers are less independent than a "
    "fresh split would give; the CI test re-checks on newly rendered held-out audio."
)

#: What the second shipped model (emotion-78022270e8d0) did, and what changed since —
#: numbers copied from that run's and the experiments' emotion.json.
SECOND_RUN = (
    "The second model (timbre masked, 6 key-profile features, the same five training "
    "instruments, validation on the training instruments) beat the baselines on arousal, "
    "dominance and quadrant accuracy but not on valence (test MAE 0.592, R² −0.41 against "
    "linear 0.507 and mean 0.517): on the held-out instruments its valence was biased "
    "upwards by about +0.4. A diagnostic (clip-mean features, ridge fitted on the training "
    "instruments, AUC for major against minor mode, which valence sets) showed the 6 "
    "key-profile features separate the modes weakly (AUC 0.5–0.8 per instrument), while the "
    "chroma read from its best-matching diatonic collection does better (0.76–0.90 on the "
    "training instruments); the diagnostic also printed the held-out instruments. This "
    "model adds those 12 values, trains on ten instruments instead of five (two takes each "
    "instead of three), and validates on pieces played on two further instruments heard "
    "nowhere else. Tried on the old five-instrument data and not kept: overtone "
    "augmentation of the chroma (valence test MAE 0.540), the 12 new features alone "
    "(0.581), both with input noise 0.3 (0.538); on the new data, overtone augmentation 1.0 "
    "with input noise 0.3 lost on validation to the run kept then (MAE 0.1843 against "
    "0.1783; its test valence "
    "MAE 0.432, arousal 0.159, quadrant accuracy 0.517) and was not kept — the "
    "validation MAE chose. These choices were made while seeing test numbers, so those "
    "are less independent than a fresh split would give."
)


#: What this model (issue 12) changed and what was tried beside it — numbers copied from
#: those runs' emotion.json (build/emotion/ and the session's scratch runs).
THIRD_RUN = (
    "The previous model (emotion-ff06eb9dc583) was scored on 8 held-out pieces (Bach "
    "chorales, one Beethoven and one Mozart movement, one composer piece). Scored clip by "
    "clip its valence R² there was 0.35 [0.12, 0.51] (test) and 0.28 (validation), while a "
    "ridge on clip-mean features, the slow chroma's mode features included, read 0.47 "
    "[0.18, 0.65]: the mean chroma of a clip carries the mode better than any one frame. "
    "This model adds those features inside the graph (a 3 s chroma average carried in the "
    "state) and trains on a wider data set (the data card above: 150 corpus pieces across "
    "five families instead of 30 mostly Bach, 24 timbres instead of 10, ensembles, "
    "transposition, rooms, noise, drums). On the old data the slow chroma alone took "
    "validation MAE from 0.1696 to 0.1626 and clip-level test valence R² from 0.35 to 0.48. "
    "On the new data the previous model reads valence R² 0.06 [−0.11, 0.20] on test and "
    "0.09 on validation (arousal 0.52 / 0.53, quadrant accuracy 0.51 / 0.48). Runs on the "
    "new data, chosen by validation MAE: frames only 0.1822; with the slow chroma 0.1726 "
    "(this model); the same with 384-frame crops 0.1893, 40 epochs 0.1769, valence loss "
    "weight 1.0 0.1777, weight decay 0.01 0.1763. Every one of these runs printed its test "
    "figures too, and I saw them; the validation MAE chose. Tried after this card "
    "(2026-12-07) and not kept, for arousal (the tempo, which the single running tempo "
    "feature reads right within an octave in 3 of 4 clips and exactly in half): 24 beat "
    "resonators on the onset strength inside the graph (`--tempo`: 30–360 BPM, 2.5 "
    "periods each, carried in the state; with their clip means added, the clip-mean ridge's "
    "validation arousal R² went from 0.28 to 0.39), validation MAE 0.1831, clip-level "
    "validation arousal R² 0.48 and valence 0.30 against this model's 0.49 and 0.33; the "
    "same with each training crop starting from the carried features as they stand at its "
    "first frame (`--tempo --warm-carry`), 0.1890, best at epoch 3 (it overfit). Their "
    "test figures were printed and seen (arousal R² 0.57 and 0.50 against 0.41) and did "
    "not choose."
)

#: What this model (issue 12, 2026-12-07) changed, and what was tried beside it — numbers
#: copied from those runs' emotion.json (build/emotion/onset8, old-on-new, chroma4).
FOURTH_RUN = (
    "The data played a corpus piece's tempo on its written quarter note, so the pace heard "
    "at one arousal depended on how the piece is notated: a Palestrina mass (0.6 onsets a "
    "written beat) went three to six times slower than a reel (1.8–3.7), and the "
    "composer's own music, which also writes formula 4 (melody density 0.5 + 3.5·arousal "
    "onsets a beat), grew faster with arousal far more steeply than any corpus piece. Each "
    "corpus piece is now played at the onset rate the two formulas give together (the "
    "labels above; `DataConfig.onset_rate`, `--no-onset-rate` for the old way), and each "
    "training piece has 8 takes instead of 4. The pieces, instruments and splits are the "
    "same seeds' as before; the held-out clips are new performances of the same pieces. On "
    "this data the previous model (emotion-bb5ce00334a6) reads clip-level arousal R² 0.64 "
    "(test) / 0.52 (validation), valence 0.03 / 0.29, quadrant accuracy 0.55 / 0.74, "
    "frame validation MAE 0.367 / 0.191 / 0.142 (valence / arousal / dominance). Three "
    "initialisations trained on it (`--train-seed` 0, 1, 2) reached validation MAE 0.1570, "
    "0.1550 and 0.1596; the lowest, seed 1, is this model (the figures below); seed 0 read "
    "0.80 / 0.63, 0.12 / 0.35, 0.56 / 0.70 and 0.355 / 0.152 / 0.142. "
    "The rule baseline now reads arousal from the clip's detected onsets a second; the "
    "running tempo feature's median, which it read before, scores arousal R² −0.77 on "
    "this test split. Tried beside it and not kept: the chroma read over four frames (8192 "
    "samples, 171 ms) instead of one, a feature-layout change (a 2048-sample frame "
    "resolves 23 Hz, so below about C5 neighbouring semitones blur: a C3 minor triad of "
    "harmonic tones reads E♭/E 1.24 with D among its top three pitch classes, 3.35 and "
    "C–E♭–G over four frames); retrained on the same clips it reached validation MAE "
    "0.1591 against 0.1570 for the same initialisation on one-frame chroma (valence 0.345 "
    "against 0.355, clip-level valence R² 0.12 / 0.40 against 0.12 / 0.35) and "
    "`benchmarks/closed_loop.py --quick` valence sign 0.67 against 0.71. The validation "
    "MAE chose, as for every model on this card; every run's test figures were printed "
    "and seen."
)

BEATS = (
    "Frame by frame, the network beats every baseline of that table on MAE and R² of every "
    "axis and on the quadrant accuracy."
)
OPEN = (
    "Frame by frame, the network does not beat every baseline on every axis (see the "
    "table): the cues it rests on are read less reliably through unfamiliar timbres."
)
CLIP_BASELINES = (
    ("network", "model"),
    ("ridge on clip means (same inputs)", "clip_mean_ridge"),
    ("rule: detected mode and onset rate", "rule"),
    ("predict the mean", "mean_baseline"),
)


def _cell(value: list[float]) -> str:
    return f"{value[0]:.2f} [{value[1]:.2f}, {value[2]:.2f}]"


def _clip_table(result: dict) -> str:
    head = (
        "| reading | valence R² | arousal R² | dominance R² | valence MAE | quadrant accuracy |\n"
        "|---|---|---|---|---|---|"
    )
    rows = []
    for name, key in CLIP_BASELINES:
        m = result[key]
        cells = [_cell(m[a]["r2"]) for a in AXES]
        cells += [_cell(m["valence"]["mae"]), _cell(m["quadrant_accuracy"])]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return head + "\n" + "\n".join(rows)


def _clip_verdict(split: str, result: dict) -> str:
    """One sentence per split: which targets are met, which baselines the network loses to."""
    met = result["targets_met"]
    held = [k for k, ok in met.items() if ok]
    missed = [k for k, ok in met.items() if not ok]
    names = {key: name for name, key in CLIP_BASELINES}
    losses = [
        f"{names[base]} on {', '.join(a for a, ok in axes.items() if not ok)}"
        for base, axes in result["beats"].items()
        if not all(axes.values())
    ]
    text = f"On {split}: targets met: {', '.join(held) or 'none'}; not met: "
    text += f"{', '.join(missed) or 'none'}. "
    if losses:
        return text + "The network's R² is not above that of: " + "; ".join(losses) + "."
    return text + "The network's R² beats every clip-level baseline on every axis."


def _clip_section(card: dict) -> str:
    c = card["evaluation"]["clip_level"]
    t = c["targets"]
    parts = [
        f"One reading per 6 s clip ({c['reading']}), as the product and "
        "`benchmarks/closed_loop.py` read a piece; 95 % intervals from "
        f"{c['bootstrap_resamples']} bootstrap resamples of the clips. Issue 12's targets, on "
        f"test and on validation: valence R² ≥ {t['valence_r2']}, arousal R² ≥ "
        f"{t['arousal_r2']}, quadrant accuracy ≥ {t['quadrant_accuracy']}, and beating each "
        "baseline per axis. The ridge reads the clip means of the network's own inputs (λ = "
        f"{c['test']['ridge']:g}, chosen on the validation clips); the rule turns the "
        "clip-mean chroma's best major against best minor key profile into valence ±0.5 and "
        "the clip's detected onsets a second into arousal by inverting the onset rate the "
        "performances are played at (tempo × melody density), dominance the training mean.",
    ]
    for split, name in (("test", "Held-out test"), ("val", "Validation")):
        r = c[split]
        parts.append(f"**{name}** ({r['clips']} clips)\n\n{_clip_table(r)}")
        parts.append(_clip_verdict(name.lower(), r))
    return "\n\n".join(parts)


def _beats_all(test: dict) -> bool:
    from training.emotion.evaluate import beats_baselines

    return beats_baselines(test)


def _val_note(card: dict) -> str:
    """Valence on the validation split (other pieces, other unheard instruments)."""
    v = card["evaluation"]["val"]
    m, mean, lin = v["model"]["valence"], v["mean_baseline"]["valence"], v["linear_baseline"]
    pieces = len(card["data"]["val"]["pieces"])
    return (
        f"Valence stays the fragile axis: on the validation split ({v['clips']} clips of "
        f"{pieces} pieces, {', '.join(card['data']['val_instruments'])}) its frame MAE is "
        f"{m['mae']:.3f} (R² {m['r2']:.3f}) against the mean's {mean['mae']:.3f} and the "
        f"linear baseline's {lin['valence']['mae']:.3f}: the mode is not yet read equally "
        "well through every timbre and every kind of piece."
    )


#: Data options the command line sets, by DataConfig field.
DATA_FLAGS = (
    ("takes", "--takes"),
    ("extra_takes", "--extra-takes"),
    ("extra_composer_pieces", "--extra-composer-pieces"),
    ("track_share", "--track-share"),
)


def _reproduce(card: dict) -> str:
    """The command that rebuilds this card's data set and trains its model: the data
    options that differ from the defaults of its size (full, or ``--quick``) included."""
    config = card["data"]["config"]
    data_seed, train_seed = config["seed"], card["training"]["seed"]
    quick = asdict(DataConfig.quick(data_seed))
    flagged = {name for name, _ in DATA_FLAGS} | {"onset_rate"}
    size = quick if all(config.get(k) == v for k, v in quick.items() if k not in flagged) else None
    default = size or asdict(DataConfig(seed=data_seed))
    words = ["python -m training.emotion"] + (["--quick"] if size else [])
    words.append(f"--seed {data_seed}")
    if train_seed != data_seed:
        words.append(f"--train-seed {train_seed}")
    if not config.get("onset_rate", True):
        words.append("--no-onset-rate")
    for field, flag in DATA_FLAGS:
        if config.get(field, default[field]) != default[field]:
            words.append(f"{flag} {config[field]}")
    return " ".join(words)


def _split_summary(data: Dataset, split: str) -> dict[str, object]:
    clips = data.clips(split)
    return {
        "clips": len(clips),
        "frames": int(sum(data.clip(i).shape[0] for i in clips)),
        "pieces": sorted({str(data.pieces[i]) for i in clips}),
        "instruments": dict(Counter(str(data.instruments[i]) for i in clips)),
    }


def _family_of(piece: str) -> str:
    if piece.startswith("composer:"):
        return "composer"
    family = corpus_family(piece.split(":", 1)[1])
    return family or "other"


def _families(d: dict) -> str:
    counts = {split: Counter(_family_of(p) for p in d[split]["pieces"]) for split in SPLITS}
    names = sorted(set().union(*counts.values()))
    return ", ".join(f"{n} {'/'.join(str(counts[s][n]) for s in SPLITS)}" for n in names)


def _data_card(config: dict) -> str:
    if "room_share" not in config:
        return ""
    return DATA_CARD.format(
        transpose=config["transpose"],
        room=config["room_share"],
        noise=config["noise_share"],
        drums=config["drum_share"],
    )


def _architecture(slow: bool, tempo: bool) -> str:
    mode = (
        "18 key-invariant mode features from the chroma (best major/minor key-profile and "
        "triad match over the 12 transpositions; the chroma read from its best-matching "
        "diatonic collection)"
    )
    if not slow:
        return (
            f"standardise (timbre features masked) + {mode} → Dense 146→256 → tanh → LSTM "
            "256→128 → Dense 128→64; out[0] tanh valence, out[1:4] sigmoid arousal, "
            "dominance, confidence, out[4:9] auxiliary performance parameters, out[9:64] free"
        )
    if tempo:
        return (
            f"standardise (timbre features masked) + {mode} + the same 18 from a 3 s moving "
            "average of the chroma + 25 from 24 beat resonators on the onset strength (30…360 "
            "BPM, 2.5 periods each: each one's share of their total, and the log total; the "
            "average and the resonators carried in the last 32 values of h and of c) → Dense "
            "189→256 → tanh → LSTM 256→96 → Dense 96→64; out[0] tanh valence, out[1:4] sigmoid "
            "arousal, dominance, confidence, out[4:9] auxiliary performance parameters, "
            "out[9:64] free"
        )
    return (
        f"standardise (timbre features masked) + {mode} + the same 18 from a 3 s moving "
        "average of the chroma (carried in h[..., 116:]) → Dense 164→256 → tanh → LSTM "
        "256→116 → Dense 116→64; out[0] tanh valence, out[1:4] sigmoid arousal, dominance, "
        "confidence, out[4:9] auxiliary performance parameters, out[9:64] free"
    )


def training_record(train_config: dict, result, wall_s: float) -> dict[str, object]:
    """The card's ``training`` entry: the config, the run's history and its times."""
    return {
        **train_config,
        "best_epoch": result.best_epoch,
        "best_val_mae": round(result.best_val_mae, 4),
        "train_wall_s": round(result.wall_s, 1),
        "pipeline_wall_s": round(wall_s, 1),
        "history": result.history,
        "machine": platform.processor() or platform.machine(),
    }


def write_card(out: Path, *, version, onnx, data, data_config, training, test, val, clips) -> None:
    """``training``: :func:`training_record` (or a previous card's, for --evaluate-only);
    ``test``/``val``: frame-level :func:`~training.emotion.evaluate.evaluate`; ``clips``:
    split → :func:`~training.emotion.clip_level.evaluate_clips`."""
    card = {
        "name": "emotion",
        "file": "emotion.onnx",
        "model_version": version,
        "sha256": hashlib.sha256(onnx).hexdigest(),
        "architecture": _architecture(bool(training.get("slow_key")), bool(training.get("tempo"))),
        "inputs": {
            "features": f"float32 (T, B, 128), feature layout {LAYOUT_VERSION}",
            "h": "float32 (1, B, 128)",
            "c": "float32 (1, B, 128)",
        },
        "outputs": {
            "emotion": "float32 (T, B, 4): valence, arousal, dominance, confidence",
            "embedding": "float32 (T, B, 64)",
            "h_out": "float32 (1, B, 128)",
            "c_out": "float32 (1, B, 128)",
        },
        "labels": LABELS.format(pace=PACE[bool(data_config.get("onset_rate", False))]),
        "data": {
            "config": data_config,
            "sample_rate": 48000,
            "frame_size": 2048,
            "hop_size": 512,
            "train_instruments": [i.name for i in TRAIN_INSTRUMENTS],
            "val_instruments": [i.name for i in VAL_INSTRUMENTS],
            "test_instruments": [i.name for i in TEST_INSTRUMENTS],
            "split": "by piece (test 20 %, val 10 %, rest train) and by instrument (val pieces "
            "only on the validation instruments, test pieces only on the test instruments)",
            "train": _split_summary(data, "train"),
            "val": _split_summary(data, "val"),
            "test": _split_summary(data, "test"),
        },
        "training": training,
        "evaluation": {
            "warmup_frames": WARMUP_FRAMES,
            "linear_ridge": RIDGE,
            "test": test,
            "val": val,
            "clip_level": {
                "reading": f"the mean of a clip's frames after the {WARMUP_FRAMES}-frame warm-up",
                "bootstrap_resamples": RESAMPLES,
                "targets": TARGETS,
                **clips,
            },
        },
    }
    atomic_write(out / "emotion.json", json.dumps(card, indent=2) + "\n")
    atomic_write(out / "emotion.md", _markdown(card))


def _markdown(card: dict) -> str:
    t = card["evaluation"]["test"]
    rows = []
    for name, key in (
        ("network", "model"),
        ("linear (same features)", "linear_baseline"),
        ("linear (all 128 features)", "linear_all_features"),
        ("predict the mean", "mean_baseline"),
    ):
        m = t[key]
        cells = " | ".join(f"{m[a]['mae']:.3f} | {m[a]['r2']:.3f}" for a in AXES)
        rows.append(f"| {name} | {cells} | {m['quadrant_accuracy']:.3f} |")
    d, tr = card["data"], card["training"]
    warmup = card["evaluation"]["warmup_frames"]
    header = "| model | " + " | ".join(f"{a} MAE | {a} R²" for a in AXES) + " | quadrant accuracy |"
    return f"""# Model card: emotion ({card["model_version"]})

`models/emotion.onnx` — frame-by-frame emotion inference from the 128 audio features
(docs/features.md) to valence (−1…1), arousal, dominance and a confidence (0…1). The LSTM
state (`h`, `c`) is an input and an output, so inference streams one frame at a time and any
worker can serve any frame. Shapes: {json.dumps(card["inputs"])} → {json.dumps(card["outputs"])}.

Architecture: {card["architecture"]}.

## How the labels arise

{card["labels"]}

## Data

{d["train"]["clips"]} training clips ({d["train"]["frames"]} frames),
{d["val"]["clips"]} validation, {d["test"]["clips"]} test;
{d["config"]["seconds"]:g} s each at 48 kHz (features 2048/512).
Split {d["split"]}.

* training instruments: {", ".join(d["train_instruments"])}
* validation instruments (early stopping only): {", ".join(d["val_instruments"])}
* held-out test instruments: {", ".join(d["test_instruments"])}
* held-out pieces: {", ".join(d["test"]["pieces"])}
* pieces per source (train / val / test): {_families(d)}

{_data_card(d["config"])}

## Training

AdamW, lr {tr["lr"]} (cosine), weight decay {tr["weight_decay"]}, {tr["epochs"]} epochs of
{tr["batch"]} random crops of {tr["crop"]} frames, overtone augmentation {tr["harmonic_aug"]},
input noise {tr["input_noise"]}, seed {tr["seed"]}, {tr["threads"]} torch thread(s);
best validation epoch {tr["best_epoch"]} (val MAE {tr["best_val_mae"]}).
Training took {tr["train_wall_s"]} s, the whole pipeline {tr["pipeline_wall_s"]} s
(on this 2-core machine, which another job shared; building the data set, done once
and cached, took a few minutes more). Reproduce:
`{_reproduce(card)}`.

## Held-out test ({t["clips"]} clips, {t["frames"]} frames after a {warmup}-frame warm-up)

{header}
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Linear: ridge regression (λ = {card["evaluation"]["linear_ridge"]}) on one standardised frame.

**Feature selection, and how it was chosen.** {FIRST_RUN}

**Valence, and how it was fixed.** {SECOND_RUN}

**Issue 12: clip-level scores, a wider data set and the slow chroma.** {THIRD_RUN}

**Issue 12: arousal as the pace one hears.** {FOURTH_RUN}

## Clip level (issue 12)

{_clip_section(card)}

**Open.** {BEATS if _beats_all(t) else OPEN} {_val_note(card)}
Mean: the training labels' mean. Mean confidence on test frames: {t["mean_confidence"]}.
Every number here comes from `{_reproduce(card)}`
(`--evaluate-only` re-scores the same model file on the same rebuilt data set; the
training record is the run's) and is in `emotion.json`.
"""
