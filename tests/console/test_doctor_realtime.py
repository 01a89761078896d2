"""`kelly doctor`'s real-time lines: rtprio and memlock limits, the limits.conf line that
grants them (real files of various contents), the CPU governor (a /sys tree of our own)."""

from __future__ import annotations

from pathlib import Path

import pytest
from performance import kelly

from kelly_actors.console.doctor.realtime import (
    CAP_IPC_LOCK,
    CAP_SYS_NICE,
    INFINITY,
    check_governor,
    check_memlock,
    check_rt_limits,
    check_rtprio,
    parse_limits,
)

MiB = 1024 * 1024
USER = ("performer", 1000)


def test_rtprio_passes_at_80_and_above_and_says_how_to_get_there_below() -> None:
    assert check_rtprio((95, 95), caps=0).status == "pass"
    assert check_rtprio((INFINITY, INFINITY), caps=0).status == "pass"
    raisable = check_rtprio((0, 95), caps=0)
    assert raisable.status == "warn" and "fix: ulimit -r 95" in raisable.figure
    refused = check_rtprio((0, 0), caps=0)
    assert refused.status == "warn" and refused.figure.startswith("ulimit -r 0 (hard 0)")
    assert "@audio - rtprio 95" in refused.figure and "sudo usermod -aG audio" in refused.figure
    root = check_rtprio((0, 0), caps=1 << CAP_SYS_NICE)
    assert root.status == "pass" and "CAP_SYS_NICE" in root.figure


def test_memlock_warns_below_256_mib_and_passes_unlimited() -> None:
    low = check_memlock((8 * MiB, 8 * MiB), caps=0)
    assert low.status == "warn" and low.figure.startswith("ulimit -l 8192 KiB (hard 8192 KiB)")
    assert "@audio - memlock unlimited" in low.figure
    assert check_memlock((256 * MiB, 256 * MiB), caps=0).status == "pass"
    raisable = check_memlock((MiB, INFINITY), caps=0)
    assert raisable.status == "warn" and "fix: ulimit -l unlimited" in raisable.figure
    unlimited = check_memlock((INFINITY, INFINITY), caps=0)
    assert unlimited.status == "pass" and "unlimited" in unlimited.figure
    assert check_memlock((0, 0), caps=1 << CAP_IPC_LOCK).status == "pass"


@pytest.fixture
def limits(tmp_path: Path) -> tuple[Path, Path]:
    conf, conf_dir = tmp_path / "limits.conf", tmp_path / "limits.d"
    conf.write_text("# /etc/security/limits.conf\n#@audio - rtprio 99\n*  soft  core  0\n")
    conf_dir.mkdir()
    return conf, conf_dir


def rt(limits: tuple[Path, Path], member: set[str], session: set[str], user=USER):
    return check_rt_limits(*limits, user=user, groups=(member, session), caps=0)


def test_a_group_line_grants_rtprio_to_its_members_logged_in_since(
    limits: tuple[Path, Path],
) -> None:
    _, conf_dir = limits
    (conf_dir / "audio.conf").write_text("# jackd\n@audio   -  rtprio     95\n")
    granted = rt(limits, {"audio"}, {"audio"})
    assert granted.status == "pass"
    assert f"'@audio - rtprio 95' ({conf_dir / 'audio.conf'}:2)" in granted.figure
    late = rt(limits, {"audio"}, set())
    assert late.status == "warn" and "log out and back in" in late.figure
    outside = rt(limits, set(), set())
    assert outside.status == "warn" and "sudo usermod -aG audio performer" in outside.figure


def test_lines_for_the_user_the_wildcard_and_uid_ranges(limits: tuple[Path, Path]) -> None:
    conf, _ = limits
    conf.write_text("performer hard rtprio 90\n")
    assert rt(limits, set(), set()).status == "pass"
    conf.write_text("*  -  rtprio  90\n")
    assert rt(limits, set(), set()).status == "pass"
    # pam_limits applies no group or wildcard line to root.
    assert "no line" in rt(limits, set(), set(), user=("root", 0)).figure
    conf.write_text("1000:  -  rtprio  95\n")
    assert rt(limits, set(), set()).status == "pass"
    assert rt(limits, set(), set(), user=("other", 999)).status == "warn"
    conf.write_text("performer soft rtprio 95\n")  # soft alone: the hard limit stays 0
    assert rt(limits, set(), set()).status == "warn"


