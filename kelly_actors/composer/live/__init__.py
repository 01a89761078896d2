"""The live composer's parts: emotion fusion, the sample clock, MIDI out, recording.

:mod:`kelly_actors.composer.actor` puts them together; docs/composer.md
describes the whole.
"""
