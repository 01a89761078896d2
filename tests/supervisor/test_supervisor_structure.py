"""The supervisor's classes declare all their state in ``__init__``: an attribute first set
in some other method is a reader's trap (is it there yet?)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kelly_actors.supervisor

PACKAGE = Path(kelly_actors.supervisor.__file__).parent


def _self_assignments(fn: ast.FunctionDef) -> set[str]:
    names = set()
    for node in ast.walk(fn):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            for t in ast.walk(target):
                if (
                    isinstance(t, ast.Attribute)
                    and isinstance(t.value, ast.Name)
                    and t.value.id == "self"
                ):
                    names.add(t.attr)
    return names


def _classes() -> list[tuple[str, ast.ClassDef]]:
    return [
        (path.name, node)
        for path in sorted(PACKAGE.glob("*.py"))
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.ClassDef)
    ]


@pytest.mark.parametrize(("module", "cls"), _classes(), ids=lambda x: getattr(x, "name", x))
def test_every_attribute_is_declared_in_init(module: str, cls: ast.ClassDef) -> None:
    methods = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
    declared = _self_assignments(methods["__init__"]) if "__init__" in methods else set()
    declared |= {
        n.target.id
        for n in cls.body
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }
    late = {
        f"{name}.{attr}"
        for name, fn in methods.items()
        if name != "__init__"
        for attr in _self_assignments(fn) - declared
    }
    assert late == set(), f"{module}: first set outside __init__"
