"""One checklist line."""

from __future__ import annotations

from dataclasses import dataclass

PASS, FAIL, SKIP, WARN = "pass", "fail", "skip", "warn"
MARKS = {PASS: "✓", FAIL: "✗", SKIP: "–", WARN: "!"}


@dataclass(frozen=True)
class CheckResult:
    """``status`` is pass, fail, warn (works, but should be fixed; not a failure) or skip
    (not applicable here); ``figure`` the measured numbers or the reason, in one line."""

    name: str
    status: str
    figure: str

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def line(self) -> str:
        return f"{MARKS[self.status]} {self.name:<14} {self.figure}"
