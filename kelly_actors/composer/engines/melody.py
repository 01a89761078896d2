"""Melody engine: the motif, developed through a four-bar phrase.

Each bar holds two half-bar statements. Across a phrase the motif is stated,
sequenced, inverted and reversed, fragmented toward the climax, and closed by
a cadence note: on a chord tone other than the root after the first phrase of
a section (open, a question), on the root after the second (closed, the
answer) — a classical period. The contour of the phrase follows valence: an
arch that climbs in bar 3 when positive, a falling lament when negative.
Notes on beats 1 and 3 are moved to the nearest chord tone, so the line fits
the harmony; every note comes from the key.
"""

from __future__ import annotations

from collections.abc import Callable

from kelly_actors.composer.engines import motif as motifs
from kelly_actors.composer.engines.context import BarContext
from kelly_actors.music.notes import MELODY, RANGES, Note
from kelly_actors.music.theory import Chord, Key

Transform = Callable[[motifs.Motif], motifs.Motif]


def _same(m: motifs.Motif) -> motifs.Motif:
    return m


#: Per phrase position, two half-bar statements: (development, shift in scale steps).
#: ``None`` as the second entry marks the cadence note.
ANTECEDENT: tuple[tuple[tuple[Transform, int], tuple[Transform, int] | None], ...] = (
    ((_same, 0), (_same, 1)),
    ((motifs.invert, 0), (motifs.retrograde, -1)),
    ((motifs.fragment, 1), (_same, 2)),
    ((motifs.fragment, 0), None),
)
CONSEQUENT: tuple[tuple[tuple[Transform, int], tuple[Transform, int] | None], ...] = (
    ANTECEDENT[0],
    ((_same, 2), (motifs.invert, 1)),
    ((motifs.retrograde, 1), (motifs.fragment, 0)),
    ((_same, -1), None),
)
#: Where the phrase sits relative to the register centre, in scale steps, per bar.
ARCH = (0, 2, 3, -1)
LAMENT = (2, 1, 0, -2)
LEVEL = (0, 1, 2, 0)


def _contour_offset(position: int, valence: float) -> int:
    shape = ARCH if valence > 0.15 else LAMENT if valence < -0.15 else LEVEL
    return shape[position]


def _chord_tone_index(key: Key, chord: Chord, near: int, roots_only: bool = False) -> int:
    wanted = {chord.root} if roots_only else set(chord.pitch_classes[:3])
    options = [i for i in range(near - 4, near + 5) if key.pitch(i) % 12 in wanted]
    return min(options, key=lambda i: (abs(i - near), i))


def _fit_range(key: Key, indices: list[int], low: int, high: int) -> list[int]:
    while key.pitch(max(indices)) > high:
        indices = [i - 7 for i in indices]
    while key.pitch(min(indices)) < low:
        indices = [i + 7 for i in indices]
    return indices


def _accent(beat: float) -> int:
    if beat % 4 == 0:
        return 8
    if beat % 2 == 0:
        return 4
    return 0 if beat % 1 == 0 else -3


class _Line:
    """Accumulates the bar's notes while tracking where the line is (scale index)."""

    def __init__(self, ctx: BarContext, anchor: int) -> None:
        self.ctx = ctx
        self.anchor = anchor
        self.notes: list[Note] = []
        low, high = RANGES["melody"]
        self.low, self.high = low, high

    def add(
        self, index: int, beat: float, length: float, extra: int = 0, hold: bool = False
    ) -> None:
        """Add a note; ``hold`` sounds the full ``length`` regardless of articulation."""
        ctx = self.ctx
        velocity = round(ctx.params.velocity) + _accent(beat) + extra
        sounding = length if hold else max(0.1, length * ctx.params.legato)
        self.notes.append(Note(MELODY.name, ctx.key.pitch(index), velocity, beat, sounding))
        self.anchor = index

    def statement(self, m: motifs.Motif, start: float, target: int) -> None:
        ctx = self.ctx
        first = _chord_tone_index(ctx.key, ctx.chord_at(start), target)
        indices = _fit_range(ctx.key, [first + s for s in m.steps], self.low, self.high)
        beat = start
        for index, dur in zip(indices, m.durations, strict=True):
            if beat % 2 == 0:
                index = _chord_tone_index(ctx.key, ctx.chord_at(beat), index)
            self.add(index, beat, dur)
            beat += dur

    def cadence(self, start: float, closed: bool) -> None:
        ctx = self.ctx
        chord = ctx.chord_at(start)
        index = _chord_tone_index(ctx.key, chord, self.anchor, roots_only=closed)
        if not closed and ctx.key.pitch(index) % 12 == chord.root:
            index = _chord_tone_index(ctx.key, chord, index + 2)
        index = _fit_range(ctx.key, [index], self.low, self.high)[0]
        held = (ctx.beats - start) * max(ctx.params.legato, 0.9)
        self.add(index, start, held, extra=2, hold=True)


def render(
    ctx: BarContext, motif: motifs.Motif, previous_index: int | None
) -> tuple[list[Note], int]:
    """The melody for one bar and the scale index it ends on."""
    centre = ctx.key.index_near(72 + ctx.params.register_shift)
    line = _Line(ctx, previous_index if previous_index is not None else centre)
    if ctx.final:
        line.cadence(0.0, closed=True)
        return line.notes, line.anchor
    plan = (CONSEQUENT if ctx.is_consequent else ANTECEDENT)[ctx.phrase_position]
    goal = centre + _contour_offset(ctx.phrase_position, ctx.valence)
    for half, step in enumerate(plan):
        start = half * motifs.MOTIF_BEATS
        if step is None:
            line.cadence(start, closed=ctx.is_consequent)
            continue
        develop, shift = step
        m = motifs.fit_density(develop(motif), ctx.params.density)
        target = round((line.anchor + goal) / 2) + shift
        line.statement(m, start, target)
    return line.notes, line.anchor
