"""The symbolic listener: MIDI bytes → notes → an emotion estimate (docs/midi.md).

A library the MIDI input actor (:mod:`kelly_actors.midi_in`) and the composer share:
``wire`` (a strict MIDI byte parser: running status, SysEx, truncated and stray bytes
counted), ``notes`` (held notes, stuck notes timed out, the recent onsets), ``listener``
(rules over register, velocity, density, inter-onset intervals, articulation and the
mode of a pitch-class histogram → valence, arousal, dominance and a confidence) and
``reading`` (the ``midi_in`` ring's row the composer fuses).
"""
