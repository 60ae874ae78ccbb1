"""The hooks in .pre-commit-hooks.yaml, driven by the real pre-commit.

`pre-commit try-repo` installs this repository into a hook environment exactly
as a user's `repo:` entry would (a virtualenv and `pip install .`, so PyPI or a
configured index must be reachable the first time; later runs reuse it). It is
pointed at the committed HEAD with `--ref`: without it, try-repo copies tracked
files' uncommitted edits but not untracked files, a half-view of a working tree.
In CI (a fresh clone) HEAD is the working tree.
"""
from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

# Every file name variant the hooks must pick up, with insecure and clean content.
INSECURE = {
    "Dockerfile": "FROM node:20-bookworm\nWORKDIR /app\nCOPY . .\nUSER root\nCMD [\"node\", \"server.js\"]\n",
    "Dockerfile.dev": "FROM python:3.12-slim\nRUN --security=insecure pip install -e .\nUSER app\n",
    "services/api.Dockerfile": "FROM debian:12-slim\nRUN apt-get install -y iputils-ping && chmod u+s /bin/ping\nUSER nobody\n",
    "services/web.dockerfile": "FROM nginx:1.27\nUSER 0\n",
    "build/Containerfile.arm64": "FROM --platform=linux/arm64 alpine:3.20\nUSER root:root\n",
    "compose.yaml": "services:\n  dind:\n    image: docker:27-dind\n    privileged: true\n",
    "docker-compose.override.yml": "services:\n  web:\n    network_mode: host\n",
    "deploy/compose.prod.yml": ("services:\n  agent:\n    image: portainer/agent:2.21\n    volumes:\n"
                                "      - /var/run/docker.sock:/var/run/docker.sock\n"),
    "scripts/dind.sh": "#!/bin/sh\nset -e\ndocker run -d --privileged docker:27-dind\n",
    "scripts/run-tools": "#!/usr/bin/env bash\nexec docker run --rm -it --pid=host nicolaka/netshoot\n",
    ".devcontainer/devcontainer.json": '{\n  // dev\n  "image": "x",\n  "privileged": true,\n}\n',
    ".devcontainer/rust/devcontainer.json": '{"image": "x", "runArgs": ["--cap-add=SYS_PTRACE"]}\n',
    ".github/workflows/ci.yml": "jobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: docker run --privileged x\n",
    ".github/actions/lab/action.yml": ("runs:\n  using: composite\n  steps:\n    - shell: bash\n"
                                       "      run: docker run --network host x\n"),
    ".gitlab-ci.yml": "test:\n  script:\n    - docker run -v /:/host alpine true\n",
    "scripts/legacy-deploy.ksh": "#!/bin/ksh\ndocker run -d --net=host registry.local/agent:3\n",
    # Compose by content, not by name: a directory scan lints it, so the hook does too.
    "deploy/stack.yml": "services:\n  web:\n    image: nginx:1.27\n    privileged: true\n",
    "deploy/proxy.service": "[Service]\nExecStart=/usr/bin/docker run --rm -v /var/run/docker.sock:/var/run/docker.sock traefik\n",
    "quadlet/app.container": "[Container]\nImage=docker.io/library/nginx\nPodmanArgs=--privileged\n",
    "quadlet/app.pod": "[Pod]\nNetwork=host\n",
    "docker-bake.hcl": 'target "app" {\n  entitlements = ["security.insecure"]\n}\n',
    "Makefile": "run:\n\t@docker run --rm --cap-add=SYS_ADMIN app\n",
    "mk/ci.mk": "ci:\n\tdocker run --rm --network=host app\n",
    "README.md": "# App\n\n```bash\ndocker run --privileged app\n```\n",
    "test/net.bats": '@test "net" {\n  run docker run --rm --cap-add=NET_ADMIN app\n}\n',
}
_HARDENED = "--cap-drop=ALL --security-opt=no-new-privileges --user 1000"
CLEAN = {
    "Dockerfile": "FROM node:20-bookworm\nWORKDIR /app\nCOPY . .\nUSER node\nCMD [\"node\", \"server.js\"]\n",
    "Dockerfile.dev": "FROM python:3.12-slim\nRUN pip install -e .\nUSER app\n",
    "services/api.Dockerfile": "FROM debian:12-slim\nRUN apt-get install -y iputils-ping\nUSER nobody\n",
    "services/web.dockerfile": "FROM nginx:1.27\nUSER 101\n",
    "build/Containerfile.arm64": "FROM --platform=linux/arm64 alpine:3.20\nUSER 1000:1000\n",
    "compose.yaml": ("services:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n    cap_add: [CHOWN]\n"
                     "    security_opt: [no-new-privileges:true]\n"),
    # Not security_opt again: Compose appends the override's list to the base's
    # and refuses the equal items (checked against Compose v2, issue 15).
    "docker-compose.override.yml": "services:\n  web:\n    ports: [\"8080:80\"]\n    cap_drop: [ALL]\n",
    "deploy/compose.prod.yml": ("services:\n  agent:\n    image: portainer/agent:2.21\n    read_only: true\n"
                                "    cap_drop: [ALL]\n    security_opt: [no-new-privileges:true]\n"),
    "scripts/dind.sh": "#!/bin/sh\nset -e\ndocker run -d --cap-drop ALL --security-opt no-new-privileges alpine:3.20 true\n",
    "scripts/run-tools": ("#!/usr/bin/env bash\nexec docker run --rm -it --cap-drop ALL --security-opt no-new-privileges "
                          "nicolaka/netshoot\n"),
    ".devcontainer/devcontainer.json": ('{\n  // dev\n  "image": "x",\n  "runArgs": ["--cap-drop=ALL",'
                                        ' "--security-opt=no-new-privileges"],\n}\n'),
    ".devcontainer/rust/devcontainer.json": ('{"image": "x", "runArgs": ["--cap-drop=ALL",'
                                             ' "--security-opt=no-new-privileges"]}\n'),
    ".github/workflows/ci.yml": "jobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n",
    ".github/actions/lab/action.yml": "runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: make lab\n",
    ".gitlab-ci.yml": "test:\n  script:\n    - make test\n",
    "scripts/legacy-deploy.ksh": ("#!/bin/ksh\ndocker run -d --cap-drop ALL --security-opt no-new-privileges "
                                  "registry.local/agent:3\n"),
    "deploy/stack.yml": ("services:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n"
                         "    security_opt: [no-new-privileges:true]\n"),
    "deploy/proxy.service": f"[Service]\nExecStart=/usr/bin/docker run --rm {_HARDENED} traefik\n",
    "quadlet/app.container": ("[Container]\nImage=docker.io/library/nginx\nDropCapability=all\nNoNewPrivileges=true\n"
                              "User=1000\n"),
    "quadlet/app.pod": "[Pod]\nPublishPort=8080:80\n",
    "docker-bake.hcl": 'target "app" {\n  context = "."\n}\n',
    "Makefile": f"run:\n\t@docker run --rm {_HARDENED} app\n",
    "mk/ci.mk": f"ci:\n\tdocker run --rm {_HARDENED} app\n",
    "README.md": f"# App\n\n```bash\ndocker run {_HARDENED} app\n```\n",
    "test/net.bats": f'@test "net" {{\n  run docker run --rm {_HARDENED} app\n}}\n',
}
# Files caplint must never lint: source files named like Dockerfiles, notes, other
# languages' scripts, a vendored folder a scan skips — each would be a CAP001
# ("cannot tell what kind of file this is") or a Markdown file read as a Dockerfile.
BYSTANDERS = {
    "pkg/dockerfile.go": "package pkg\n\n// Parse reads a Dockerfile.\nfunc Parse() {}\n",
    "caplint/parsers/dockerfile.py": '"""Parse Dockerfiles."""\nFROM = "FROM"\n',
    "docs/Dockerfile.md": "# The Dockerfile\n\nFROM alpine, then `USER root`.\n",
    "containerfile.rs": "fn main() { println!(\"FROM scratch\"); }\n",
    "src/compose.ts": "export const compose = () => 'privileged: true';\n",
    "Dockerfile.dockerignore": "node_modules\n.git\n",
    "docs/setup.rst": "Run ``docker run --privileged docker:dind``.\n",
    # A drop-in is read with its unit, not handed on its own.
    "quadlet/app.container.d/10-debug.conf": "[Container]\nLabel=debug=1\n",
    "scripts/legacy.csh": "#!/bin/csh\nsetenv FOO bar\n",
    "package.json": '{"privileged": true, "runArgs": ["--privileged"]}\n',
    ".github/dependabot.yml": "version: 2\nupdates:\n  - package-ecosystem: docker\n    directory: /\n",
    "tools/manage": "#!/usr/bin/env python3\nprint('docker run --privileged x')\n",
    "LICENSE": "MIT License\n",
    "node_modules/left-pad/Dockerfile": "FROM node:20\nUSER root\n",
    "vendor/github.com/acme/tool/Dockerfile": "FROM golang:1.23\nUSER root\n",
    "charts/values.yaml": "replicaCount: 2\nimage:\n  repository: nginx\n",  # YAML, but not Compose: silent
}
EXECUTABLE = ("scripts/run-tools", "scripts/legacy.csh", "scripts/legacy-deploy.ksh", "tools/manage")


