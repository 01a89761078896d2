"""The Models page: every ``*.onnx`` in the model directories, with its card and checksum.

A model's card is the ``.json`` and ``.md`` beside the ``.onnx`` (what the training
pipelines write). The card *matches* when its ``sha256`` is the file's; a file changed
after its card was written (or a card copied from another model) shows as not matching.
Hashes are cached by (path, size, mtime), so a page opened twice hashes nothing twice.
Cards are rendered from Markdown with raw HTML off (a card is data, not code).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

#: Largest card file read (bytes); a bigger one is shown as too large.
MAX_CARD_BYTES = 1024 * 1024
#: Model kinds ``load-model`` takes (the transformer is loaded when a performance starts).
LOADABLE = ("emotion", "ddsp")

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
_hashes: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


@dataclass(frozen=True)
class ModelRef:
    """A model file named the way the page names it: directory index and file name."""

    root: int
    name: str

    @property
    def id(self) -> str:
        return f"{self.root}/{self.name}"


def sha256(path: Path) -> str:
    """The file's sha256 (hex), cached by path, size and modification time."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _hash_lock:
        if key in _hashes:
            return _hashes[key]
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    with _hash_lock:
        _hashes[key] = digest.hexdigest()
    return _hashes[key]


def kind_of(name: str, card: dict[str, Any]) -> str:
    """``emotion``, ``ddsp`` or ``transformer`` from the card or the file name ("" unknown)."""
    label = str(card.get("name") or name)
    for kind in ("ddsp", "emotion", "transformer"):
        if label.startswith(kind) or name.startswith(kind):
            return kind
    return ""


def _read_card(path: Path) -> tuple[str, str]:
    """(text, problem) of one card file; "" text and a problem when unreadable."""
    if not path.is_file():
        return "", "no card"
    if path.stat().st_size > MAX_CARD_BYTES:
        return "", f"card over {MAX_CARD_BYTES} bytes"
    try:
        return path.read_text(), ""
    except (OSError, UnicodeDecodeError) as exc:
        return "", f"unreadable: {exc}"


def describe(root: int, path: Path, name: str, *, full: bool) -> dict[str, Any]:
    """One model: name, directory index, size, sha256, its card's claim and whether it
    matches; with ``full`` the card's JSON and its Markdown rendered as HTML."""
    json_text, json_problem = _read_card(path.with_suffix(".json"))
    card: dict[str, Any] = {}
    if json_text:
        try:
            loaded = json.loads(json_text)
            card = loaded if isinstance(loaded, dict) else {}
            json_problem = "" if card else "card is not a JSON object"
        except ValueError as exc:
            json_problem = f"card is not JSON: {exc}"
    digest = sha256(path)
    claimed = card.get("sha256") if isinstance(card.get("sha256"), str) else ""
    kind = kind_of(path.stem, card)
    out: dict[str, Any] = {
        "id": ModelRef(root, name).id,
        "name": name,
        "root": root,
        "kind": kind,
        "loadable": kind in LOADABLE,
        "bytes": path.stat().st_size,
        "sha256": digest,
        "card_sha256": claimed,
        "matches": bool(claimed) and claimed == digest,
        "card_problem": json_problem,
        "version": str(card.get("model_version") or ""),
    }
    if full:
        md_text, md_problem = _read_card(path.with_suffix(".md"))
        out["card"] = card
        out["card_html"] = _markdown.render(md_text) if md_text else ""
        out["md_problem"] = md_problem
    return out


def listing(model_dirs: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every ``*.onnx`` in each model directory or one level below (a training run's own
    directory), by directory then name; ``name`` is the path inside the directory."""
    out = []
    for root, directory in enumerate(model_dirs):
        base = Path(directory)
        if not base.is_dir():
            continue
        for path in sorted([*base.glob("*.onnx"), *base.glob("*/*.onnx")]):
            if path.is_file() and path.resolve().is_relative_to(base.resolve()):
                name = path.relative_to(base).as_posix()
                out.append({**describe(root, path, name, full=False), "dir": directory})
    return out
