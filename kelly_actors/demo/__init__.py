"""A small real graph that exercises the runtime: a tone clock and a meter."""
