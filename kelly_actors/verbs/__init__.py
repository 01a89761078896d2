"""The control verbs, one module each: ``kelly ctl VERB`` and the request it sends.

Each module keeps a verb whole — its request and reply (the docstring, from which
docs/protocol.md is written), its command-line arguments, its rendering and, for a
supervisor verb, its execution; :mod:`.verb` says what a module provides.

Supervisor verbs (executed by the supervisor): :mod:`.ping`, :mod:`.status`,
:mod:`.restart`, :mod:`.stop`, :mod:`.call`.
Actor verbs (a ``call`` the supervisor forwards to an actor): :mod:`.feel`,
:mod:`.set_emotion`, :mod:`.lock`, :mod:`.unlock`, :mod:`.panic` (the composer),
:mod:`.load_model` (inference or synth), :mod:`.calibrate` (the OSC actor's sensors).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from kelly_actors.verbs import (
    calibrate,
    call,
    feel,
    load_model,
    lock,
    panic,
    ping,
    restart,
    set_emotion,
    status,
    stop,
    unlock,
)

#: Every verb, in the order ``kelly ctl -h`` lists them.
VERBS: tuple[ModuleType, ...] = (
    restart,
    stop,
    status,
    ping,
    call,
    feel,
    set_emotion,
    lock,
    unlock,
    panic,
    load_model,
    calibrate,
)

#: Verbs the supervisor executes, by request ``cmd``: what ``kelly run`` serves.
SUPERVISOR_VERBS: dict[str, ModuleType] = {v.NAME: v for v in VERBS if hasattr(v, "execute")}

#: Verbs an actor executes (each names its ``ACTORS`` and ``METHOD``).
ACTOR_VERBS: tuple[ModuleType, ...] = tuple(v for v in VERBS if hasattr(v, "METHOD"))


def served() -> dict[str, Callable[..., Any]]:
    """``cmd`` → ``execute``: the table a supervisor is started with."""
    return {name: verb.execute for name, verb in SUPERVISOR_VERBS.items()}
