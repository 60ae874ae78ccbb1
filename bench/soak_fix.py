"""Soak test of `caplint check --fix --unsafe-fixes` on a few hundred real-world-shaped files.

    python bench/soak_fix.py [--projects 120] [--corpus 40] [--seed 20261202] [--keep DIR]

Writes a generated tree — projects of this script's own (a Compose service
built here whose entrypoint runs gosu/chown/setpriv, in every list style, with
comments, quotes, CRLF, no final newline, anchors, merge keys and `${VAR}`s;
deploy scripts with `\\` continuations; systemd units, Quadlet units,
Makefiles, Markdown, bats and CI files) plus part of the benchmark corpus
(`bench/corpus.py`, mixed formats) — then runs the real CLI twice on it and
checks what must hold:

- every fixed file still parses: YAML with ruamel (as Compose reads it), shell
  with `bash -n`, and caplint reports no new CAP001;
- no finding appears that the file did not have (a corrected name that is
  redundant is the one allowed lesser finding);
- the second run applies nothing and changes no byte (idempotence).

It prints the figures (files, fixes applied per rule, refusals and dropped
edits by reason) and exits 1 when any check fails.
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402  (bench/corpus.py, beside this file)

USERS_SWITCH = ('exec gosu app "$@"', 'exec su-exec app "$@"', 'exec setpriv --reuid=app --regid=app --init-groups "$@"')
CAPS = ("NET_ADMIN", "SYS_TIME", "CHOWN", "NET_BIND_SERVICE", "NET_BIND_SERVCE", "SETUID", "CAP_CHOWN", "NET_RAW")
IMAGES = ("nginx:1.27", "redis:7.2", "postgres:16", "traefik:v3.1", "alpine:3.20")


def entrypoint(rng: random.Random) -> str:
    lines = ["#!/bin/sh", "set -e"]
    if rng.random() < 0.8:
        lines.append(f"chown -R app:app {rng.choice(('/data', '/var/lib/app', '/srv'))}")
    lines.append(rng.choice(USERS_SWITCH))
    return "\n".join(lines) + "\n"


DOCKERFILE = ("FROM debian:bookworm-slim\nRUN useradd --system app\n"
              "COPY entrypoint.sh /usr/local/bin/entrypoint.sh\n"
              'ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]\nCMD ["app"]\n')


def _list(rng: random.Random, key: str, items: list[str], indent: str, flow: bool) -> list[str]:
    quote = rng.choice(("", '"', "'"))
    if any(":" in i for i in items) and flow and not quote:
        quote = '"'
    spelled = [f"{quote}{i}{quote}" for i in items]
    if flow:
        return [f"{indent}{key}: [{', '.join(spelled)}]"]
    dash = indent + rng.choice(("  ", "", "    "))
    return [f"{indent}{key}:", *(f"{dash}- {s}" + (rng.choice(("", "   # why")) ) for s in spelled)]


def compose(rng: random.Random) -> str:
    flow = rng.random() < 0.5
    indent = rng.choice(("  ", "    "))
    inner = indent * 2
    out = ["# A stack to soak the fixer.", ""]
    anchored = rng.random() < 0.3
    if anchored:
        out += ["x-common: &common", f"{indent}restart: unless-stopped", ""]
    out.append("services:")
    for n in range(rng.randint(1, 6)):
        name = f"svc{n}"
        built = rng.random() < 0.6
        out.append(f"{indent}{name}:" + (" &anchor" + str(n) if rng.random() < 0.05 else ""))
        if anchored and rng.random() < 0.4:
            out.append(f"{inner}<<: *common")
        out.append(f"{inner}build: ./{name}" if built else f"{inner}image: {rng.choice(IMAGES)}")
        if rng.random() < 0.6:
            out += _list(rng, "ports", [f"{rng.randint(1024, 9000)}:80"], inner, flow)
        if rng.random() < 0.5:
            out += _list(rng, "cap_add", rng.sample(CAPS, rng.randint(1, 3)), inner, flow)
        if rng.random() < 0.3:
            out += _list(rng, "cap_drop", [rng.choice(("ALL", "NET_RAW", "MKNOD"))], inner, flow)
        if rng.random() < 0.3:
            out += _list(rng, "security_opt", [rng.choice(("label=type:x_t", "no-new-privileges:false",
                                                           "apparmor=docker-default"))], inner, flow)
        if rng.random() < 0.1:
            out += _list(rng, "devices", ["${DEVICE:-/dev/fuse}"], inner, flow)
        if rng.random() < 0.3:
            out += [f"{inner}command: >", f"{inner}{indent}sh -c 'sleep 1 && exec app'"]
        if rng.random() < 0.3:
            out += [f"{inner}environment:", f"{inner}{indent}LEVEL: info   # comment"]
        if rng.random() < 0.2:
            out.append(f"{inner}# trailing comment of {name}")
        out.append("")
    text = "\n".join(out).rstrip("\n") + ("\n" if rng.random() < 0.8 else "")
    return text.replace("\n", "\r\n") if rng.random() < 0.15 else text


def script(rng: random.Random) -> str:
    out = ["#!/usr/bin/env bash", "set -euo pipefail", ""]
    for i in range(rng.randint(1, 4)):
        flags = rng.sample(["--rm", "-d", f"--name w{i}", "-p 8080:80", "--cap-add=CHOWN", "--cap-add NET_RAW",
                            "--cap-add=NET_BIND_SERVICE", "--cap-drop=MKNOD", "--read-only", '-e "A=b c"',
                            "--security-opt=no-new-privileges", "--cap-add=NET_ADMIN,SYS_TIME"], rng.randint(1, 5))
        program = rng.choice(("docker", "podman", "sudo docker", "docker container"))
        verb = "run" if program != "docker container" else rng.choice(("run", "create"))
        if rng.random() < 0.5:
            out.append(f"{program} {verb} " + " \\\n  ".join(flags) + f" \\\n  {rng.choice(IMAGES)} true")
        else:
            out.append(f"{program} {verb} {' '.join(flags)} {rng.choice(IMAGES)} true")
    return "\n".join(out) + "\n"


OTHERS = {
    "app.service": "[Service]\nExecStart=/usr/bin/docker run --rm --name app \\\n    --cap-add=CHOWN \\\n    nginx:1.27\n",
    "app.container": "[Container]\nImage=docker.io/library/nginx:1.27\nAddCapability=CHOWN NET_ADMIN\n\n"
                     "[Install]\nWantedBy=default.target\n",
    "Makefile": "run:\n\t@docker run --rm --cap-add=CHOWN -p 80:80 nginx:1.27\n\ttest -f x\n",
    "README.md": "# Run\n\n```console\n$ docker run --rm \\\n    -p 80:80 nginx:1.27\n```\n",
    "test.bats": '@test "runs" {\n  run docker run --rm alpine:3.20 true\n}\n',
    ".gitlab-ci.yml": "t:\n  image: docker:27\n  script:\n    - docker run --rm --cap-add NET_RAW alpine:3.20 true\n",
    ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
                                "      - run: |\n          docker run --rm \\\n            alpine:3.20 true\n",
}


def generate(root: Path, projects: int, corpus_projects: int, seed: int) -> None:
    rng = random.Random(seed)
    for p in range(projects):
        folder = root / "own" / f"p{p:03d}"
        text = compose(rng)
        _write(folder / "compose.yaml", text)
        for name in re.findall(r"build: \./(\w+)", text):
            _write(folder / name / "Dockerfile", DOCKERFILE)
            _write(folder / name / "entrypoint.sh", entrypoint(rng))
        _write(folder / "deploy.sh", script(rng))
        if p % 4 == 0:
            for name, other in OTHERS.items():
                _write(folder / name, other)
    corpus.generate(root / "corpus", projects=corpus_projects, seed=seed, mixed=True)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())


def caplint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "caplint", *args], capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=3600)


def findings(root: Path) -> dict[str, collections.Counter[tuple[str, str]]]:
    import json

    run = caplint("check", "--format", "json", "--exit-zero", str(root))
    out: dict[str, collections.Counter[tuple[str, str]]] = collections.defaultdict(collections.Counter)
    for f in json.loads(run.stdout)["findings"]:
        out[f["path"]][(f["rule"], f["message"])] += 1
    return out


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def parses(path: Path) -> str:
    """'' or why the fixed file does not parse as its own tool reads it."""
    if path.suffix in (".yaml", ".yml"):
        from ruamel.yaml import YAML

        try:
            YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        except Exception as err:  # noqa: BLE001
            return str(err).splitlines()[0]
    elif path.suffix in (".sh", ".bats") and shutil.which("bash") and path.suffix == ".sh":
        run = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        if run.returncode:
            return run.stderr.strip()
    return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=120)
    parser.add_argument("--corpus", type=int, default=40, help="projects of bench/corpus.py's mixed tree")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--keep", type=Path, help="generate here and keep it (default: a temporary folder)")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="caplint-soak-"))
    if root.exists():
        shutil.rmtree(root)
    generate(root, args.projects, args.corpus, args.seed)
    files = snapshot(root)
    parsed_before = {p: parses(Path(p)) for p in files}
    before = findings(root)

    first = caplint("check", "--fix", "--unsafe-fixes", "--exit-zero", str(root))
    fixed_files = snapshot(root)
    after = findings(root)
    second = caplint("check", "--fix", "--unsafe-fixes", "--exit-zero", str(root))
    again = snapshot(root)

    changed = [p for p in files if files[p] != fixed_files[p]]
    # A file its own tool refused before (libyaml refuses `[8080:80]`, which
    # Compose's YAML 1.2 reader takes) is not one the fixer broke.
    broken = {p: why for p in changed if not parsed_before[p] and (why := parses(Path(p)))}
    refused_before = sum(1 for why in parsed_before.values() if why)
    new: list[str] = []
    for path, counts in after.items():
        for (rule, message), n in counts.items():
            if n > before.get(path, collections.Counter())[(rule, message)] and rule not in ("CAP206", "CAP208"):
                new.append(f"{path}: {rule} {message}")
    parse_findings = [f"{p}: {m}" for p, c in after.items() for (r, m), n in c.items()
                      if r == "CAP001" and n > before.get(p, collections.Counter())[(r, m)]]
    unstable = [p for p in fixed_files if fixed_files[p] != again[p]]
    notes = [line for line in first.stderr.splitlines() if " not fixed: " in line or ": it " in line]
    reasons = collections.Counter(re.sub(r"(service|line|at) '?[\w./:-]+'?", r"\1 …", n.split(" not fixed: ", 1)[-1])
                                  for n in notes)
    applied = collections.Counter()
    for path, counts in before.items():
        gone = counts - after.get(path, collections.Counter())
        for (rule, _), n in gone.items():
            applied[rule] += n
    kinds = collections.Counter(Path(p).suffix or Path(p).name for p in files)

    print(f"tree: {root}  ({len(files)} files: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common()) + ")")
    print(f"findings before: {sum(sum(c.values()) for c in before.values())}, after: "
          f"{sum(sum(c.values()) for c in after.values())}")
    print(f"first run:  {first.stderr.strip().splitlines()[-1]}  ({len(changed)} files changed)")
    print(f"second run: {second.stderr.strip().splitlines()[-1]}")
    print("findings resolved, by rule: " + ", ".join(f"{r} {n}" for r, n in sorted(applied.items())))
    print(f"refused or dropped: {len(notes)}")
    for why, n in reasons.most_common(12):
        print(f"  {n:5d}  {why}")
    print(f"parse errors after fixing: {len(broken)} (own tools: ruamel/libyaml, bash -n; {refused_before} files "
          f"they refused before fixing are not counted), {len(parse_findings)} (new CAP001)")
    print(f"new findings: {len(new)}")
    print(f"non-idempotent files (changed by the second run): {len(unstable)}")
    for line in [*list(broken.items())[:5], *parse_findings[:5], *new[:10], *unstable[:5]]:
        print("   ", line)
    return 1 if broken or parse_findings or new or unstable else 0


if __name__ == "__main__":
    sys.exit(main())
