"""The pre-commit hooks take what a directory scan takes, by the same rules.

`.pre-commit-hooks.yaml` is generated from discovery's name rules; these tests
fail when the file is stale, when a hook pattern and discovery disagree on a
name, and when `--scan-rules` keeps a file the scan would not (or drops one it
would). The real pre-commit runs the hooks in tests/test_precommit.py.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from caplint import discover, precommit
from caplint.registry import all_rules
from caplint.settings import Resolver
from conftest import FIXTURES, ROOT

HOOKS = {h["id"]: h for h in YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}

# Names a repository really has, lintable or look-alike.
NAMES = [
    "Dockerfile", "dockerfile", "DOCKERFILE", "Dockerfile.dev", "Dockerfile-prod", "api.Dockerfile",
    "web.dockerfile", "Containerfile", "Containerfile.arm64", "build.containerfile", "compose.yaml", "compose.yml",
    "compose.prod.yml", "compose-dev.yaml", "docker-compose.yml", "docker-compose.override.yml", "stack.yml",
    "values.yaml", ".gitlab-ci.yml", "run.sh", "run.bash", "run.ksh", "run.zsh", "run-tools", "entrypoint",
    "LICENSE", "Makefile", "pkg/dockerfile.go", "caplint/parsers/dockerfile.py", "docs/Dockerfile.md",
    "containerfile.rs", "Dockerfile.dockerignore", "Dockerfile.yml", "Dockerfile.sh", "dockerfile_test.go",
    "src/compose.ts", "compose.yaml.bak", "legacy.csh", "notes.txt", ".env", "a.b/run-tools", "x/y/z/Dockerfile",
    "Dockerfile.template", "docker-compose.yml.j2", "deploy/k8s/dep.yaml", "README.md", "setup.py",
]


def hook_for(path: str) -> list[str]:
    return [hook_id for hook_id, hook in HOOKS.items() if re.search(hook["files"], path)]


def expected_hook(path: str) -> list[str]:
    rule = discover.name_rule(path)
    if rule is None:
        return []
    return ["caplint-shell" if rule.kind in precommit.SHELL_KINDS else "caplint"]


def test_the_hooks_file_is_generated_from_the_name_rules() -> None:
    committed = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert committed == precommit.hooks_file(), "stale: run `python -m caplint.docs`"


def test_hooks_run_serially_through_the_scan_rules() -> None:
    assert set(HOOKS) == {"caplint", "caplint-shell"}
    for hook in HOOKS.values():
        assert hook["require_serial"] is True
        assert hook["entry"] == "caplint check --scan-rules"
        assert hook["types"] == [] and hook["types_or"] == ["file", "symlink"]


@pytest.mark.parametrize("path", NAMES)
def test_each_name_reaches_the_hook_discovery_says(path: str) -> None:
    assert hook_for(path) == expected_hook(path)


def test_every_fixture_reaches_its_hook() -> None:
    for path in FIXTURES.rglob("*"):
        if path.is_file():
            rel = path.relative_to(ROOT).as_posix()
            assert hook_for(rel) == expected_hook(rel), rel


PART = st.sampled_from(["Dockerfile", "Containerfile", "compose", "docker-compose", "dockerfile", "api", "run",
                        "x", "LICENSE", "ci", ".", "-", "_", "yml", "yaml", "sh", "ksh", "md", "go", "dockerignore",
                        "template", "j2", "Y", "/", "ML"])


@settings(max_examples=400, deadline=None)
@given(st.lists(PART, min_size=1, max_size=7).map("".join))
def test_patterns_and_discovery_agree_on_any_name(path: str) -> None:
    assert hook_for(path) == expected_hook(path)


def test_a_new_rule_reaches_the_hooks() -> None:
    # How a new format joins: its names are a NameRule; the hooks follow.
    rules = (*discover.NAME_RULES[:-1], discover.NameRule("compose", r"\.stacks(/[^/]+)?/stack\.json"),
             discover.NAME_RULES[-1])
    pattern = re.compile(precommit.files_pattern(precommit.HOOKS[0], rules))
    assert pattern.search(".stacks/stack.json") and pattern.search("a/.stacks/py/stack.json")
    assert not pattern.search("stack.json") and not pattern.search("x/.stacks/a/b/stack.json")
    assert pattern.search("compose.yml")


def make_tree(root: Path) -> list[str]:
    files = {
        "Dockerfile": "FROM alpine\n", "services/api.Dockerfile": "FROM alpine\n", "compose.yaml": "services: {}\n",
        "deploy/stack.yml": "services:\n  web:\n    image: nginx\n", "scripts/run.ksh": "docker run alpine\n",
        "scripts/run-tools": "#!/usr/bin/env bash\necho hi\n", "scripts/manage": "#!/usr/bin/env python3\n",
        "LICENSE": "MIT\n", "pkg/dockerfile.go": "package pkg\n", "docs/Dockerfile.md": "# Dockerfile\n",
        "containerfile.rs": "fn main() {}\n", "caplint/parsers/dockerfile.py": "x = 1\n",
        "node_modules/left-pad/Dockerfile": "FROM alpine\n", "venv/bin/activate.sh": "x\n",
        ".tox/py/compose.yml": "services: {}\n", "vendor/lib/Dockerfile": "FROM alpine\n",
        "svc/.caplint.toml": 'exclude = ["legacy"]\n', "svc/legacy/Dockerfile": "FROM alpine\n",
        "svc/Dockerfile": "FROM alpine\n", ".caplint.toml": 'exclude = ["vendor"]\n',
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / ".git").mkdir()
    os.symlink("Dockerfile", root / "Dockerfile.link")
    os.symlink("scripts", root / "linked-scripts")  # a link to a folder: not walked, not a file
    return [*files, "Dockerfile.link", "linked-scripts"]


def test_scan_rules_keep_exactly_what_a_scan_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    named = make_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    resolver = Resolver({r.id for r in all_rules()})
    scanned = {(f.path, f.kind) for f in discover.discover(["."], resolver.excludes)}
    assert scanned == {("Dockerfile", "dockerfile"), ("services/api.Dockerfile", "dockerfile"),
                       ("compose.yaml", "compose"), ("deploy/stack.yml", "yaml"), ("scripts/run.ksh", "shell"),
                       ("scripts/run-tools", "shell"), ("svc/Dockerfile", "dockerfile"),
                       ("Dockerfile.link", "dockerfile"), ("docs/Dockerfile.md", "markdown")}
    assert {(f.path, f.kind) for f in discover.as_scanned(named, resolver.excludes)} == scanned
    # Through the hooks' patterns first, as pre-commit passes them: still the same.
    passed = [p for p in named if hook_for(p)]
    assert {(f.path, f.kind) for f in discover.as_scanned(passed, resolver.excludes)} == scanned


def test_scan_rules_on_the_command_line(tmp_path: Path) -> None:
    named = make_tree(tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM alpine\nUSER root\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "caplint", "check", "--scan-rules", "--select", "CAP0,CAP401",
                          "-f", "text", "--", *named],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert run.returncode == 1, run.stderr
    # No CAP001 on a look-alike; docs/Dockerfile.md is read as Markdown (no fences: silent).
    assert run.stdout.splitlines()[-1] == "2 findings (2 medium) in 9 files."
    assert run.stdout.startswith("Dockerfile:2:")
