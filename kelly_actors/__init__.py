"""Kelly Actors: a live, emotion-driven music companion as a multi-process actor system."""

__version__ = "0.1.0"