def make_repo(path: Path, files: dict[str, str]) -> Path:
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    for name, text in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        if name in EXECUTABLE:
            target.chmod(target.stat().st_mode | stat.S_IXUSR)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    return path


def try_repo(repo: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """The hooks at this checkout's HEAD on `repo`: on every file, or on `files` (what a commit changed)."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR", "FORCE_COLOR")}
    which = ["--files", *files] if files else ["--all-files"]
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "--ref", head.stdout.strip(),
         *which, "--verbose", "--color", "never"],
        cwd=repo, capture_output=True, text=True, env=env, timeout=900,
    )


@pytest.fixture(scope="module")
def insecure_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("insecure"), {**INSECURE, **BYSTANDERS})


@pytest.fixture(scope="module")
def insecure_run(insecure_repo: Path) -> subprocess.CompletedProcess[str]:
    return try_repo(insecure_repo)


def test_hooks_fail_on_insecure_files(insecure_run: subprocess.CompletedProcess[str]) -> None:
    out = insecure_run.stdout
    assert insecure_run.returncode == 1, out + insecure_run.stderr
    assert re.search(r"^caplint \(Dockerfiles, Compose files[^)]*\)\.+Failed$", out, re.M), out
    assert re.search(r"^caplint \(shell scripts\)\.+Failed$", out, re.M), out


@pytest.mark.parametrize("name", sorted(INSECURE))
def test_every_file_name_variant_is_linted(insecure_run: subprocess.CompletedProcess[str], name: str) -> None:
    assert re.search(rf"^{re.escape(name)}:\d+:\d+: ", insecure_run.stdout, re.M), insecure_run.stdout


@pytest.mark.parametrize("name", sorted(BYSTANDERS))
def test_other_files_are_not_handed_to_caplint(insecure_run: subprocess.CompletedProcess[str], name: str) -> None:
    assert name not in insecure_run.stdout


def linted(run: subprocess.CompletedProcess[str]) -> int:
    """Files caplint linted, over every summary (one per hook with require_serial)."""
    return sum(int(n) for n in re.findall(r" in (\d+) files?\.$", run.stdout, re.M))


def test_exactly_the_lintable_files_reach_caplint(insecure_repo: Path,
                                                  insecure_run: subprocess.CompletedProcess[str]) -> None:
    assert "CAP001" not in insecure_run.stdout
    scan = subprocess.run([sys.executable, "-m", "caplint", "check", "-f", "text", "."], cwd=insecure_repo,
                          capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=120)
    # The INSECURE files, and three bystanders read and silent: charts/values.yaml and
    # .github/dependabot.yml (YAML, not Compose) and docs/Dockerfile.md (Markdown without a runnable fence).
    assert linted(scan) == linted(insecure_run) == len(INSECURE) + 3, insecure_run.stdout
    assert len(re.findall(r"^caplint \(", insecure_run.stdout, re.M)) == 2  # one run, one summary, per hook


def test_hooks_pass_on_clean_files(tmp_path: Path) -> None:
    run = try_repo(make_repo(tmp_path, {**CLEAN, **BYSTANDERS}))
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"^caplint \(Dockerfiles, Compose files[^)]*\)\.+Passed$", run.stdout, re.M)
    assert re.search(r"^caplint \(shell scripts\)\.+Passed$", run.stdout, re.M)
    assert linted(run) == len(CLEAN) + 3, run.stdout  # + the three bystanders read and silent (see above)


def test_a_commit_that_changes_only_a_drop_in_is_linted(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {
        "quadlet/app.container": "[Container]\nImage=x\nDropCapability=all\nNoNewPrivileges=true\nNetwork=host\n",
        "quadlet/app.container.d/20-debug.conf": "[Container]\nPodmanArgs=--privileged\n",
    })
    run = try_repo(repo, "quadlet/app.container.d/20-debug.conf")
    assert run.returncode == 1, run.stdout + run.stderr
    assert re.search(r"^quadlet/app\.container\.d/20-debug\.conf:2:12: .*CAP101", run.stdout, re.M), run.stdout
    assert "quadlet/app.container:" not in run.stdout  # the unit's own CAP306: not what this commit changed
    assert linted(run) == 1, run.stdout
