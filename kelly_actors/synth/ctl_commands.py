"""``kelly ctl load-model ddsp PATH``: change the synth's timbre live (on the next bar line).

``kelly ctl load-model`` is one sub-command shared with ``emotion`` models (defined in
:mod:`kelly_actors.inference.ctl_commands`); for ``KIND = ddsp`` it routes through
:func:`load_model_call` here to actor ``synth``, method ``load_model``. An empty path (``''``)
goes back to the preset voice. The synth loads and probes the file first and refuses a bad
one with the reason, keeping the timbre it has.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

#: The actor name the command addresses by default.
SYNTH = "synth"


def load_model_call(args: argparse.Namespace) -> tuple[str, str, dict[str, Any]]:
    """``(actor, "load_model", {"kind": "ddsp", "path": absolute path or ""})``.

    The path is made absolute because the actor runs in another directory. ``args.actor``
    overrides the actor name when it is set (``--actor``)."""
    path = str(Path(args.path).resolve()) if args.path else ""
    actor = getattr(args, "actor", None) or SYNTH
    return actor, "load_model", {"kind": "ddsp", "path": path}
