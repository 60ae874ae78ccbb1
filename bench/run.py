"""caplint's benchmark: `python bench/run.py` (see bench/README.md).

Builds the generated corpus under bench/corpus/, times whole `caplint`
processes the way users run them, prints a table and rewrites the results
section of bench/README.md. Figures come from here, never from timed tests.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus as corpus_mod  # noqa: E402  (bench/ is not a package)
import measure  # noqa: E402
import registry_cost  # noqa: E402

# Modules a Compose-only text run must not import (issue 5, start-up).
HEAVY = ("pygls", "lsprotocol", "sarif_om", "jschema_to_python", "tree_sitter", "tree_sitter_bash", "dockerfile_parse")
TARGET_COLD_MS = 100.0
TARGET_FILES_PER_S = 600.0
TARGET_RSS_MIB = 100.0
START, END = "<!-- results:start -->", "<!-- results:end -->"


@dataclass(frozen=True)
class Row:
    what: str
    figure: str
    target: str = ""
    verdict: str = ""


def _ms(s: float) -> str:
    return f"{s * 1000:.0f} ms"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def cold_rows(files: dict[str, Path], env: dict[str, str], repeat: int) -> tuple[list[Row], float]:
    floor = measure.median_run([sys.executable, "-c", "pass"], env, repeat)
    rows = [Row("`python -c pass` (floor)", f"{_ms(floor.wall)} (cpu {_ms(floor.cpu)})")]
    for label, path in files.items():
        s = measure.median_run([*measure.caplint_argv(), "check", str(path)], env, repeat)
        rows.append(Row(f"one file cold, {label}", f"{_ms(s.wall)} (cpu {_ms(s.cpu)}), {_mib(s.max_rss_kib)}",
                        f"≤ {TARGET_COLD_MS:.0f} ms", _verdict(s.wall * 1000 <= TARGET_COLD_MS)))
    sarif = measure.run_once([*measure.caplint_argv(), "check", "--format", "sarif", str(files["Compose"])], env)
    state = "" if sarif.returncode in (0, 1) else f" — exit {sarif.returncode}: SARIF reporter failed or missing"
    rows.append(Row("one file, `--format sarif`, once", f"{_ms(sarif.seconds)}{state}"))
    return rows, floor.wall


def what_if_rows(files: dict[str, Path], env: dict[str, str], repeat: int) -> list[Row]:
    """The one-file figures without typer, and also without importlib.metadata (bench/startup_parts.py)."""
    script = str(HERE / "startup_parts.py")
    cache = str(HERE / "corpus" / "entry-points.json")
    measure.run_once([sys.executable, script, "write-cache", cache], env)
    rows = []
    for label, path in files.items():
        parts = []
        for mode in ("no-typer", "no-typer+cache"):
            s = measure.median_run([sys.executable, script, mode, cache, str(path)], env, repeat)
            parts.append(f"{mode}: {_ms(s.wall)}")
        rows.append(Row(f"what-if, one file, {label}", "; ".join(parts), f"≤ {TARGET_COLD_MS:.0f} ms"))
    return rows


def throughput_rows(root: Path, files: int, env: dict[str, str], repeat: int) -> list[Row]:
    rows = []
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    for jobs in sorted({1, cores}):
        s = measure.median_run([*measure.caplint_argv(), "check", "--jobs", str(jobs), str(root)], env, repeat)
        rate = files / s.wall
        target = f"≥ {TARGET_FILES_PER_S:.0f}/s on 2 cores" if jobs == cores else ""
        rows.append(Row(f"corpus, `--jobs {jobs}` ({files} files)",
                        f"{rate:.0f} files/s ({s.wall:.2f} s wall, {s.cpu:.2f} s cpu)", target,
                        _verdict(rate >= TARGET_FILES_PER_S) if target else ""))
        rows.append(Row(f"peak RSS, `--jobs {jobs}` (largest process)", _mib(s.max_rss_kib),
                        f"≤ {TARGET_RSS_MIB:.0f} MiB", _verdict(s.max_rss_kib / 1024 <= TARGET_RSS_MIB)))
    return rows


def mixed_rows(plain: Path, plain_files: int, env: dict[str, str], repeat: int, corpus_repeat: int,
               projects: int) -> list[Row]:
    """The same projects plus a devcontainer.json and a GitHub workflow each and a
    .gitlab-ci.yml for a third, against the plain corpus: runs alternate between
    the two trees, so load from elsewhere on a shared machine falls on both."""
    mixed = corpus_mod.generate(HERE / "corpus" / "mixed", projects=projects, mixed=True)
    assert mixed.workflow is not None and mixed.devcontainer is not None
    rows = []
    for label, path in (("GitHub workflow", mixed.workflow), ("devcontainer.json", mixed.devcontainer)):
        s = measure.median_run([*measure.caplint_argv(), "check", str(path)], env, repeat)
        rows.append(Row(f"one file cold, {label}", f"{_ms(s.wall)} (cpu {_ms(s.cpu)}), {_mib(s.max_rss_kib)}"))
    argv = [*measure.caplint_argv(), "check", "--jobs", "1"]
    for tree in (plain, mixed.root):
        measure.run_once([*argv, str(tree)], env)  # warm-up
    runs: dict[Path, list[measure.Run]] = {plain: [], mixed.root: []}
    for _ in range(corpus_repeat):
        for tree in runs:
            runs[tree].append(measure.run_once([*argv, str(tree)], env))
    rate = {}
    for tree, files in ((plain, plain_files), (mixed.root, mixed.files)):
        wall = statistics.median(r.seconds for r in runs[tree])
        cpu = statistics.median(r.cpu_seconds for r in runs[tree])
        rate[tree] = files / cpu
        rows.append(Row(f"{'mixed' if tree == mixed.root else 'plain'} corpus, `--jobs 1`, alternating ({files} files)",
                        f"{files / wall:.0f} files/s wall, {files / cpu:.0f} files/cpu-s ({wall:.2f} s wall, {cpu:.2f} s cpu)"))
    change = rate[mixed.root] / rate[plain] - 1
    rows.append(Row("mixed vs plain, files per CPU second", f"{change:+.1%}", "within ±10 %", _verdict(abs(change) <= 0.10)))
    return rows


def flatness_rows(root: Path, env: dict[str, str]) -> list[Row]:
    """Peak memory of serial runs over growing slices of the corpus: flat means O(1) in files."""
    projects = sorted(p for p in root.iterdir() if p.is_dir())
    figures = []
    for share in (0.1, 0.33, 1.0):
        chosen = projects[: max(1, int(len(projects) * share))]
        files = sum(1 for p in chosen for f in p.rglob("*") if f.is_file())
        run = measure.run_once([*measure.caplint_argv(), "check", "--jobs", "1", *map(str, chosen)], env)
        figures.append(f"{files} files: {_mib(run.max_rss_kib)}")
    return [Row("peak RSS vs files, `--jobs 1`", "; ".join(figures), "flat")]


def import_rows(compose: Path, env: dict[str, str]) -> list[Row]:
    cost = measure.import_costs(["check", str(compose)], env)
    heavy = [m for m in HEAVY if m in cost]
    top = sorted(cost.items(), key=lambda kv: -kv[1])[:8]
    return [
        Row("heavy modules imported, Compose text run", ", ".join(heavy) or "none",
            "none of " + ", ".join(HEAVY[::2]) + ", …", _verdict(not heavy)),
        Row("largest imports (self time, -X importtime)", ", ".join(f"{k} {v / 1000:.0f} ms" for k, v in top)),
    ]


def registry_rows() -> list[Row]:
    rows = []
    for r in registry_cost.measure(HERE / "corpus"):
        rows.append(Row(f"entry_points(group=…), +{int(r['extra_dists'])} dists",
                        f"scan {r['scan_ms']:.1f} ms (+ import importlib.metadata {r['import_ms']:.0f} ms); "
                        f"mtime-keyed cache hit {r['cache_hit_ms']:.1f} ms"))
    return rows


def table(rows: list[Row]) -> str:
    out = ["| measurement | figure | target | verdict |", "| --- | --- | --- | --- |"]
    out += [f"| {r.what} | {r.figure} | {r.target} | {r.verdict} |" for r in rows]
    return "\n".join(out)


def write_readme(text: str) -> None:
    readme = HERE / "README.md"
    current = readme.read_text() if readme.exists() else f"# caplint benchmark\n\n{START}\n{END}\n"
    if START not in current or END not in current:
        current += f"\n{START}\n{END}\n"
    head, rest = current.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{text}\n{END}{tail}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--projects", type=int, default=380, help="corpus size in project folders (~8 files each)")
    ap.add_argument("--repeat", type=int, default=11, help="runs per one-file timing (median)")
    ap.add_argument("--corpus-repeat", type=int, default=3, help="runs per corpus timing (median)")
    ap.add_argument("--no-readme", action="store_true", help="print only; leave bench/README.md alone")
    ap.add_argument("--plain-only", action="store_true",
                    help="skip the mixed corpus (with devcontainer.json and CI files)")
    ap.add_argument("--formats-only", action="store_true",
                    help="only the mixed-corpus rows (the new formats against the plain corpus)")
    args = ap.parse_args()

    started = time.time()
    made = corpus_mod.generate(HERE / "corpus" / "tree", projects=args.projects)
    env = measure.bench_env(HERE / "corpus" / ".pycache")
    load_before = os.getloadavg()[0]
    files = {"Compose": made.compose, "Dockerfile": made.dockerfile, "script": made.script}
    if args.formats_only:
        rows = mixed_rows(made.root, made.files, env, args.repeat, args.corpus_repeat, args.projects)
        print(table(rows))
        return 0
    rows, _ = cold_rows(files, env, args.repeat)
    rows += what_if_rows(files, env, args.repeat)
    rows += throughput_rows(made.root, made.files, env, args.corpus_repeat)
    if not args.plain_only:
        rows += mixed_rows(made.root, made.files, env, args.repeat, args.corpus_repeat, args.projects)
    rows += flatness_rows(made.root, env)
    rows += import_rows(made.compose, env)
    rows += registry_rows()
    info = measure.machine()
    info["load average (1 min) before / after"] = f"{load_before:.2f} / {os.getloadavg()[0]:.2f}"
    info["caplint commit"] = measure.git_commit(HERE.parent)
    info["date"] = time.strftime("%Y-%m-%d %H:%M", time.localtime(started))
    info["command"] = "python bench/run.py " + " ".join(sys.argv[1:])
    machine = "\n".join(f"- {k}: {v}" for k, v in info.items())
    report = f"{machine}\n\n{table(rows)}"
    print(report)
    if not args.no_readme:
        write_readme(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
