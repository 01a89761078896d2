"""The live composer's parts: the bar grid, emotion fusion, a bar's note events, the
outputs (rings, MIDI port on time, recording), the calls it answers and its telemetry.

:mod:`kelly_actors.composer.actor` puts them together; docs/composer.md
describes the whole.
"""
