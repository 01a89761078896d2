"""What every verb module provides, and the pieces verb modules share.

A verb module (one per ``kelly ctl`` action, circus-style) has:

* a docstring in Markdown: its request and its reply, as docs/protocol.md shows them
  (``python -m kelly_actors.verbs.docs`` writes them there);
* ``NAME``: the action on the command line (``kelly ctl NAME``);
* ``HELP``: one line for ``kelly ctl -h``;
* ``add_arguments(parser)``: its command-line arguments;
* ``request(args) -> Request``: what the console sends for the parsed arguments;
* ``render(result, args) -> str``: what the console prints for the reply's result.

A **supervisor verb** also has ``execute(supervisor, args, route, request_id)``, which the
supervisor runs when a request with ``cmd = NAME`` arrives: it returns the result, or None
when the answer comes later, and raises :class:`CommandError` to refuse.

An **actor verb** is executed by an actor: it has ``ACTORS`` (the actors that answer it,
the default first) and ``METHOD`` (the actor's ``on_call`` method it names), and its request
is a supervisor ``call`` that forwards ``METHOD`` to the actor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kelly_actors.supervisor.refusal import CommandError

__all__ = ["CommandError", "Request", "UsageError", "actor_call", "json_line"]


class UsageError(ValueError):
    """Arguments argparse accepted but the verb cannot send; the message is shown as is."""


@dataclass(frozen=True)
class Request:
    """A control request: the supervisor command ``cmd`` and its ``args``."""

    cmd: str
    args: dict[str, Any] = field(default_factory=dict)


def actor_call(actor: str, method: str, args: dict[str, Any]) -> Request:
    """The supervisor ``call`` that forwards ``method`` with ``args`` to ``actor``."""
    return Request("call", {"actor": actor, "method": method, "args": args})


def json_line(result: dict[str, Any], args: Any) -> str:
    """The reply's result as one line of JSON (what most verbs print)."""
    return json.dumps(result)
