from __future__ import annotations

import os
from pathlib import Path

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caplint import values
from caplint.discover import NAME_RULES, NameRule, discover, kind_by_content, kind_by_name, name_rule


@pytest.mark.parametrize(("name", "kind"), [
    ("docker-compose.yml", "compose"), ("docker-compose.override.yml", "compose"),
    ("compose.yaml", "compose"), ("compose.prod.yaml", "compose"), ("Compose.YML", "compose"),
    ("docker-compose-dev.yaml", "compose"), ("stack.yml", "yaml"), (".gitlab-ci.yml", "gitlab"),
    ("ci/build.gitlab-ci.yml", "gitlab"), (".github/workflows/ci.yml", "github"),
    (".github/workflows/docker-compose.yml", "github"), ("repo/.github/workflows/release.yaml", "github"),
    (".github/dependabot.yml", "yaml"), ("workflows/ci.yml", "yaml"), (".github/actions/setup/action.yml", "github"),
    ("action.yaml", "github"), (".devcontainer/devcontainer.json", "devcontainer"), (".devcontainer.json", "devcontainer"),
    ("src/docker-in-docker/devcontainer-feature.json", "devcontainer"), ("package.json", None),
    ("Dockerfile", "dockerfile"), ("Dockerfile.dev", "dockerfile"), ("api.Dockerfile", "dockerfile"),
    ("web.dockerfile", "dockerfile"), ("Containerfile", "dockerfile"), ("Containerfile.arm64", "dockerfile"),
    ("Dockerfile.dockerignore", None), ("Dockerfile.md", "markdown"), ("dockerfile-parse.py", None),
    ("dockerfile-build.sh", "shell"), ("Dockerfile.yml", "yaml"),
    ("deploy.sh", "shell"), ("x.bash", "shell"), ("x.zsh", "shell"), ("x.ksh", "shell"),
    ("README.md", "markdown"), ("docs/x.markdown", "markdown"), ("composer.json", None),
    ("x.bats", "bats"), ("web.service", "systemd"), ("app.container", "quadlet"), ("app.pod", "quadlet"),
    ("app.container.d/10-x.conf", "quadlet-drop-in"), ("container.d/10-x.conf", "quadlet-drop-in"),
    ("web-.container.d/x.conf", "quadlet-drop-in"), ("nginx.service.d/override.conf", None),
    ("docker-bake.hcl", "bake"), ("docker-bake.json", "bake"),
    ("docker-bake.override.hcl", "bake"), ("ci.override.hcl", "bake"), ("main.tf", None), ("bake.hcl", None),
    ("Makefile", "makefile"), ("GNUmakefile", "makefile"), ("makefile", "makefile"), ("rules.mk", "makefile"),
    ("Makefile.am", None), ("Makefile.in", None),
])
def test_kind_by_name(name: str, kind: str | None) -> None:
    assert kind_by_name(name) == kind


@pytest.mark.parametrize(("text", "kind"), [
    ("#!/bin/bash\ndocker run x\n", "shell"), ("#!/usr/bin/env bash\n", "shell"), ("#!/bin/sh\n", "shell"),
    ("#!/usr/bin/env -S bash -e\n", "shell"), ("#!/usr/bin/python3\n", None),
    ("# syntax=docker/dockerfile:1\nFROM alpine\n", "dockerfile"), ("services:\n  a: {}\n", "yaml"),
    ("ARG BASE=alpine:3.20\nFROM $BASE\n", "dockerfile"), ("name: app\nservices:\n  a: {}\n", "yaml"),
    ("hello\n", None), ("", None), ("ARG only\n", None),
])
def test_kind_by_content(text: str, kind: str | None) -> None:
    assert kind_by_content(text) == kind


