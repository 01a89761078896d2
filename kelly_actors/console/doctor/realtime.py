"""Real-time readiness: may the audio threads run ``SCHED_FIFO`` and lock their memory, and
do the CPUs run at full clock?

Four lines, each at worst a warning (a performance runs without them, but ordinary load
then delays the audio threads: xruns), each saying how to fix it:

- **rtprio**: ``RLIMIT_RTPRIO`` (``ulimit -r``), the highest ``SCHED_FIFO`` priority this
  process may take without ``CAP_SYS_NICE``;
- **rt limits**: the lines of ``/etc/security/limits.conf`` and ``limits.d/*.conf`` that
  give it at login (pam_limits), e.g. ``@audio - rtprio 95``, and whether this user is in
  that group, in this login session too;
- **CPU governor**: ``/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor``;
- **memlock**: ``RLIMIT_MEMLOCK`` (``ulimit -l``), which JACK needs to lock its clients'
  memory.

Every input is a parameter (limits, capabilities, files, user and groups), so tests feed
their own.
"""

from __future__ import annotations

import grp
import os
import pwd
import resource
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kelly_actors.console.doctor.result import PASS, SKIP, WARN, CheckResult

#: The priority the real-time threads need: scripts/jack runs jackd at ``-P 80``, Kelly's
#: PortAudio callback asks for ``SCHED_FIFO 70``.
NEEDED_RTPRIO = 80
#: What the fix grants (jackd2's own limits file grants the same).
WANTED_RTPRIO = 95
#: Below this (bytes) JACK cannot lock a client's memory, and a page fault can stall the
#: audio thread for milliseconds.
MIN_MEMLOCK = 256 * 1024 * 1024
LIMITS_CONF = Path("/etc/security/limits.conf")
LIMITS_D = Path("/etc/security/limits.d")
CPU_ROOT = Path("/sys/devices/system/cpu")
#: Capability bits (linux/capability.h): either lifts the matching limit.
CAP_IPC_LOCK, CAP_SYS_NICE = 14, 23
FIX_FILE = "/etc/security/limits.d/95-kelly.conf"
INFINITY = resource.RLIM_INFINITY
_RELOGIN = "then log out and back in (limits and groups are set at login)"


def _fix_lines(user: str) -> str:
    return (
        f"printf '@audio - rtprio {WANTED_RTPRIO}\\n@audio - memlock unlimited\\n' | "
        f"sudo tee {FIX_FILE} && sudo usermod -aG audio {user}; {_RELOGIN}"
    )


