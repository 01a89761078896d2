"""The refusal every command raises, and argument checks they share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kelly_actors.supervisor.supervisor import Supervisor


class CommandError(Exception):
    """A refused command: ``code`` for programs, the message for people."""

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


def require_actor(sup: Supervisor, args: dict[str, Any]) -> str:
    """The ``actor`` argument, checked against the running graph."""
    name = require(args, "actor", str)
    if name not in sup.children:
        raise CommandError("not_found", f"no actor named {name!r}; actors: {sup.order}")
    return name
