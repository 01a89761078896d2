"""Music vocabulary shared by the composer, the transformer and training: notes,
tracks, keys, modes and scales. Pure data and functions; imports only the MIDI
constants of :mod:`kelly_actors.bus.note_events`."""