def effective_caps() -> int:
    """This process's effective capabilities (``CapEff`` of /proc/self/status; 0 unknown)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


def _fmt(value: int) -> str:
    return "unlimited" if value == INFINITY else str(value)


def check_rtprio(limit: tuple[int, int] | None = None, caps: int | None = None) -> CheckResult:
    """``limit``: (soft, hard) ``RLIMIT_RTPRIO`` (default: this process's); ``caps``: the
    effective capability bits (default: this process's)."""
    soft, hard = limit if limit is not None else resource.getrlimit(resource.RLIMIT_RTPRIO)
    caps = effective_caps() if caps is None else caps
    now = f"ulimit -r {_fmt(soft)} (hard {_fmt(hard)})"
    if caps & (1 << CAP_SYS_NICE):
        return CheckResult("rtprio", PASS, f"{now}, but CAP_SYS_NICE (root): any priority")
    if soft == INFINITY or soft >= NEEDED_RTPRIO:
        return CheckResult(
            "rtprio", PASS, f"{now}: JACK at -P 80 and Kelly's SCHED_FIFO 70 may run real-time"
        )
    if hard == INFINITY or hard >= NEEDED_RTPRIO:
        fix = f"fix: ulimit -r {_fmt(hard)} in the shell before kelly run"
        return CheckResult("rtprio", WARN, f"{now}: below {NEEDED_RTPRIO}; {fix}")
    return CheckResult(
        "rtprio",
        WARN,
        f"{now}: real-time priority {NEEDED_RTPRIO} is refused, the audio threads run at "
        f"normal priority and ordinary load causes xruns; fix: {_fix_lines('$USER')}",
    )


def check_memlock(limit: tuple[int, int] | None = None, caps: int | None = None) -> CheckResult:
    """``limit``: (soft, hard) ``RLIMIT_MEMLOCK`` in bytes (default: this process's)."""
    soft, hard = limit if limit is not None else resource.getrlimit(resource.RLIMIT_MEMLOCK)
    caps = effective_caps() if caps is None else caps
    kib = {v: "unlimited" if v == INFINITY else f"{v // 1024} KiB" for v in (soft, hard)}
    now = f"ulimit -l {kib[soft]} (hard {kib[hard]})"
    if caps & (1 << CAP_IPC_LOCK):
        return CheckResult("memlock", PASS, f"{now}, but CAP_IPC_LOCK (root): not limited")
    if soft == INFINITY or soft >= MIN_MEMLOCK:
        return CheckResult("memlock", PASS, f"{now}: JACK can lock its clients' memory")
    if hard == INFINITY or hard >= MIN_MEMLOCK:
        fix = f"fix: ulimit -l {_fmt(hard if hard == INFINITY else hard // 1024)} in the shell"
        return CheckResult("memlock", WARN, f"{now}: below {MIN_MEMLOCK >> 20} MiB; {fix}")
    return CheckResult(
        "memlock",
        WARN,
        f"{now}: below {MIN_MEMLOCK >> 20} MiB, JACK cannot lock its clients' memory and a "
        "page fault can stall the audio thread (kelly service's unit asks for more, but gets "
        f"no more than the hard limit); fix: {_fix_lines('$USER')}",
    )


@dataclass(frozen=True)
class LimitLine:
    """One ``<domain> <type> <item> <value>`` line of a limits file."""

    path: Path
    number: int
    domain: str
    kind: str
    item: str
    value: str

    def __str__(self) -> str:
        return f"'{self.domain} {self.kind} {self.item} {self.value}' ({self.path}:{self.number})"

    def amount(self) -> int:
        """The value; ``unlimited`` / ``infinity`` / ``-1`` as :data:`INFINITY`; -2 bad."""
        if self.value.lower() in ("unlimited", "infinity", "-1"):
            return INFINITY
        return int(self.value) if self.value.isdigit() else -2


def parse_limits(text: str, path: Path) -> list[LimitLine]:
    """The well-formed lines of a limits file (comments and blank lines skipped)."""
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        fields = raw.split("#", 1)[0].split()
        if len(fields) == 4:
            lines.append(LimitLine(path, number, *fields))
    return lines


def read_limits(
    conf: Path = LIMITS_CONF, conf_dir: Path = LIMITS_D
) -> tuple[list[LimitLine], list[LimitLine]]:
    """(the lines pam_limits reads: ``conf``, then ``conf_dir/*.conf`` in name order;
    the files beside them it ignores, e.g. jackd2's ``audio.conf.disabled``)."""
    read, ignored = [], []
    others = sorted(p for p in conf_dir.iterdir() if p.is_file()) if conf_dir.is_dir() else []
    for path in [conf, *others]:
        try:
            lines = parse_limits(path.read_text(errors="replace"), path)
        except OSError:
            continue
        (read if path == conf or path.suffix == ".conf" else ignored).extend(lines)
    return read, ignored


def _group_of(domain: str) -> str | None:
    return domain[1:] if domain.startswith("@") and ":" not in domain else None


def applies(domain: str, user: str, uid: int, groups: set[str]) -> bool:
    """Whether a limits line's domain covers ``user`` (``uid``) in ``groups``, as pam_limits
    reads it: the name, ``@group``, ``*``, ``min:max`` uid ranges (and ``@min:max`` gid
    ranges); group and wildcard lines never apply to root."""
    if domain == user:
        return True
    if uid == 0:
        return False
    if domain == "*":
        return True
    group = _group_of(domain)
    if group is not None:
        return group in groups
    low, sep, high = domain.lstrip("@").partition(":")
    if not sep or not (low or high) or not (low + high).isdigit():
        return False
    ids = {_gid(g) for g in groups} if domain.startswith("@") else {uid}
    return any((not low or i >= int(low)) and (not high or i <= int(high)) for i in ids)


def _gid(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return -1


def user_groups(user: str) -> tuple[set[str], set[str]]:
    """(the groups ``user`` is in per the group database, the groups of this session)."""
    member = {g.gr_name for g in grp.getgrall() if user in g.gr_mem}
    try:
        member.add(grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name)
    except KeyError:
        pass
    session = set()
    for gid in {os.getegid(), *os.getgroups()}:
        try:
            session.add(grp.getgrgid(gid).gr_name)
        except KeyError:
            continue
    return member, session


def check_rt_limits(
    conf: Path = LIMITS_CONF,
    conf_dir: Path = LIMITS_D,
    user: tuple[str, int] | None = None,
    groups: tuple[set[str], set[str]] | None = None,
    caps: int | None = None,
) -> CheckResult:
    """Which limits line gives ``user`` (name, uid; default: this process's) real-time
    priority. ``groups``: (member of per the group database, in this session)."""
    if user is None:
        uid = os.geteuid()
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            name = str(uid)
    else:
        name, uid = user
    member, session = user_groups(name) if groups is None else groups
    caps = effective_caps() if caps is None else caps
    if caps & (1 << CAP_SYS_NICE):
        return CheckResult("rt limits", SKIP, f"{name} has CAP_SYS_NICE: no line needed")
    read, ignored = read_limits(conf, conf_dir)
    rtprio = [line for line in read if line.item == "rtprio" and line.kind in ("-", "hard")]
    granting = [line for line in rtprio if applies(line.domain, name, uid, member)]
    if granting:
        best = max(granting, key=LimitLine.amount)
        group = _group_of(best.domain)
        if group is not None and group not in session:
            late = f"this session is not in {group} yet: log out and back in"
            return CheckResult("rt limits", WARN, f"{best} grants {name} rtprio; {late}")
        if best.amount() < NEEDED_RTPRIO:
            fix = f"fix: make it {WANTED_RTPRIO} there; {_RELOGIN}"
            return CheckResult("rt limits", WARN, f"{best} grants only {best.value}; {fix}")
        return CheckResult("rt limits", PASS, f"{best} grants {name} rtprio {best.value}")
    others = [line for line in rtprio if _group_of(line.domain) and uid != 0]
    if others:
        group = _group_of(others[0].domain)
        fix = f"fix: sudo usermod -aG {group} {name}; {_RELOGIN}"
        return CheckResult("rt limits", WARN, f"{others[0]} is for {group}, not {name}; {fix}")
    disabled = [line for line in ignored if line.item == "rtprio"]
    if disabled:
        path, group = disabled[0].path, _group_of(disabled[0].domain)
        fix = f"fix: sudo mv {path} {path.with_name(path.name.split('.conf')[0] + '.conf')}"
        if group is not None and group not in member:
            fix += f" && sudo usermod -aG {group} {name}"
        fix += f"; {_RELOGIN}"
        return CheckResult("rt limits", WARN, f"{disabled[0]} is not read (not *.conf); {fix}")
    where = f"{conf} or {conf_dir}/*.conf"
    return CheckResult(
        "rt limits", WARN, f"no line in {where} gives {name} rtprio; fix: {_fix_lines(name)}"
    )


def check_governor(cpu_root: Path = CPU_ROOT) -> CheckResult:
    """Each CPU's ``cpufreq/scaling_governor`` under ``cpu_root``: ``performance`` passes."""
    files = sorted(cpu_root.glob("cpu[0-9]*/cpufreq/scaling_governor"))
    if not files:
        why = f"no {cpu_root}/cpu*/cpufreq/scaling_governor"
        return CheckResult("CPU governor", SKIP, f"not exposed (virtual machine?): {why}")
    governors: Counter[str] = Counter()
    for path in files:
        try:
            governors[path.read_text().strip() or "?"] += 1
        except OSError:
            governors["unreadable"] += 1
    if set(governors) == {"performance"}:
        return CheckResult("CPU governor", PASS, f"performance on all {len(files)} CPUs")
    seen = ", ".join(f"{g} on {n} of {len(files)} CPUs" for g, n in governors.most_common())
    fix = (
        "fix: sudo cpupower frequency-set -g performance (Debian: apt install linux-cpupower), "
        f"or echo performance | sudo tee {cpu_root}/cpu*/cpufreq/scaling_governor"
    )
    why = "the clock rises only after a burst of load has begun: its first blocks run slow"
    return CheckResult("CPU governor", WARN, f"{seen}: {why}; {fix}")


def check_realtime() -> list[CheckResult]:
    """The four lines, for this process and this machine."""
    return [check_rtprio(), check_rt_limits(), check_memlock(), check_governor()]
