"""Configuration per file: each file's nearest config, never past the repository
root, the same whatever the order of the paths, in workers and in the editor."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from caplint import config, discover, engine, parallel
from caplint.lsp import settings_for
from caplint.model import Severity
from caplint.registry import all_rules
from caplint.settings import Overrides, Resolver
from conftest import ROOT, run_caplint

KNOWN = frozenset(r.id for r in all_rules())
EXAMPLE = (ROOT / "examples" / "docker-compose.yml").read_text(encoding="utf-8")
PRIVILEGED = "services:\n  dind:\n    image: docker:27-dind\n    privileged: true\n"
HOST_NET = ("services:\n  avahi:\n    image: ydkn/avahi\n    network_mode: host\n"
            "    cap_drop: [ALL]\n    security_opt: [no-new-privileges:true]\n")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def gnu(*args: str, cwd: Path) -> tuple[int, list[str]]:
    run = run_caplint("check", "-f", "gnu", *args, cwd=cwd)
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, run.stdout.splitlines()


def nested(tmp_path: Path) -> Path:
    """The issue's reproduction: the same file twice, the inner one under a config
    that turns every rule family off."""
    root = tmp_path / "m"
    write(root / "docker-compose.yml", EXAMPLE)
    write(root / "svc" / "docker-compose.yml", EXAMPLE)
    write(root / "svc" / ".caplint.toml", 'ignore = ["CAP1", "CAP2", "CAP3", "CAP4"]\n')
    return root


def test_each_file_uses_its_nearest_config_whatever_the_order(tmp_path: Path) -> None:
    root = nested(tmp_path)
    inner_first = gnu("m/svc/docker-compose.yml", "m/docker-compose.yml", cwd=tmp_path)
    outer_first = gnu("m/docker-compose.yml", "m/svc/docker-compose.yml", cwd=tmp_path)
    assert inner_first == outer_first
    code, lines = outer_first
    assert code == 1 and lines and all(line.startswith("m/docker-compose.yml:") for line in lines)
    assert gnu("m", cwd=tmp_path) == outer_first  # a directory scan agrees
    # pre-commit names files in batches: the inner file alone is still quiet.
    assert gnu("svc/docker-compose.yml", cwd=root) == (0, [])


def test_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.caplint]\nthis is [ not toml\n")  # someone's broken file above
    write(tmp_path / ".caplint.toml", 'ignore = ["CAP1"]\n')
    repo = tmp_path / "repo"
    write(repo / "deploy" / "compose.yml", PRIVILEGED)
    (repo / ".git").mkdir()
    assert gnu(".", cwd=repo)[0] == 1  # not 2, and the .caplint.toml above does not apply either
    assert config.find(str(repo / "deploy" / "compose.yml")) is None
    # A worktree or submodule has a .git file, not a folder: the same root.
    (repo / ".git").rmdir()
    write(repo / ".git", "gitdir: /elsewhere/.git/worktrees/repo\n")
    code, lines = gnu("deploy/compose.yml", cwd=repo)
    assert code == 1 and any("[CAP101]" in line for line in lines)
    # The repository's own config is found from anywhere below it.
    write(repo / ".caplint.toml", 'ignore = ["CAP101"]\n')
    assert not any("[CAP101]" in line for line in gnu("deploy/compose.yml", cwd=repo)[1])


def test_without_a_repository_the_search_goes_up(tmp_path: Path) -> None:
    write(tmp_path / ".caplint.toml", 'ignore = ["CAP101"]\n')
    write(tmp_path / "a" / "b" / "compose.yml", PRIVILEGED)
    assert config.find(str(tmp_path / "a" / "b" / "compose.yml")) == str(tmp_path / ".caplint.toml")


def test_config_flag_applies_one_file_to_every_path(tmp_path: Path) -> None:
    root = nested(tmp_path)
    strict = write(tmp_path / "strict.toml", 'select = ["CAP101"]\n')
    code, lines = gnu("--config", str(strict), "m/svc/docker-compose.yml", "m/docker-compose.yml", cwd=tmp_path)
    assert code == 1
    assert {line.split(":", 1)[0] for line in lines} == {"m/docker-compose.yml", "m/svc/docker-compose.yml"}
    assert {line.rsplit(" ", 1)[-1] for line in lines} == {"[CAP101]"}
    assert root.is_dir()


def test_isolated_reads_no_config_file(tmp_path: Path) -> None:
    nested(tmp_path)
    code, lines = gnu("--isolated", "m/svc/docker-compose.yml", cwd=tmp_path)
    assert code == 1 and lines
    write(tmp_path / "m" / "svc" / ".caplint.toml", "not = [valid\n")
    assert gnu("--isolated", "m", cwd=tmp_path)[0] == 1  # not even read, so not an error
    both = run_caplint("check", "--isolated", "--config", "x.toml", ".", cwd=tmp_path)
    assert both.returncode == 2 and "--config and --isolated cannot be combined" in both.stderr


def test_show_settings_says_what_applies_and_where_it_came_from(tmp_path: Path) -> None:
    nested(tmp_path)
    run = run_caplint("check", "--show-settings", "--fail-on", "high", "m/svc/docker-compose.yml", "m",
                      cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    inner, outer = run.stdout.split("\n\n")
    config_file = str(tmp_path / "m" / "svc" / ".caplint.toml")
    assert inner.splitlines()[:2] == ["m/svc/docker-compose.yml", f"  config: {config_file}"]
    assert f"ignore            CAP1, CAP2, CAP3, CAP4  [{config_file}]" in inner
    assert "fail-on           high  [command line (--fail-on)]" in inner
    assert "select            every rule  [default]" in inner
    assert "rules that run here: 2 (CAP001, CAP002)" in inner
    assert "  config: no config file" in outer and "ignore            none  [default]" in outer
    isolated = run_caplint("check", "--show-settings", "--isolated", "m/svc", cwd=tmp_path).stdout
    assert "--isolated: no config file is read" in isolated


def test_excludes_and_per_path_ignores_are_relative_to_their_config(tmp_path: Path) -> None:
    write(tmp_path / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(tmp_path / ".caplint.toml", 'per-path-ignores = { "old/*" = ["CAP101"] }\n')
    write(tmp_path / "svc" / ".caplint.toml", 'exclude = ["old"]\n')
    write(tmp_path / "old" / "compose.yml", PRIVILEGED + HOST_NET.replace("services:\n", ""))
    write(tmp_path / "svc" / "old" / "compose.yml", PRIVILEGED)
    write(tmp_path / "svc" / "new" / "compose.yml", PRIVILEGED)
    code, lines = gnu(".", cwd=tmp_path)
    assert {(line.split(":", 1)[0], line.rsplit(" ", 1)[-1]) for line in lines} == {
        ("old/compose.yml", "[CAP306]"),  # CAP101 off under the root config's old/*
        ("svc/new/compose.yml", "[CAP101]"),  # svc/old is excluded by svc/.caplint.toml, old/ is not
    }
    # Named one by one (pre-commit), the same files are excluded and the same rules are off.
    named = gnu("old/compose.yml", "svc/old/compose.yml", "svc/new/compose.yml", cwd=tmp_path)
    assert named == (code, lines)


def test_fail_on_is_each_files_own(tmp_path: Path) -> None:
    write(tmp_path / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(tmp_path / "lenient" / ".caplint.toml", 'fail-on = "critical"\n')
    write(tmp_path / "lenient" / "compose.yml", HOST_NET)
    write(tmp_path / "strict" / "compose.yml", HOST_NET)
    assert gnu("lenient", cwd=tmp_path)[0] == 0
    assert gnu("lenient", "strict", cwd=tmp_path)[0] == 1
    assert gnu("strict", "lenient", cwd=tmp_path)[0] == 1
    assert gnu("--fail-on", "critical", "strict", cwd=tmp_path)[0] == 0


def test_a_broken_config_met_in_a_scan_is_exit_2(tmp_path: Path) -> None:
    write(tmp_path / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(tmp_path / "ok" / "compose.yml", HOST_NET)
    write(tmp_path / "bad" / ".caplint.toml", "selct = []\n")
    write(tmp_path / "bad" / "compose.yml", HOST_NET)
    run = run_caplint("check", ".", cwd=tmp_path)
    assert run.returncode == 2 and "unknown key 'selct'" in run.stderr and "Traceback" not in run.stderr


def test_configs_are_resolved_once_per_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(tmp_path / ".caplint.toml", 'ignore = ["CAP204"]\n')
    write(tmp_path / "b" / ".caplint.toml", 'ignore = ["CAP304"]\n')
    for folder in ("a", "a/x", "b", "b/y", "c"):
        for i in range(10):
            write(tmp_path / folder / f"compose.{i}.yml", HOST_NET)
    looked: list[str] = []
    loaded: list[str] = []
    real_in, real_load = config._config_in, config.load
    monkeypatch.setattr(config, "_config_in", lambda folder: looked.append(folder) or real_in(folder))
    monkeypatch.setattr("caplint.settings.load", lambda path, known: loaded.append(path) or real_load(path, known))
    resolver = Resolver(KNOWN)
    found = list(discover.discover([str(tmp_path)], resolver.excludes))
    per_file = [resolver.for_file(f.path) for f in found]
    assert len(found) == 50
    assert sorted(looked) == sorted([str(tmp_path), *(str(tmp_path / f) for f in ("a", "a/x", "b", "b/y", "c"))])
    assert sorted(loaded) == sorted([str(tmp_path / ".caplint.toml"), str(tmp_path / "b" / ".caplint.toml")])
    assert len({id(s) for s in per_file}) == 2  # one Settings value per config file


def test_workers_get_each_files_settings(tmp_path: Path) -> None:
    write(tmp_path / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(tmp_path / "quiet" / ".caplint.toml", 'select = ["CAP306"]\nseverity = { CAP306 = "low" }\n')
    count = parallel.PARALLEL_MIN_FILES
    for i in range(count):
        write(tmp_path / ("quiet" if i % 2 else "loud") / f"compose.{i}.yml", HOST_NET)
    resolver = Resolver(KNOWN)
    found = list(discover.discover([str(tmp_path)], resolver.excludes))
    serial = parallel.lint_found(found, resolver.for_file, jobs=1)
    pooled = parallel.lint_found(found, resolver.for_file, jobs=2)
    assert pooled == serial
    quiet = [f for f in serial if "/quiet/" in f.span.path]
    assert {(f.rule_id, f.severity) for f in quiet} == {("CAP306", Severity.LOW)}
    assert {f.rule_id for f in serial if "/loud/" in f.span.path} == {"CAP306"}
    assert {f.severity for f in serial if "/loud/" in f.span.path} == {Severity.MEDIUM}


def test_overrides_replace_each_configs_value(tmp_path: Path) -> None:
    write(tmp_path / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(tmp_path / "a" / ".caplint.toml", 'ignore = ["CAP306"]\nfail-on = "low"\n')
    resolver = Resolver(KNOWN, Overrides(ignore=frozenset({"CAP304"}), fail_on=Severity.HIGH))
    settings = resolver.for_file(str(tmp_path / "a" / "compose.yml"))
    assert settings.ignore == frozenset({"CAP304"}) and settings.fail_on == Severity.HIGH
    assert resolver.for_file(str(tmp_path / "compose.yml")) == engine.settings_from(
        config.Config(), ignore=frozenset({"CAP304"}), fail_on=Severity.HIGH)


def test_the_language_server_resolves_per_file_too(tmp_path: Path) -> None:
    root = nested(tmp_path)
    (root / ".git").mkdir()
    write(tmp_path / "pyproject.toml", "[tool.caplint]\nbroken = [\n")  # above the repository
    inner = settings_for(str(root / "svc" / "docker-compose.yml"))
    outer = settings_for(str(root / "docker-compose.yml"))
    assert inner.ignore == frozenset({"CAP1", "CAP2", "CAP3", "CAP4"})
    assert outer == engine.Settings()
    shutil.rmtree(root / ".git")
