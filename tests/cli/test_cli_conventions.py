"""The ``kelly`` command line's conventions: global options anywhere, ``--version``, help
without markup and with examples that parse, exit codes in ``kelly --help``, and bash and
zsh completion tried in the real shells."""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest

from kelly_actors.cli import build_parser, main, subparsers
from kelly_actors.cli.completion import script
from kelly_actors.cli.examples import EXAMPLES

MARKUP = ("``", ":mod:", ":func:", ":class:", ":data:", ":meth:")


def every_parser() -> list[argparse.ArgumentParser]:
    parser = build_parser()
    return [parser, *subparsers(parser)]


def test_the_run_directory_is_taken_before_or_after_the_program() -> None:
    parser = build_parser()
    assert parser.parse_args(["--run-dir", "/a", "log"]).run_dir == Path("/a")
    assert parser.parse_args(["log", "--run-dir", "/b"]).run_dir == Path("/b")
    assert parser.parse_args(["ctl", "feel", "calm", "--run-dir", "/c"]).run_dir == Path("/c")
    assert parser.parse_args(["--run-dir", "/a", "ctl", "--run-dir", "/d", "ping"]).run_dir == Path(
        "/d"
    )
    assert parser.parse_args(["status"]).run_dir == parser.get_default("run_dir")
    # kelly ctl's own options, too, before or after the verb.
    assert parser.parse_args(["ctl", "--timeout", "3", "ping"]).timeout == 3
    assert parser.parse_args(["ctl", "ping", "--timeout", "2"]).timeout == 2
    assert parser.parse_args(["ctl", "ping"]).timeout == 5
    for each in every_parser():
        assert "--run-dir" in each._option_string_actions, each.prog


def test_kelly_status_run_dir_after_the_program_looks_there(run_dir: Path, capsys) -> None:
    assert main(["status", "--run-dir", str(run_dir)]) == 1
    assert f"no performance is running in {run_dir}" in capsys.readouterr().err


def test_version_is_the_installed_package_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kelly_actors.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"kelly {metadata.version('kelly-actors')}"


def test_help_has_no_markup_and_every_program_shows_examples() -> None:
    for each in every_parser():
        text = each.format_help()
        assert not [m for m in MARKUP if m in text], f"{each.prog}: markup in\n{text}"
        assert "\nexamples:\n  kelly" in text, f"{each.prog} shows no example"
        assert each.description, f"{each.prog} says nothing about itself"


def test_every_example_parses_as_the_program_it_illustrates() -> None:
    parser = build_parser()
    known = {each.prog for each in every_parser()}
    assert known <= set(EXAMPLES), f"programs without examples: {known - set(EXAMPLES)}"
    for prog, lines in EXAMPLES.items():
        if prog not in known:
            continue  # a program another change adds (its examples come first)
        for line in lines:
            words = shlex.split(line, comments=True)
            for stop in ("|", ">"):
                if stop in words:
                    words = words[: words.index(stop)]
            assert words[0] == "kelly"
            if "--help" in words:
                continue  # kelly train KIND --help: the pipeline's own help
            args = parser.parse_args(words[1:])
            assert callable(args.func), line
            assert " ".join(words).startswith(prog), f"{line!r} is not an example of {prog}"


def test_exit_codes_are_in_kelly_help() -> None:
    text = build_parser().format_help()
    assert "exit codes:" in text
    for code in ("0", "1", "2", "3"):
        assert f"\n  {code}  " in text


def _bash_complete(words: list[str], path: Path) -> list[str]:
    """What ``kelly`` completes for ``words`` (the last one being typed) in a real bash."""
    line = " ".join(words)
    program = (
        f"source {shlex.quote(str(path))}\n"
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\nCOMP_LINE={shlex.quote(line)}\nCOMP_POINT={len(line)}\n"
        "_shtab_kelly\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile"], input=program, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completes_programs_verbs_options_and_choices(tmp_path: Path) -> None:
    path = tmp_path / "kelly.bash"
    path.write_text(script("bash"))
    assert "status" in _bash_complete(["kelly", "sta"], path)
    assert _bash_complete(["kelly", "ctl", "fe"], path) == ["feel"]
    assert _bash_complete(["kelly", "status", "--ru"], path) == ["--run-dir"]
    assert _bash_complete(["kelly", "completion", ""], path) == ["bash", "zsh"]
    assert _bash_complete(["kelly", "ctl", "lock", "ar"], path) == ["arousal"]


def _pane(tmux: list[str]) -> str:
    return subprocess.run(
        [*tmux, "capture-pane", "-p"], capture_output=True, text=True, timeout=10
    ).stdout


def test_zsh_completes_kelly_in_a_real_zsh(tmp_path: Path) -> None:
    for tool in ("zsh", "tmux"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (scripts/setup dev installs it)")
    functions = tmp_path / "functions"
    functions.mkdir()
    (functions / "_kelly").write_text(script("zsh"))
    tmux = ["tmux", "-S", str(tmp_path / "tmux.sock")]
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "120", "-y", "20", "env", "-i", "TERM=xterm",
         f"HOME={tmp_path}", "zsh", "-f"],
        check=True, timeout=10,
    )  # fmt: skip
    try:
        setup = f"fpath=({functions} $fpath); autoload -U compinit; compinit -u -D; echo READY"
        subprocess.run([*tmux, "send-keys", setup, "Enter"], check=True, timeout=10)
        _wait_for_pane(tmux, lambda text: "\nREADY" in text)
        subprocess.run([*tmux, "send-keys", "kelly ctl fe", "Tab"], check=True, timeout=10)
        _wait_for_pane(tmux, lambda text: "kelly ctl feel" in text)
        subprocess.run([*tmux, "send-keys", "C-u", "kelly stat", "Tab"], check=True, timeout=10)
        _wait_for_pane(tmux, lambda text: "kelly status" in text)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, timeout=10)


def _wait_for_pane(tmux: list[str], seen, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = _pane(tmux)
        if seen(text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"the pane never showed what was expected:\n{text}")
        time.sleep(0.05)
