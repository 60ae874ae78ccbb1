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
  file of pulled images, `python -c "import typer, dockerfile_parse,
  tree_sitter, tree_sitter_bash"` for a Dockerfile, and both for a Compose
  file whose service has `build: .` (caplint reads that Dockerfile: CAP209 and
  `caplint caps` need it, so its parser's libraries are that run's floor) —
  the cost of the libraries caplint was asked to use;
- `caplint check FILE` (the console script) on copies of examples/docker-compose.yml
  (with `build: .`, and with it replaced by `image:`) and examples/Dockerfile,
  in a project folder of their own (`bench/corpus/startup-project/`, a `.git`
  folder marks its root) as a user's files are: inside caplint's own checkout
  the config search would reach caplint's own pyproject.toml, which names
  caplint, and parse it;

and reports medians of wall and CPU time and caplint's ratio to its floor
(target ≤ 1.25), and beside it the ratio to the floor with its start-up frozen
out of the cyclic collector as caplint's main() freezes its own (`gc.freeze()`
spares the libraries' objects the collection at exit too): caplint's own share. CPU time (user + system of the child) is the steadier
figure on a shared machine; when valgrind is installed, each is also counted
in instructions (`valgrind --tool=callgrind`, one run each after the warm-up),
which load from other processes does not change at all. Last, in the same
install, the language server: `bench/lsp_latency.py --changes` (didChange →
publishDiagnostics for a 200-line Compose file at the byte level, wall time,
target ≤ 5 ms median, and the server's CPU per change), `--floor` (the same
against a no-op pygls server: the protocol's own share) and `--relint-cpu`
(that re-lint path in process, CPU time, plus its instructions per re-lint
under callgrind). The results go into
bench/README.md between the `startup-results` markers.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
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

PROJECT = HERE / "corpus" / "startup-project"
COMPOSE_DEPS, DOCKERFILE_DEPS = "typer, ruamel.yaml", "typer, dockerfile_parse, tree_sitter, tree_sitter_bash"
# (label, file in PROJECT, the imports that are its floor)
CASES = (
    ("Compose, pulled images", "pulled/docker-compose.yml", f"import {COMPOSE_DEPS}"),
    ("Compose with `build: .`", "docker-compose.yml",
     "import typer, ruamel.yaml, dockerfile_parse, tree_sitter, tree_sitter_bash"),
    ("Dockerfile", "Dockerfile", f"import {DOCKERFILE_DEPS}"),
)


def project() -> None:
    """The example files, copied into a project of their own."""
    shutil.rmtree(PROJECT, ignore_errors=True)
    (PROJECT / ".git").mkdir(parents=True)
    (PROJECT / "pulled").mkdir()
    (PROJECT / "lsp").mkdir()
    examples = ROOT / "examples"
    compose = (examples / "docker-compose.yml").read_text(encoding="utf-8")
    (PROJECT / "docker-compose.yml").write_text(compose, encoding="utf-8")
    assert "    build: .\n" in compose
    (PROJECT / "pulled" / "docker-compose.yml").write_text(compose.replace("    build: .\n", "    image: example/web:1.4\n"),
                                                          encoding="utf-8")
    shutil.copy(examples / "Dockerfile", PROJECT / "Dockerfile")
    shutil.copytree(examples / "scripts", PROJECT / "scripts")


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
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=PROJECT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def instructions(argv: list[str], env: dict[str, str]) -> int | None:
    """Instructions executed by one run, counted by callgrind; None without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=PROJECT)
    found = re.search(r"Collected : (\d+)", done.stderr)
    return int(found.group(1)) if found else None


def _mega(count: int | None) -> str:
    return "n/a (no valgrind)" if count is None else f"{count / 1e6:.1f} M"


def startup(rounds: int) -> list[str]:
    env = _env()
    rows = []
    for label, name, imports in CASES:
        floor_argv = [_bin("python"), "-c", imports]
        check_argv = [_bin("caplint"), "check", name]
        for _ in range(3):  # warm the page cache and caplint's rule-registry cache
            _run(floor_argv, env)
            _run(check_argv, env)
        floor, check = [], []
        for _ in range(rounds):
            floor.append(_run(floor_argv, env))
            check.append(_run(check_argv, env))
        fw, fc = (statistics.median(x[i] for x in floor) for i in (0, 1))
        cw, cc = (statistics.median(x[i] for x in check) for i in (0, 1))
        fi, ci = instructions(floor_argv, env), instructions(check_argv, env)
        # caplint's main() freezes what start-up loaded out of the cyclic
        # collector (gc.freeze), which also spares the dependencies' objects
        # the collection at exit. The same done to the floor gives caplint's
        # own share alone, shown beside the target's ratio.
        frozen = instructions([_bin("python"), "-c", f"{imports}; import gc; gc.freeze()"], env)
        ratio = ci / fi if fi and ci else cc / fc  # instructions when counted: they do not depend on the load
        verdict = "met" if ratio <= TARGET_RATIO else "**missed**"
        counted = f"{ci / fi:.2f}" if fi and ci else "n/a"
        own = f"{_mega(frozen)}: {ci / frozen:.2f}" if frozen and ci else "n/a"
        rows.append(f"| {label}: `caplint check {name}` against `{imports}` | {_mega(fi)}; {fw * 1000:.0f} ms "
                    f"(cpu {fc * 1000:.0f} ms) | {_mega(ci)}; {cw * 1000:.0f} ms (cpu {cc * 1000:.0f} ms) | "
                    f"{counted} (wall {cw / fw:.2f}, cpu {cc / fc:.2f}) | {own} | ≤ {TARGET_RATIO} | {verdict} |")
    return rows


def _lsp_script(*args: str) -> str:
    return subprocess.run([_bin("python"), str(HERE / "lsp_latency.py"), *args], env=_env(), capture_output=True,
                          text=True, check=True, cwd=ROOT).stdout.strip()


def lsp(runs: int) -> list[str]:
    changes = _lsp_script("--changes", str(runs)).splitlines()
    out, server_cpu = changes[-1], changes[0].split(": ", 1)[1]
    median = float(out.split("median ")[1].split(" ms")[0])
    floor = _lsp_script("--floor", str(runs)).splitlines()
    cpu = _lsp_script("--relint-cpu", str(runs)).splitlines()[-1]
    cpu_median = float(cpu.split("median ")[1].split(" ms")[0])
    script = [_bin("python"), str(HERE / "lsp_latency.py"), "--relint-cpu"]
    few, many = instructions([*script, "2"], _env()), instructions([*script, "22"], _env())
    per = f"{(many - few) / 20 / 1e6:.1f} M instructions per re-lint (callgrind, 22 runs less 2, / 20)" \
        if few and many else "instructions: n/a (no valgrind)"
    rows = [f"| LSP re-lint, 200-line Compose file, didChange → publishDiagnostics at the byte level (`--debounce-ms 0`, wall) | "
            f"{out.split(': ', 1)[1]}; server cpu per change {server_cpu} | ≤ {TARGET_LSP_MS:.0f} ms median | "
            f"{'met' if median <= TARGET_LSP_MS else '**missed**'} |",
            f"| the protocol floor: the same client and changes against a no-op pygls server (`bench/lsp_noop_server.py`) | "
            f"{floor[-1].split(': ', 1)[1]}; server cpu per change {floor[0].split(': ', 1)[1]} | (reference) | |",
            f"| the same re-lint path in process (settings, lint, diagnostics; cpu) | {cpu.split(': ', 1)[1]}; {per} | "
            f"≤ {TARGET_LSP_MS:.0f} ms median | {'met' if cpu_median <= TARGET_LSP_MS else '**missed**'} |"]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=25, help="interleaved rounds per file (default 25)")
    ap.add_argument("--lsp-runs", type=int, default=200, help="didChange measurements (default 200)")
    ap.add_argument("--no-readme", action="store_true", help="print only; do not rewrite bench/README.md")
    args = ap.parse_args()
    install()
    project()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=ROOT).stdout.strip()
    load = os.getloadavg()[0]
    lines = [
        f"- caplint commit: {commit}{' + uncommitted changes' if dirty else ''}; Python {platform.python_version()}; "
        f"{os.cpu_count()} cores; load average (1 min) before: {load:.2f}",
        f"- command: `python bench/startup.py --rounds {args.rounds} --lsp-runs {args.lsp_runs}`",
        "",
        "| one file, regular install | dependency floor: instructions; wall (cpu) | `caplint check FILE`: instructions; "
        "wall (cpu) | ratio: instructions (wall, cpu) | floor with its start-up frozen too (`gc.freeze()`, as caplint "
        "does): instructions: ratio | target | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *startup(args.rounds),
        "",
        "| language server | figure | target | verdict |",
        "| --- | --- | --- | --- |",
        *lsp(args.lsp_runs),
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
