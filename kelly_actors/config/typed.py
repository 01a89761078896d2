"""Turn TOML tables into frozen dataclasses, with errors that name the key.

Every config object in the project is a frozen dataclass whose fields have
plain types (``int``, ``float``, ``str``, ``bool``, ``tuple[T, ...]``,
``T | None`` or another such dataclass). :func:`from_mapping` checks each
key and type and refuses unknown keys, so a typo in a performance config is
an error at start, not a silently ignored setting.

Ranges and choices are metadata on the fields (:func:`setting`), checked by
:class:`Checked` whenever such an object is built, from TOML or in code::

    @dataclass(frozen=True)
    class DrumConfig(Checked):
        swing: float = setting(0.0, low=0.0, high=0.5)
        kit: str = setting("standard", choices=("standard", "brush"))
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration value is missing, unknown or of the wrong type."""


def setting(
    default: Any = dataclasses.MISSING,
    *,
    low: float | None = None,
    high: float | None = None,
    above: float | None = None,
    choices: tuple[Any, ...] | None = None,
) -> Any:
    """A dataclass field with its allowed values: ``low ≤ v ≤ high``, ``v > above``, or one of
    ``choices``. ``None`` values (optional settings) are not checked."""
    meta = {"low": low, "high": high, "above": above, "choices": choices}
    if isinstance(default, list | dict | set):
        raise TypeError("use a tuple or a default_factory for a mutable default")
    return dataclasses.field(default=default, metadata={"range": meta})


class Checked:
    """Mixin for frozen config dataclasses: checks each :func:`setting`'s range on build.

    A subclass with checks across fields overrides ``__post_init__`` and calls
    ``super().__post_init__()`` first.
    """

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            meta = f.metadata.get("range")
            if meta:
                _check_range(f.name, getattr(self, f.name), meta)


def _check_range(name: str, value: Any, meta: Mapping[str, Any]) -> None:
    if value is None:
        return
    choices = meta["choices"]
    if choices is not None and value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")
    low, high, above = meta["low"], meta["high"], meta["above"]
    if low is not None and high is not None and not low <= value <= high:
        raise ValueError(f"{name} must be within {low}…{high}, got {value!r}")
    if low is not None and high is None and value < low:
        raise ValueError(f"{name} must be ≥ {low}, got {value!r}")
    if high is not None and low is None and value > high:
        raise ValueError(f"{name} must be ≤ {high}, got {value!r}")
    if above is not None and not value > above:
        raise ValueError(f"{name} must be > {above}, got {value!r}")


def describe_range(f: dataclasses.Field) -> str:
    """The allowed values of a :func:`setting` field in words ("0.0…1.0", "> 0"); "" if free."""
    meta = f.metadata.get("range")
    if not meta:
        return ""
    if meta["choices"] is not None:
        return " | ".join(map(str, meta["choices"]))
    parts = []
    if meta["low"] is not None and meta["high"] is not None:
        parts.append(f"{meta['low']}…{meta['high']}")
    elif meta["low"] is not None:
        parts.append(f"≥ {meta['low']}")
    elif meta["high"] is not None:
        parts.append(f"≤ {meta['high']}")
    if meta["above"] is not None:
        parts.append(f"> {meta['above']}")
    return ", ".join(parts)


def from_mapping(cls: type[T], data: Mapping[str, Any], where: str) -> T:
    """Build dataclass ``cls`` from ``data``; ``where`` names the table in errors."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a table, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{where}: missing key {name!r}")
            continue
        values[name] = _convert(hints[name], data[name], f"{where}.{name}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: invalid value")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__}")
        item = args[0] if args else Any
        return tuple(_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict or hint is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table")
        return dict(value)
    if dataclasses.is_dataclass(hint):
        return from_mapping(hint, value, where)  # type: ignore[arg-type]
    if hint is Any:
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint in (str, bool):
        if not isinstance(value, hint):
            raise ConfigError(f"{where}: expected {hint.__name__}, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported config type {hint!r}")