def _touch(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_walk_finds_ci_and_devcontainer_files(tmp_path: Path) -> None:
    _touch(tmp_path / ".github" / "workflows" / "ci.yml")
    _touch(tmp_path / ".github" / "workflows" / "notes.md")
    _touch(tmp_path / ".devcontainer" / "python" / "devcontainer.json")
    _touch(tmp_path / ".gitlab-ci.yml")
    found = {os.path.relpath(f.path, tmp_path): f.kind for f in discover([str(tmp_path)])}
    assert found == {
        os.path.join(".github", "workflows", "ci.yml"): "github",
        os.path.join(".devcontainer", "python", "devcontainer.json"): "devcontainer",
        ".gitlab-ci.yml": "gitlab",
        ".github/workflows/notes.md": "markdown",  # a Markdown file, wherever it is
    }


def test_walk_finds_kinds_and_skips_noise(tmp_path: Path) -> None:
    _touch(tmp_path / "compose.yaml")
    _touch(tmp_path / "deploy" / "Dockerfile.prod")
    _touch(tmp_path / "bin" / "run", "#!/usr/bin/env bash\n")
    _touch(tmp_path / "bin" / "notes", "plain text\n")
    _touch(tmp_path / "bin" / "tool.py", "#!/bin/bash\n")
    _touch(tmp_path / ".git" / "hooks" / "pre-commit.sh")
    _touch(tmp_path / "node_modules" / "x" / "docker-compose.yml")
    # Vendored dependencies (Go modules, PHP Composer, Ruby bundles): their files are not this project's.
    _touch(tmp_path / "web" / "lib" / "vendor" / "ldap" / "docker-compose.yml")
    _touch(tmp_path / "vendor" / "github.com" / "x" / "Dockerfile")
    _touch(tmp_path / "env" / "pyvenv.cfg")
    _touch(tmp_path / "env" / "bin" / "activate.sh")
    (tmp_path / "Dockerfile").mkdir()  # a directory named Dockerfile is walked, not linted
    _touch(tmp_path / "Dockerfile" / "run.sh")
    os.symlink(tmp_path, tmp_path / "deploy" / "loop")  # a symlink loop is not followed
    os.mkfifo(tmp_path / "docker-compose.yml")  # never opened by a walk
    found = {(os.path.relpath(f.path, tmp_path), f.kind) for f in discover([str(tmp_path)])}
    assert found == {
        ("compose.yaml", "compose"), (os.path.join("deploy", "Dockerfile.prod"), "dockerfile"),
        (os.path.join("bin", "run"), "shell"), (os.path.join("Dockerfile", "run.sh"), "shell"),
    }


def test_walk_is_sorted_and_honours_excludes(tmp_path: Path) -> None:
    for name in ("b/compose.yaml", "a/compose.yaml", "third/x/compose.yaml"):
        _touch(tmp_path / name)
    paths = [os.path.relpath(f.path, tmp_path) for f in discover([str(tmp_path)], exclude=["third/**"])]
    assert paths == [os.path.join("a", "compose.yaml"), os.path.join("b", "compose.yaml")]


def test_explicit_file_is_always_linted(tmp_path: Path) -> None:
    _touch(tmp_path / "notes.txt", "FROM alpine\n")
    (found,) = discover([str(tmp_path / "notes.txt")])
    assert found.kind == "unknown"  # sniffed by content when it is read


@pytest.mark.parametrize(("path", "patterns", "out"), [
    ("vendor/run.sh", ["vendor"], True), ("a/vendor/b/run.sh", ["vendor"], True),
    ("vendor/run.sh", ["vendor/**"], True), ("src/run.sh", ["vendor"], False),
    ("deploy/legacy/x.yml", ["deploy/legacy"], True), ("x/deploy/legacy/y.yml", ["deploy/legacy"], True),
    ("scripts/a.sh", ["*.sh"], True), ("vendored/run.sh", ["vendor"], False), ("./vendor/x", ["vendor/"], True),
])
def test_excluded(path: str, patterns: list[str], out: bool) -> None:
    from caplint.discover import excluded

    assert excluded(path, patterns) is out


def test_a_scan_skips_templates_and_an_explicit_template_is_linted(tmp_path: Path) -> None:
    # docker-library/postgres: Dockerfile-alpine.template is full of `{{ }}`, not a Dockerfile yet.
    for name in ("Dockerfile-alpine.template", "Dockerfile.tmpl", "compose.yaml.j2", "docker-compose.yml.jinja",
                 "deploy.sh.in", "Dockerfile.IN"):
        _touch(tmp_path / name, "#!/bin/sh\n")
    _touch(tmp_path / "Dockerfile")
    assert [os.path.basename(f.path) for f in discover([str(tmp_path)])] == ["Dockerfile"]
    (found,) = discover([str(tmp_path / "Dockerfile-alpine.template")])
    assert found.kind == "dockerfile"
    (found,) = discover([str(tmp_path / "deploy.sh.in")])
    assert found.kind == "shell"


# Each name rule's hints are a promise: every path the rule takes holds one of
# them, so skipping the pattern when none is there changes nothing. Paths drawn
# from the rule's own regular expression (ASCII: beyond it the rule does not use
# its hints) prove it for every rule.
_HINTED = [rule for rule in NAME_RULES if rule.hints]


@pytest.mark.parametrize("rule", _HINTED, ids=[r.pattern for r in _HINTED])
def test_every_path_a_rule_takes_holds_one_of_its_hints(rule: NameRule) -> None:
    whole = re.compile(rf"(?:.*/)?(?:{rule.pattern})", re.IGNORECASE | re.DOTALL)

    @settings(max_examples=300, deadline=None)
    @given(st.from_regex(whole, fullmatch=True, alphabet=st.characters(codec="ascii")))
    def holds_a_hint(path: str) -> None:
        assert any(h in path.lower() for h in rule.hints), path

    holds_a_hint()


def test_hints_only_skip_what_cannot_fire() -> None:
    names = ["docker-compose.yml", "COMPOSE.YAML", "x/.github/workflows/ci.yml", "Dockerfile.dev", "app.CONTAINER",
             "web.container.d/10-caps.conf", "docker-bake.hcl", "dev.override.hcl", "GNUmakefile", "rules.mk",
             "README.markdown", "deploy.ZSH", "action.yaml", ".gitlab-ci.yml", ".devcontainer.json", "notes.txt",
             "docker-compoſe.yml", "Containerfile", "app.service", "t.bats", "script"]
    for name in names:
        unhinted = next((r for r in NAME_RULES if values.replace(r, hints=()).fires(name)), None)
        assert name_rule(name) == unhinted, name
