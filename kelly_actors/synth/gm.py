"""Which timbre preset plays a General MIDI program."""

from __future__ import annotations

from kelly_actors.synth.presets import PRESET_NAMES

# GM program families (0-based program ranges) → the nearest preset we have.
_FAMILIES: tuple[tuple[range, str], ...] = (
    (range(0, 8), "pluck"),  # pianos
    (range(8, 16), "pluck"),  # chromatic percussion
    (range(16, 24), "organ"),
    (range(24, 32), "pluck"),  # guitars
    (range(32, 40), "pluck"),  # basses
    (range(40, 56), "strings"),  # strings, ensembles, choir
    (range(56, 64), "brass"),
    (range(64, 72), "clarinet"),  # reeds
    (range(72, 80), "flute"),  # pipes
    (range(80, 88), "brass"),  # synth leads
    (range(88, 96), "strings"),  # synth pads
    (range(96, 128), "sine"),
)


def preset_for_program(program: int) -> str:
    """Preset name for GM ``program`` (0–127)."""
    for family, preset in _FAMILIES:
        if program in family:
            return preset
    return "sine"


def preset_index(program: int) -> int:
    """Index into :data:`~kelly_actors.synth.presets.PRESET_NAMES` (for a ``PRESET`` event)."""
    return PRESET_NAMES.index(preset_for_program(program))