def test_a_low_grant_says_to_raise_it(limits: tuple[Path, Path]) -> None:
    conf, _ = limits
    conf.write_text("@audio - rtprio 50\n")
    low = rt(limits, {"audio"}, {"audio"})
    assert low.status == "warn" and "grants only 50" in low.figure and "95" in low.figure


def test_no_line_anywhere_gives_the_lines_to_add(limits: tuple[Path, Path]) -> None:
    missing = rt(limits, set(), set())
    assert missing.status == "warn" and "no line in" in missing.figure
    assert (
        "printf '@audio - rtprio 95\\n@audio - memlock unlimited\\n' | "
        "sudo tee /etc/security/limits.d/95-kelly.conf && sudo usermod -aG audio performer"
    ) in missing.figure


def test_a_file_pam_limits_does_not_read_is_named_with_how_to_enable_it(
    limits: tuple[Path, Path],
) -> None:
    _, conf_dir = limits
    disabled = conf_dir / "audio.conf.disabled"  # what jackd2 leaves when told "no"
    disabled.write_text("@audio   -  rtprio     95\n@audio   -  memlock    unlimited\n")
    found = rt(limits, {"audio"}, {"audio"})
    assert found.status == "warn" and "is not read" in found.figure
    assert f"sudo mv {disabled} {conf_dir / 'audio.conf'}" in found.figure
    assert "usermod" not in found.figure  # already a member


def test_with_cap_sys_nice_no_line_is_needed(limits: tuple[Path, Path]) -> None:
    skipped = check_rt_limits(*limits, user=("root", 0), groups=(set(), set()),
                              caps=1 << CAP_SYS_NICE)  # fmt: skip
    assert skipped.status == "skip"


def test_limits_lines_parse_with_comments_and_odd_spacing(tmp_path: Path) -> None:
    lines = parse_limits("\t@audio\t-\trtprio\t95 # jack\nbroken line\n\n", tmp_path / "x.conf")
    assert [(x.domain, x.kind, x.item, x.value, x.number) for x in lines] == [
        ("@audio", "-", "rtprio", "95", 1)
    ]


def cpus(root: Path, governors: list[str]) -> Path:
    for i, governor in enumerate(governors):
        freq = root / f"cpu{i}" / "cpufreq"
        freq.mkdir(parents=True)
        (freq / "scaling_governor").write_text(governor + "\n")
    (root / "cpufreq").mkdir(exist_ok=True)  # the policy directory: not a CPU
    return root


def test_the_governor_passes_only_when_every_cpu_says_performance(tmp_path: Path) -> None:
    fast = check_governor(cpus(tmp_path / "a", ["performance"] * 4))
    assert fast.status == "pass" and fast.figure == "performance on all 4 CPUs"
    mixed = check_governor(cpus(tmp_path / "b", ["powersave", "powersave", "performance"]))
    assert mixed.status == "warn"
    assert mixed.figure.startswith("powersave on 2 of 3 CPUs, performance on 1 of 3 CPUs")
    assert "sudo cpupower frequency-set -g performance" in mixed.figure


def test_an_absent_governor_is_information_not_a_warning(tmp_path: Path) -> None:
    (tmp_path / "cpu0").mkdir()
    absent = check_governor(tmp_path)
    assert absent.status == "skip" and absent.figure.startswith("not exposed (virtual machine?)")


def test_kelly_doctor_prints_the_real_time_lines(tmp_path: Path) -> None:
    done = kelly("doctor", "--models", str(tmp_path), "--max-load", "1.0", timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {line[2:16].strip(): line for line in done.stdout.splitlines() if line[:1] in "✓✗–!"}
    for name in ("rtprio", "rt limits", "memlock", "CPU governor"):
        assert name in lines, done.stdout
    assert "ulimit -r" in lines["rtprio"] and "ulimit -l" in lines["memlock"]
