"""The formats of issue 13 on a mixed tree: does a repository full of Markdown stay fast?

    python bench/formats.py [--projects 200] [--repeat 3] [--base COMMIT]

Builds, beside the main corpus, `bench/corpus/mixed/`: the corpus's projects
(Compose files, Dockerfiles, scripts) plus, per project, a README and 2–4 docs
pages (most prose only, some with a `bash` or `console` fence of `docker run`
lines, some with only `python` fences), and now and then a Makefile, a
systemd unit and a Quadlet unit — the shape of a real repository, where
Markdown is the most common file. It then times whole `caplint check` runs:

- this checkout on the plain corpus and on the mixed tree,
- the `--base` commit (default: the merge base with main, before these
  formats), extracted with `git archive` into a temporary folder, on the same
  two trees (it does not see the new kinds, so its file count is smaller).

Throughput is files linted per second; the figure that matters is this
checkout's rate on the mixed tree against the base's rate on the plain corpus.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
import measure  # noqa: E402

HERE = Path(__file__).resolve().parent
PROSE = ("caplint reads the places where container privileges are written. This paragraph is prose with "
         "`inline code`, *emphasis*, a [link](https://example.org) and a list:\n\n- one\n- two\n- three\n")


def markdown(rng: random.Random) -> str:
    parts = [f"# Project {rng.randint(1, 9999)}\n"]
    for _ in range(rng.randint(3, 12)):
        parts.append(f"## Section {rng.randint(1, 99)}\n\n" + PROSE * rng.randint(1, 4))
        roll = rng.random()
        if roll < 0.08:
            flag = rng.choice(("--cap-add=NET_ADMIN", "--privileged", "--network host", "--rm"))
            parts.append(f"```bash\ndocker run {flag} -p 8080:80 example/app:{rng.randint(1, 9)}\n```\n")
        elif roll < 0.12:
            parts.append("```console\n$ docker run --rm -v /var/run/docker.sock:/var/run/docker.sock x\nok\n```\n")
        elif roll < 0.25:
            parts.append("```python\nimport os\nprint(os.getcwd())\n```\n")
    return "\n".join(parts)


def extras(root: Path, projects: int, seed: int) -> int:
    """Writes the Markdown, Makefiles and units beside each project; returns how many files."""
    rng = random.Random(seed)
    count = 0
    for p in range(projects):
        project = root / f"project{p:04d}"
        files = {"README.md": markdown(rng)}
        files.update({f"docs/page{d}.md": markdown(rng) for d in range(rng.randint(2, 4))})
        if rng.random() < 0.3:
            files["Makefile"] = "IMAGE ?= example/app\n\nbuild:\n\tdocker build -t $(IMAGE) .\n\nrun:\n\t@docker run --rm $(IMAGE)\n"
        if rng.random() < 0.1:
            files["deploy/app.service"] = "[Service]\nExecStart=/usr/bin/docker run --rm --name app example/app\n"
        if rng.random() < 0.1:
            files["deploy/app.container"] = "[Container]\nImage=example/app\nDropCapability=all\nUser=1000\n"
        for rel, text in files.items():
            corpus._write(project / rel, text)
            count += 1
    return count


def rate(label: str, argv: list[str], tree: Path, files: int, env: dict[str, str], repeat: int) -> str:
    s = measure.median_run([*argv, "check", "--jobs", "1", str(tree)], env, repeat)
    return f"| {label} | {files} | {files / s.wall:.0f} files/s ({s.wall:.2f} s wall, {s.cpu:.2f} s cpu) |"


def linted(argv: list[str], tree: Path, env: dict[str, str]) -> int:
    out = subprocess.run([*argv, "check", "--jobs", "1", "--format", "json", str(tree)], env=env,
                         capture_output=True, text=True).stdout
    import json

    return int(json.loads(out)["files"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--projects", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--base", default=None, help="the commit to compare with (default: merge base with main)")
    args = ap.parse_args()
    base = args.base or subprocess.run(["git", "merge-base", "HEAD", "main"], capture_output=True, text=True,
                                       check=True, cwd=HERE.parent).stdout.strip()
    plain = HERE / "corpus" / "plain"
    mixed = HERE / "corpus" / "mixed"
    corpus.generate(plain, args.projects)
    corpus.generate(mixed, args.projects)
    extras(mixed, args.projects, 20261201)
    env = measure.bench_env(HERE / "corpus" / ".pycache")
    now = measure.caplint_argv()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(f"git archive {base} caplint | tar -x -C {tmp}", shell=True, check=True, cwd=HERE.parent)
        # An editable install of this checkout comes before PYTHONPATH, so the
        # base is put first on sys.path by hand.
        base_env = dict(env)
        was = [sys.executable, "-c", f"import runpy, sys; sys.path.insert(0, {tmp!r}); "
               "sys.argv[0] = 'caplint'; runpy.run_module('caplint', run_name='__main__')"]
        rows = ["| run | files linted | throughput (`--jobs 1`, median of %d) |" % args.repeat, "| --- | --- | --- |"]
        for label, argv, tree, e in ((f"base {base[:7]}, plain corpus", was, plain, base_env),
                                     (f"base {base[:7]}, mixed tree", was, mixed, base_env),
                                     ("this checkout, plain corpus", now, plain, env),
                                     ("this checkout, mixed tree", now, mixed, env)):
            rows.append(rate(label, argv, tree, linted(argv, tree, e), e, args.repeat))
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
