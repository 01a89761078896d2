"""files: atomic writes, and private directories that another user cannot take over."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kelly_actors.files import NotPrivate, atomic_write, loose_permissions, private_dir


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_atomic_write_replaces_the_whole_file_with_the_mode_asked_and_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    target = tmp_path / "run.json"
    target.write_text("old")
    atomic_write(target, '{"new": true}', mode=0o600)
    assert target.read_text() == '{"new": true}'
    assert _mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_a_private_directory_is_created_0700_and_an_own_readable_one_is_tightened(
    tmp_path: Path,
) -> None:
    made = private_dir(tmp_path / "a" / "run")
    assert _mode(made) == 0o700
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    os.chmod(loose, 0o755)
    assert "0755" in loose_permissions(loose)
    private_dir(loose)
    assert _mode(loose) == 0o700
    assert loose_permissions(loose) == ""


def test_a_symbolic_link_or_a_directory_others_can_write_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(NotPrivate, match="symbolic link"):
        private_dir(tmp_path / "link")
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    with pytest.raises(NotPrivate, match="writable by its group and others"):
        private_dir(shared)
    assert _mode(shared) == 0o777  # refused, not silently changed


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a directory to another user")
def test_a_directory_another_user_owns_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    with pytest.raises(NotPrivate, match="belongs to uid 65534"):
        private_dir(theirs)
