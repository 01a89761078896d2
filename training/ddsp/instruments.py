"""The instruments the DDSP pipeline can learn: General MIDI program, playable range, and the
plain preset the neural voice is compared against."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    """One General MIDI instrument rendered by FluidSynth.

    Attributes:
        name: short name used in file names (``models/ddsp-<name>.onnx``).
        program: General MIDI program, 0-based (40 = violin).
        low / high: MIDI note range the phrases use.
        preset: the :mod:`kelly_actors.synth.presets` timbre the model card compares with
            (the one :func:`kelly_actors.synth.gm.preset_for_program` picks).
    """

    name: str
    program: int
    low: int
    high: int
    preset: str


INSTRUMENTS: dict[str, Instrument] = {
    i.name: i
    for i in (
        Instrument("violin", 40, 55, 88, "strings"),
        Instrument("cello", 42, 36, 69, "strings"),
        Instrument("trumpet", 56, 54, 82, "brass"),
        Instrument("flute", 73, 60, 93, "flute"),
    )
}


def get_instrument(name: str) -> Instrument:
    """The instrument called ``name``; ``ValueError`` naming the choices otherwise."""
    try:
        return INSTRUMENTS[name]
    except KeyError:
        raise ValueError(
            f"unknown instrument {name!r}; choose from {sorted(INSTRUMENTS)}"
        ) from None
