"""Private run data: the run directory and the recordings are this user's alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kelly_actors.console.doctor.result import FAIL, PASS, WARN, CheckResult
from kelly_actors.files import loose_permissions


def check_privacy(run_dir: Path, record_dir: Path | None) -> CheckResult:
    """Fail where ``kelly run`` would refuse a directory (another owner, a symbolic link,
    writable by others); warn where others can read it (``kelly run`` tightens it to 0700,
    but what is in it now was readable)."""
    dirs = [("run directory", run_dir)] + ([("recordings", record_dir)] if record_dir else [])
    failures, warnings = [], []
    for label, path in dirs:
        problem = loose_permissions(path)
        if not problem:
            continue
        line = f"{label} {path} {problem}"
        (failures if _refused(path) else warnings).append(line)
    if failures:
        return CheckResult("privacy", FAIL, "; ".join(failures) + " (kelly run refuses it)")
    if warnings:
        fix = "; ".join(warnings)
        return CheckResult("privacy", WARN, f"{fix} (fix: chmod 700; kelly run tightens it)")
    checked = ", ".join(str(p) for _, p in dirs)
    return CheckResult("privacy", PASS, f"0700 and yours (or made so at start): {checked}")


def _refused(path: Path) -> bool:
    st = os.lstat(path)
    return stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid() or bool(st.st_mode & 0o022)
