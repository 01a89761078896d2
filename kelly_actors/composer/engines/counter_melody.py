"""Counter-melody engine: a slower second line under the melody.

It plays in the answering phrase of each section (so the texture changes
every four bars), one note per half bar (per beat when the music is busy),
and chooses among chord tones the one that moves least, stays below the
melody, makes a consonance with it (third, sixth, fifth, octave) and moves
against the melody's direction where it can (contrary motion).
"""

from __future__ import annotations

from kelly_actors.composer.engines.context import BarContext
from kelly_actors.music.notes import COUNTER, RANGES, Note
from kelly_actors.music.theory import pitches_in_range

CONSONANT = frozenset({3, 4, 7, 8, 9, 12, 15, 16})
#: Above this arousal the texture is busy enough without a second line.
ACTIVE_MAX_AROUSAL = 0.9


def active(ctx: BarContext) -> bool:
    return (ctx.is_consequent or ctx.final) and ctx.arousal <= ACTIVE_MAX_AROUSAL


def _melody_at(melody: list[Note], beat: float) -> Note | None:
    sounding = [n for n in melody if n.start_beat <= beat + 1e-9]
    return sounding[-1] if sounding else (melody[0] if melody else None)


def _cost(pitch: int, previous: int, lead: Note | None, lead_move: int) -> float:
    cost = abs(pitch - previous) * 1.0
    if lead is None:
        return cost
    gap = lead.pitch - pitch
    if gap < 3:
        cost += 12
    if gap not in CONSONANT:
        cost += 5
    own_move = pitch - previous
    if lead_move and own_move and (lead_move > 0) == (own_move > 0):
        cost += 3
    return cost


def render(
    ctx: BarContext, melody: list[Note], previous: int | None
) -> tuple[list[Note], int | None]:
    """The counter-line for the bar and its last pitch (None when it has not played yet)."""
    if not active(ctx):
        return [], previous
    low, high = RANGES["counter"]
    step = 4.0 if ctx.final else (1.0 if ctx.params.density >= 2.5 else 2.0)
    last = previous if previous is not None else 64 + ctx.params.register_shift // 2
    last_lead: int | None = None
    notes = []
    beat = 0.0
    while beat < ctx.beats - 1e-9:
        lead = _melody_at(melody, beat)
        lead_move = 0 if lead is None or last_lead is None else lead.pitch - last_lead
        options = pitches_in_range(ctx.chord_at(beat).pitch_classes[:3], low, high)
        pitch = min(options, key=lambda p: (_cost(p, last, lead, lead_move), p))
        velocity = round(ctx.params.velocity) + (4 if beat == 0 else 0)
        notes.append(Note(COUNTER.name, pitch, velocity, beat, step * max(ctx.params.legato, 0.7)))
        last, last_lead = pitch, (lead.pitch if lead else None)
        beat += step
    return notes, last
