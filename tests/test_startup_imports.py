"""What a run imports: only what its command needs (issue: on-save speed).

Not a timed test: it fails when a heavy module is loaded by a run that does not
need it, which is how start-up regressions usually arrive (one eager import).
The figures themselves are measured by `python bench/startup.py`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

COMPOSE = "services:\n  web:\n    image: nginx\n    privileged: true\n"
DOCKERFILE = "FROM debian:12\nRUN setcap cap_net_admin+ep /usr/bin/ping\n"

# Modules no lint run needs unless its format or command asks for them.
ALWAYS_HEAVY = {"pygls", "lsprotocol", "caplint.lsp", "sarif_om", "jsonschema", "rich", "pydantic",
                "importlib.metadata",  # only on a registry-cache miss
                "multiprocessing", "concurrent.futures",  # only when a process pool starts
                "_hashlib", "email", "zipfile",
                "caplint.fixing"}  # only for --fix, --diff, SARIF and the editor

_PROBE = """
import atexit, sys
def report():
    loaded = sorted(sys.modules)  # before this probe imports json itself
    import json
    print(json.dumps(loaded), file=sys.stderr)
atexit.register(report)
sys.argv = ["caplint", *sys.argv[1:]]
from caplint.cli import main
main()
"""


def _modules(tmp_path: Path, *args: str) -> set[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("CAPLINT_NO_CACHE", None)
    for _ in range(2):  # the first run fills the rule-registry cache; the second is what users see
        run = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True,
                             cwd=tmp_path, env=env, timeout=120)
    assert run.returncode in (0, 1), run.stderr
    modules: set[str] = set(json.loads(run.stderr.strip().splitlines()[-1]))
    return modules


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    return tmp_path


def _top(modules: set[str]) -> set[str]:
    return modules | {m.split(".")[0] for m in modules}


# Rule modules are imported when one of their rules has a subject to check
# (the registry's cache knows each rule's subjects): containers or images.
CONTAINER_RULES = {f"caplint.rules.{m}" for m in ("capabilities", "confinement", "devices", "mounts", "namespaces", "needs")}
IMAGE_RULES = {"caplint.rules.image", "caplint.baseimages"}
COMMANDS = {"caplint.commands", "caplint.image"}  # caps, image, rules, explain, lsp


def test_a_compose_text_run(project: Path) -> None:
    loaded = _top(_modules(project, "check", "compose.yaml"))
    assert "ruamel.yaml" in loaded and CONTAINER_RULES <= loaded
    assert loaded & (ALWAYS_HEAVY | IMAGE_RULES | COMMANDS | {"tree_sitter", "tree_sitter_bash", "dockerfile_parse",
                                                              "json", "caplint.formats.embedded", "caplint.filecaps"}) == set()


def test_a_file_without_suppressions_does_not_load_their_module(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "other.yaml").write_text(COMPOSE.replace("privileged: true", "privileged: true  # caplint: ignore[CAP101]"))
    assert "caplint.suppressions" not in _modules(tmp_path, "check", "compose.yaml")
    assert "caplint.suppressions" in _modules(tmp_path, "check", "other.yaml")


def test_a_dockerfile_text_run(project: Path) -> None:
    loaded = _top(_modules(project, "check", "Dockerfile"))
    assert {"dockerfile_parse", "tree_sitter", "caplint.rules.image"} <= loaded
    assert loaded & (ALWAYS_HEAVY | CONTAINER_RULES | COMMANDS | {"ruamel", "caplint.formats.dockercli", "caplint.effective",
                                                                   "caplint.formats.compose", "dataclasses"}) == set()


@pytest.mark.parametrize("fmt", ["json", "gnu", "github"])
def test_other_editor_and_ci_formats_do_not_load_sarif(project: Path, fmt: str) -> None:
    loaded = _top(_modules(project, "check", "--format", fmt, "compose.yaml"))
    assert loaded & ALWAYS_HEAVY == set()


def test_sarif_loads_its_object_model_and_nothing_of_the_server(project: Path) -> None:
    loaded = _top(_modules(project, "check", "--format", "sarif", "compose.yaml"))
    assert "sarif_om" in loaded
    assert loaded & {"pygls", "lsprotocol", "caplint.lsp", "importlib.metadata"} == set()


def test_a_one_command_run_builds_the_same_command() -> None:
    """`caplint check …` builds only `check` (typer would build every command's
    parameters): the command it builds has the same options, help and
    settings as the whole app's, and anything else gets the whole app."""
    import typer.main

    from caplint import cli

    whole = typer.main.get_group(cli.app)
    assert set(whole.commands) == {"check", "rules", "explain", "caps", "image", "lsp"}
    for name, full in whole.commands.items():
        group = typer.main.get_group(cli.app_for([name, "x"]))
        assert list(group.commands) == [name]
        one = group.commands[name]
        assert [(p.name, p.opts, p.secondary_opts, p.help if hasattr(p, "help") else None) for p in one.params] == \
            [(p.name, p.opts, p.secondary_opts, p.help if hasattr(p, "help") else None) for p in full.params]
        assert (one.help, one.context_settings) == (full.help, full.context_settings)
        assert [p.opts for p in group.params] == [p.opts for p in whole.params]  # --version
    for argv in ([], ["--help"], ["chekc"], ["--version"]):
        assert cli.app_for(argv) is cli.app


def test_start_up_objects_are_left_out_of_later_collections(tmp_path: Path) -> None:
    # `main` freezes what start-up loaded (gc.freeze): the collector, and its
    # full collection at exit, then traverse only what the run allocates.
    probe = ("import gc, sys\nsys.argv = ['caplint', 'check', 'compose.yaml']\nfrom caplint.cli import main\n"
             "before = gc.get_freeze_count()\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(before, gc.get_freeze_count(), gc.isenabled(), gc.get_threshold()[0])")
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    before, frozen, enabled, threshold = run.stdout.splitlines()[-1].split()
    assert before == "0" and int(frozen) > 10_000 and enabled == "True"  # and collecting what the run allocates
    assert int(threshold) == 50_000
