"""Timing and memory of whole processes, the way a user experiences them."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float  # user + system, the process and its reaped children
    max_rss_kib: int  # the largest resident set of the process or any child it waited for
    returncode: int


def run_once(argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> Run:
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(env), cwd=cwd)
    # wait4 returns the child's own rusage with its reaped children folded in
    # (Linux computes RUSAGE_BOTH), so worker processes count towards ru_maxrss.
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode)


@dataclass(frozen=True)
class Summary:
    wall: float  # median seconds
    cpu: float  # median CPU seconds: less sensitive to other load on a shared machine
    max_rss_kib: int  # the largest over all runs
    returncode: int


def median_run(argv: Sequence[str], env: Mapping[str, str], repeat: int, cwd: Path | None = None) -> Summary:
    """Medians over `repeat` runs after one warm-up run."""
    run_once(argv, env, cwd)  # fills the page cache and the bytecode cache
    runs = [run_once(argv, env, cwd) for _ in range(repeat)]
    return Summary(statistics.median(r.seconds for r in runs), statistics.median(r.cpu_seconds for r in runs),
                   max(r.max_rss_kib for r in runs), runs[-1].returncode)


def bench_env(pycache: Path) -> dict[str, str]:
    """The environment for measured processes.

    Bytecode is cached in a private folder: an installed caplint has its .pyc
    files, and a PYTHONDONTWRITEBYTECODE setting in a dev shell would otherwise
    make every run recompile caplint's modules (tens of milliseconds).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["NO_COLOR"] = "1"
    return env


def caplint_argv() -> list[str]:
    """The `caplint` console script of this interpreter's environment, as users run it."""
    script = Path(sys.executable).with_name("caplint")
    return [str(script)] if script.exists() else [sys.executable, "-m", "caplint"]


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores (os.cpu_count)": str(os.cpu_count()),
        "cores usable (sched_getaffinity)": str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else "?",
        "CPU": model,
        "Python": sys.version.split()[0],
        "platform": sys.platform,
    }


def git_commit(repo: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def import_costs(argv: Sequence[str], env: Mapping[str, str]) -> dict[str, int]:
    """Top-level package → microseconds spent importing its own modules, for
    one `python -X importtime -m caplint …` run. Self times are summed, so a
    package imported from inside another is not counted twice."""
    cmd = [sys.executable, "-X", "importtime", "-m", "caplint", *argv]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(env), timeout=60)
    cost: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        own, _, name = line[len("import time:"):].split("|")
        if not own.strip().isdigit():
            continue  # the header line
        top = name.strip().split(".")[0]
        cost[top] = cost.get(top, 0) + int(own)
    return cost
