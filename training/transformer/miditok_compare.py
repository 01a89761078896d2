"""Our compound words beside miditok's CPWord on the same pieces.

Each piece (quantized bars) is written as a Standard MIDI File with
:mod:`kelly_actors.composer.midi_file`; CPWord tokenizes that file and decodes
it back, ours encodes and decodes the bars. Measured per tokenizer: compound
tokens per piece and the fraction of notes that come back exactly (track,
pitch, onset, duration, velocity), plus whether the tempo survives.

``python -m training.transformer.miditok_compare [--pieces N]`` prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from kelly_actors.composer import midi_file
from kelly_actors.composer.orchestrator import Composition, KeyChange, TempoChange
from kelly_actors.music.notes import BEATS_PER_BAR, TRACKS_BY_NAME
from kelly_actors.music.theory import Key
from kelly_actors.transformer.tokens import Bar, decode, encode

NoteKey = tuple[int, bool, int, float, float, int]  # program, drum, pitch, onset, length, velocity


def to_composition(bars: Sequence[Bar]) -> Composition:
    """Bars → an absolute-time composition (tempo per bar; the key marker is nominal)."""
    notes = [n.shifted(i * BEATS_PER_BAR) for i, bar in enumerate(bars) for n in bar.notes]
    tempos = [TempoChange(0.0, bars[0].tempo_bpm)]
    for i, bar in enumerate(bars[1:], start=1):
        if bar.tempo_bpm != tempos[-1].bpm:
            tempos.append(TempoChange(float(i * BEATS_PER_BAR), bar.tempo_bpm))
    used = {n.track for n in notes}
    tracks = tuple(t for t in TRACKS_BY_NAME.values() if t.name in used)
    return Composition(
        tracks, tuple(notes), tuple(tempos), (KeyChange(0.0, Key(0, "ionian")),), len(bars)
    )


def _note_keys(bars: Sequence[Bar]) -> Counter[NoteKey]:
    keys: Counter[NoteKey] = Counter()
    for i, bar in enumerate(bars):
        for n in bar.notes:
            track = TRACKS_BY_NAME[n.track]
            program = 0 if track.is_drums else track.program
            onset = i * BEATS_PER_BAR + n.start_beat
            keys[(program, track.is_drums, n.pitch, onset, n.duration_beats, n.velocity)] += 1
    return keys


def _no_velocity(keys: Counter[NoteKey]) -> Counter[tuple]:
    out: Counter[tuple] = Counter()
    for key, count in keys.items():
        out[key[:-1]] += count
    return out


def cpword_tokenizer():
    """CPWord set up as close to ours as it goes: 16th grid, 32 velocities, programs, tempos."""
    from miditok import CPWord, TokenizerConfig

    config = TokenizerConfig(
        num_velocities=32,
        use_programs=True,
        use_tempos=True,
        one_token_stream_for_programs=True,
        use_time_signatures=False,
        beat_res={(0, 4): 4, (4, 12): 4},
    )
    return CPWord(config)


def compare(pieces: Sequence[Sequence[Bar]]) -> dict:
    """Lengths and exact-note fidelity of both tokenizers over ``pieces``."""
    import symusic

    tokenizer = cpword_tokenizer()
    ours_len = theirs_len = total = ours_ok = theirs_ok = tempo_ok = timing_ok = 0
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # miditok warns about settings we chose on purpose
        for i, bars in enumerate(pieces):
            reference = _note_keys(bars)
            tokens = encode(bars)
            ours_len += len(tokens)
            ours_ok += sum((reference & _note_keys(decode(tokens))).values())
            path = Path(tmp) / f"{i}.mid"
            midi_file.write(to_composition(bars), path)
            sequence = tokenizer.encode(symusic.Score(str(path)))
            theirs_len += len(sequence.ids)
            back = tokenizer.decode(sequence)
            tpq = back.ticks_per_quarter
            got: Counter[NoteKey] = Counter()
            for track in back.tracks:
                for n in track.notes:
                    program = 0 if track.is_drum else track.program
                    got[(program, track.is_drum, n.pitch, n.time / tpq, n.duration / tpq,
                         n.velocity)] += 1  # fmt: skip
            theirs_ok += sum((reference & got).values())
            timing_ok += sum((_no_velocity(reference) & _no_velocity(got)).values())
            total += sum(reference.values())
            tempo_ok += int(abs(back.tempos[0].qpm - bars[0].tempo_bpm) < 1e-6)
    n = max(1, len(pieces))
    return {
        "pieces": len(pieces),
        "notes": total,
        "ours": {
            "tokens_per_piece": round(ours_len / n, 1),
            "notes_exact": ours_ok / max(1, total),
        },
        "cpword": {
            "tokens_per_piece": round(theirs_len / n, 1),
            "notes_exact": round(theirs_ok / max(1, total), 4),
            "notes_exact_but_velocity": round(timing_ok / max(1, total), 4),
            "tempo_exact_fraction": round(tempo_ok / n, 3),
        },
    }


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from training.transformer.corpus import corpus_paths, load_piece
    from training.transformer.rules_data import rule_piece

    parser = argparse.ArgumentParser(prog="python -m training.transformer.miditok_compare")
    parser.add_argument("--pieces", type=int, default=120, help="corpus pieces (and rule pieces)")
    args = parser.parse_args(argv)
    corpus = [p.bars for p in map(load_piece, corpus_paths(args.pieces)) if p is not None]
    rng = np.random.default_rng(0)
    rules = [rule_piece(i, 8, rng).bars for i in range(args.pieces)]
    print(json.dumps({"corpus": compare(corpus), "rules": compare(rules)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
