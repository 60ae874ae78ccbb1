"""On-save speed: caplint's own share of a one-file run, side by side with the
import of its dependencies, and the language server's re-lint after a change.

    python bench/startup.py [--rounds N] [--no-readme]

One command, from the repository root. It keeps a regular (not editable)
install of this checkout in `bench/corpus/startup-venv/` — dependencies
installed once, caplint reinstalled from the working tree on every run, with
its bytecode compiled as pip does for users — because under
PYTHONDONTWRITEBYTECODE an editable install recompiles every module on every
run, which no user sees. Then, in interleaved rounds (so a busy machine slows
both sides alike):

- the dependency floor: `python -c "import typer, ruamel.yaml"` for a Compose
  file, `python -c "import typer, dockerfile_parse, tree_sitter,
  tree_sitter_bash"` for a Dockerfile — the cost of the libraries caplint
  was asked to use;
- `caplint check FILE` (the console script) on examples/docker-compose.yml and
  examples/Dockerfile;

and reports medians of wall and CPU time and caplint's ratio to its floor
(target ≤ 1.25). CPU time (user + system of the child) is the steadier
figure on a shared machine. Last, `bench/lsp_latency.py --changes` in the
same install: didChange → publishDiagnostics for a 200-line Compose file
(target ≤ 5 ms median). The results go into bench/README.md between the
`startup-results` markers.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / "corpus" / "startup-venv"
TARGET_RATIO = 1.25
TARGET_LSP_MS = 5.0
START, END = "<!-- startup-results:start -->", "<!-- startup-results:end -->"

FLOORS = {
    "Compose": "import typer, ruamel.yaml",
    "Dockerfile": "import typer, dockerfile_parse, tree_sitter, tree_sitter_bash",
}
FILES = {"Compose": ROOT / "examples" / "docker-compose.yml", "Dockerfile": ROOT / "examples" / "Dockerfile"}


def _bin(name: str) -> str:
    return str(VENV / "bin" / name)


def install() -> None:
    """A regular install of this checkout: deps once, caplint every time."""
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([_bin("python"), "-m", "pip", "install", "-q", str(ROOT)], check=True)
    subprocess.run([_bin("python"), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(ROOT)],
                   check=True)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "CAPLINT_NO_CACHE")}
    env["XDG_CACHE_HOME"] = str(HERE / "corpus" / "startup-cache")
    return env


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def startup(rounds: int) -> list[str]:
    env = _env()
    rows = []
    for label, imports in FLOORS.items():
        floor_argv = [_bin("python"), "-c", imports]
        check_argv = [_bin("caplint"), "check", str(FILES[label].relative_to(ROOT))]
        for _ in range(3):  # warm the page cache and caplint's rule-registry cache
            _run(floor_argv, env)
            _run(check_argv, env)
        floor, check = [], []
        for _ in range(rounds):
            floor.append(_run(floor_argv, env))
            check.append(_run(check_argv, env))
        fw, fc = (statistics.median(x[i] for x in floor) for i in (0, 1))
        cw, cc = (statistics.median(x[i] for x in check) for i in (0, 1))
        ratio = cc / fc
        verdict = "met" if ratio <= TARGET_RATIO else "**missed**"
        rows.append(f"| {label}: `{imports}` | {fw * 1000:.0f} ms (cpu {fc * 1000:.0f} ms) | "
                    f"{cw * 1000:.0f} ms (cpu {cc * 1000:.0f} ms) | {cw / fw:.2f} (cpu {ratio:.2f}) | "
                    f"≤ {TARGET_RATIO} | {verdict} |")
    return rows


def lsp(runs: int) -> str:
    out = subprocess.run([_bin("python"), str(HERE / "lsp_latency.py"), "--changes", str(runs)], env=_env(),
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip().splitlines()[-1]
    median = float(out.split("median ")[1].split(" ms")[0])
    verdict = "met" if median <= TARGET_LSP_MS else "**missed**"
    return f"| LSP re-lint, 200-line Compose file, didChange → publishDiagnostics | {out.strip()} | ≤ {TARGET_LSP_MS:.0f} ms median | {verdict} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=25, help="interleaved rounds per file (default 25)")
    ap.add_argument("--lsp-runs", type=int, default=200, help="didChange measurements (default 200)")
    ap.add_argument("--no-readme", action="store_true", help="print only; do not rewrite bench/README.md")
    args = ap.parse_args()
    install()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=ROOT).stdout.strip()
    load = os.getloadavg()[0]
    lines = [
        f"- caplint commit: {commit}{' + uncommitted changes' if dirty else ''}; Python {platform.python_version()}; "
        f"{os.cpu_count()} cores; load average (1 min) before: {load:.2f}",
        f"- command: `python bench/startup.py --rounds {args.rounds} --lsp-runs {args.lsp_runs}`",
        "",
        "| one file, regular install | dependency floor | `caplint check FILE` | ratio (wall, cpu) | target | verdict |",
        "| --- | --- | --- | --- | --- | --- |",
        *startup(args.rounds),
        "",
        "| language server | figure | target | verdict |",
        "| --- | --- | --- | --- |",
        lsp(args.lsp_runs),
        "",
        f"- load average (1 min) after: {os.getloadavg()[0]:.2f}",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_readme:
        readme = HERE / "README.md"
        old = readme.read_text(encoding="utf-8")
        if START in old and END in old:
            head, rest = old.split(START, 1)
            new = head + START + "\n" + text + "\n" + END + rest.split(END, 1)[1]
        else:
            new = old.rstrip("\n") + "\n\n## On-save speed (`bench/startup.py`)\n\n" + START + "\n" + text + "\n" + END + "\n"
        readme.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
