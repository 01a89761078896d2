"""Typed, frozen configuration loaded from TOML."""
