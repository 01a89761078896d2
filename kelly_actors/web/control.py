"""The page's actions are ``kelly ctl`` verbs: the same parser, request and rendering.

The page sends ``{"verb": "set-emotion", "argv": ["0.6", "0.7", "0.5"]}``: the verb's own
``add_arguments`` parses ``argv`` exactly as ``kelly ctl set-emotion 0.6 0.7 0.5`` would,
its ``request`` builds the control request, a :class:`ControlClient` sends it, and its
``render`` gives the text ``kelly ctl`` prints. A refusal comes back with the
supervisor's code and message. ``load-model`` may only name a file inside the model
directories (the page names models by root and relative path, and so must this).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from kelly_actors.supervisor.client import ControlClient, NoAnswer, NotRunning, Refused
from kelly_actors.supervisor.rundir import RunDir
from kelly_actors.verbs import VERBS
from kelly_actors.verbs.verb import UsageError

#: The verbs the page offers (``kelly ctl`` offers them all; these are the page's buttons).
ALLOWED = ("feel", "set-emotion", "lock", "unlock", "panic", "restart", "stop", "load-model")
BY_NAME: dict[str, ModuleType] = {v.NAME: v for v in VERBS if v.NAME in ALLOWED}
MAX_ARGS = 6
MAX_ARG_CHARS = 2000


@dataclass(frozen=True)
class Outcome:
    """What one action did: ``ok``; ``text`` as ``kelly ctl`` prints it (or the error);
    ``code`` the refusal's code (``"refused"``…), "" when ok; ``result`` the reply."""

    ok: bool
    text: str
    code: str = ""
    result: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "text": self.text, "code": self.code, "result": self.result}


class _Parser(argparse.ArgumentParser):
    """An argparse parser that raises instead of printing and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        raise UsageError(message or "bad arguments")


def parse(verb_name: str, argv: Any) -> tuple[ModuleType, argparse.Namespace]:
    """The verb module and its parsed arguments; :class:`UsageError` says what is wrong."""
    verb = BY_NAME.get(verb_name) if isinstance(verb_name, str) else None
    if verb is None:
        raise UsageError(f"unknown action {verb_name!r}; the page offers {', '.join(ALLOWED)}")
    if not isinstance(argv, list) or len(argv) > MAX_ARGS:
        raise UsageError(f"argv must be a list of at most {MAX_ARGS} strings")
    if not all(isinstance(a, str) and len(a) <= MAX_ARG_CHARS for a in argv):
        raise UsageError(f"each argument must be a string of at most {MAX_ARG_CHARS} characters")
    parser = _Parser(prog=f"kelly ctl {verb.NAME}", add_help=False)
    verb.add_arguments(parser)
    return verb, parser.parse_args(argv)


def _check_model_path(args: argparse.Namespace, model_dirs: tuple[str, ...]) -> None:
    if not args.path:
        return  # ddsp: back to the preset voice
    path = Path(args.path).resolve()
    if not any(path.is_relative_to(Path(d).resolve()) for d in model_dirs if d):
        raise UsageError("load-model takes only a model from the configured model directories")


def perform(
    run_dir: str, verb_name: str, argv: Any, model_dirs: tuple[str, ...], timeout: float = 5.0
) -> Outcome:
    """Parse, send and render one verb against the performance in ``run_dir`` (blocking:
    call it from a worker thread)."""
    try:
        verb, args = parse(verb_name, argv)
        if verb.NAME == "load-model":
            _check_model_path(args, model_dirs)
        request = verb.request(args)
    except UsageError as exc:
        return Outcome(False, f"kelly ctl {verb_name}: {exc}", "usage")
    try:
        with ControlClient(RunDir(Path(run_dir)), timeout=timeout) as client:
            result = client.request(request.cmd, **request.args)
    except (NotRunning, NoAnswer) as exc:
        return Outcome(False, str(exc), "not_running")
    except Refused as exc:
        return Outcome(False, f"refused ({exc.code}): {exc}", exc.code)
    return Outcome(True, verb.render(result, args), "", result)
