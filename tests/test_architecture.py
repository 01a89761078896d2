"""The package map of docs/architecture.md holds: who may import whom, module sizes, one
definition of each shared format."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "kelly_actors"
ARCHITECTURE = ROOT.parent / "docs" / "architecture.md"
MAX_MODULE_LINES = 450

#: What each top-level part of ``kelly_actors`` may import from the project (itself aside).
#: Lower layers first: formats and music know no actor; actors know no other actor; only the
#: supervisor, the verbs and the consoles sit above them.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "bus": frozenset(),
    "files": frozenset(),
    "config": frozenset({"bus"}),
    "music": frozenset({"bus"}),
    "transformer": frozenset({"bus", "music", "files"}),
    "actor": frozenset({"bus", "config"}),
    "demo": frozenset({"actor", "bus", "config"}),
    "link": frozenset({"bus", "config"}),
    "audio": frozenset({"actor", "bus", "config", "files", "link"}),
    "synth": frozenset({"actor", "bus", "config", "files"}),
    "inference": frozenset({"actor", "bus", "config", "files", "music", "transformer"}),
    "sensors": frozenset({"config"}),
    "symbolic": frozenset({"config"}),
    "composer": frozenset(
        {"actor", "bus", "config", "files", "link", "music", "sensors", "symbolic", "transformer"}
    ),
    "osc": frozenset({"actor", "bus", "config", "sensors"}),
    "midi_in": frozenset({"actor", "bus", "config", "symbolic"}),
    "supervisor": frozenset({"actor", "bus", "config", "files"}),
    "report": frozenset({"files", "supervisor"}),
}
#: Above every actor: may import any part (they start, steer and show the others).
TOP = frozenset({"cli", "console", "verbs", "web", "__init__", "__main__"})


def _modules() -> Iterator[Path]:
    return (p for p in sorted(ROOT.rglob("*.py")) if "__pycache__" not in p.parts)


def _part(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def _project_imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "kelly_actors" and len(parts) > 1:
                yield node.lineno, parts[1]


def test_every_part_of_the_package_has_a_place_in_the_import_map() -> None:
    parts = {_part(p) for p in _modules()}
    assert parts - MAY_IMPORT.keys() - TOP == set()


def test_each_part_imports_only_what_the_architecture_allows() -> None:
    wrong = [
        f"{path.relative_to(ROOT.parent)}:{line} imports kelly_actors.{target}"
        for path in _modules()
        if (part := _part(path)) in MAY_IMPORT
        for line, target in _project_imports(path)
        if target != part and target not in MAY_IMPORT[part]
    ]
    assert wrong == []


def test_the_import_map_is_the_one_docs_architecture_shows() -> None:
    text = ARCHITECTURE.read_text()
    for part, allowed in MAY_IMPORT.items():
        row = re.search(rf"^\| `{part}/?` \| ([^|]*) \|", text, re.MULTILINE)
        assert row, f"docs/architecture.md has no row for {part}"
        shown = set(re.findall(r"`(\w+)`", row.group(1)))
        assert shown == set(allowed), (
            f"{part}: docs show {sorted(shown)}, test has {sorted(allowed)}"
        )


@pytest.mark.parametrize("path", list(_modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_longer_than_the_limit(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


def test_note_event_kinds_and_midi_constants_are_defined_once() -> None:
    shared = {"NOTE_ON", "NOTE_OFF", "PITCH_BEND", "ALL_NOTES_OFF", "DRUM_CHANNEL"}
    owner = ROOT / "bus" / "note_events.py"
    redefined = [
        f"{path.relative_to(ROOT.parent)}:{node.lineno} {target.id}"
        for path in _modules()
        if path != owner
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
        and (target.id in shared or re.fullmatch(r"EV_[A-Z_]+", target.id))
    ]
    assert redefined == []
