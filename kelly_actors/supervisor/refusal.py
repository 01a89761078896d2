"""The refusal a verb raises, and the argument checks verbs share.

A refusal is answered to the client as an error reply ``{"code", "message"}``
(docs/protocol.md): the code for programs, the message for people.
"""

from __future__ import annotations

from typing import Any


class CommandError(Exception):
    """A refused request: ``code`` for programs, the message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def as_error(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self)}


def require(args: dict[str, Any], key: str, kind: type) -> Any:
    """``args[key]`` if present and of type ``kind``, else a refusal."""
    value = args.get(key)
    if value is None or not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
        raise CommandError("invalid", f"argument {key!r} must be a {kind.__name__}")
    return value


def require_actor(args: dict[str, Any], actors: list[str]) -> str:
    """The ``actor`` argument, checked against the running graph's ``actors``."""
    name = require(args, "actor", str)
    if name not in actors:
        raise CommandError("not_found", f"no actor named {name!r}; actors: {actors}")
    return name
