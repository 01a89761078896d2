"""The music engines, one module each; every one is deterministic for a seed.

harmony (functional progressions), chords (voice leading and comping),
melody, motif (development), bass, counter_melody, arpeggio, pad, drums,
fills (fills and transitions), groove (swing and humanization), dynamics,
arrangement (which parts play). :class:`~kelly_actors.composer.bar_composer.BarComposer`
runs them bar by bar.
"""

ENGINES = (
    "harmony",
    "chords",
    "melody",
    "motif",
    "bass",
    "counter_melody",
    "arpeggio",
    "pad",
    "drums",
    "fills",
    "groove",
    "dynamics",
    "arrangement",
)
