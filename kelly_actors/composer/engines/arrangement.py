"""Arrangement engine: which parts play in a bar.

The texture grows with arousal and breathes with the form: the harmony
(chords, pad, bass) and the melody always play; the arpeggio joins when
arousal is at least 0.3 or in the second half of a section; the counter-
melody answers in the second phrase of a section; the kit plays from arousal
0.3 (see the drum engine).
"""

from __future__ import annotations

from kelly_actors.composer.engines import counter_melody, drums
from kelly_actors.composer.engines.context import PHRASE_BARS, BarContext

ARPEGGIO_FROM_AROUSAL = 0.3


def layers(ctx: BarContext) -> frozenset[str]:
    """Names of the tracks that play in this bar."""
    parts = {"melody", "chords", "pad", "bass"}
    if ctx.arousal >= ARPEGGIO_FROM_AROUSAL or ctx.section_position >= PHRASE_BARS or ctx.final:
        parts.add("arpeggio")
    if counter_melody.active(ctx):
        parts.add("counter")
    if drums.active(ctx):
        parts.add("drums")
    return frozenset(parts)
