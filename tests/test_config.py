"""`[tool.caplint]` / `.caplint.toml`: finding, validating, and what the CLI does with it."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from caplint.config import KEYS, Config, ConfigError, discover_config, find, load
from caplint.model import Severity
from caplint.registry import all_rules
from conftest import run_caplint

KNOWN = frozenset(r.id for r in all_rules())

FULL = """\
[tool.caplint]
select = ["CAP1", "CAP2", "CAP3"]
ignore = ["CAP204", "CAP304"]
severity = { CAP306 = "high" }
per-path-ignores = { "tests/**" = ["CAP101"] }
exclude = ["vendor/**"]
fail-on = "high"
max-file-size = 1048576
runtime = "podman"
"""

PRIVILEGED = "services:\n  dind:\n    image: docker:27-dind\n    privileged: true\n"
HOST_NET = "services:\n  avahi:\n    image: ydkn/avahi\n    network_mode: host\n    cap_drop: [ALL]\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_key_is_read(tmp_path: Path) -> None:
    cfg = load(str(write(tmp_path / "pyproject.toml", FULL)), KNOWN)
    assert cfg == Config(
        path=str(tmp_path / "pyproject.toml"), root=str(tmp_path),
        select=frozenset({"CAP1", "CAP2", "CAP3"}), ignore=frozenset({"CAP204", "CAP304"}),
        severity={"CAP306": Severity.HIGH}, per_path_ignores=(("tests/**", frozenset({"CAP101"})),),
        exclude=("vendor/**",), fail_on=Severity.HIGH, max_file_size=1048576, runtime="podman", keys=frozenset(KEYS),
    )


def test_dot_caplint_toml_has_the_keys_at_top_level(tmp_path: Path) -> None:
    cfg = load(str(write(tmp_path / ".caplint.toml", 'ignore = ["cap3"]\n')), KNOWN)
    assert cfg.ignore == frozenset({"CAP3"}) and cfg.select is None


def test_found_by_walking_up_and_dotfile_wins(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", FULL)
    deep = tmp_path / "deploy" / "compose"
    deep.mkdir(parents=True)
    assert find(str(deep)) == str(tmp_path / "pyproject.toml")
    assert find(str(deep / "compose.yml")) == str(tmp_path / "pyproject.toml")
    write(tmp_path / ".caplint.toml", "")
    assert find(str(deep)) == str(tmp_path / ".caplint.toml")


def test_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    write(tmp_path / ".caplint.toml", 'ignore = ["CAP204"]\n')
    write(tmp_path / "app" / "pyproject.toml", '[project]\nname = "app"\n')
    write(tmp_path / "lib" / "pyproject.toml", "this is [ not toml\n")
    assert find(str(tmp_path / "app")) == str(tmp_path / ".caplint.toml")
    assert find(str(tmp_path / "lib")) == str(tmp_path / ".caplint.toml")


def test_a_pyproject_naming_caplint_elsewhere_is_parsed_once_while_unchanged(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # The language server looks for the config on every keystroke: a pyproject that
    # names caplint only as a dependency must not be parsed each time.
    from caplint import config

    project = write(tmp_path / "pyproject.toml", '[project]\nname = "app"\ndependencies = ["caplint>=0.1"]\n')
    parsed: list[str] = []
    real = config._read_toml
    monkeypatch.setattr(config, "_read_toml", lambda path: (parsed.append(path), real(path))[1])
    assert [find(str(tmp_path / "compose.yml")) for _ in range(5)] == [None] * 5
    assert parsed == [str(project)]
    write(project, '[project]\nname = "app"\n\n[tool.caplint]\nignore = ["CAP204"]\n')  # edited: read again
    assert find(str(tmp_path / "compose.yml")) == str(project) and len(parsed) == 2


def test_no_file_gives_defaults(tmp_path: Path) -> None:
    assert find(str(tmp_path)) is None
    assert discover_config(str(tmp_path), KNOWN) == Config()


@pytest.mark.parametrize(("text", "message"), [
    ("[tool.caplint]\nselct = ['CAP1']\n", "[tool.caplint]: unknown key 'selct'; did you mean 'select'?"),
    ("[tool.caplint]\nper_path_ignores = {}\n", "unknown key 'per_path_ignores'; did you mean 'per-path-ignores'?"),
    ("[tool.caplint]\nselect = ['CAP999']\n", "key 'select': unknown rule or prefix 'CAP999'"),
    ("[tool.caplint]\nignore = 'CAP101'\n", "key 'ignore': must be a list of strings, not 'CAP101'"),
    ("[tool.caplint]\nseverity = { CAP3 = 'high' }\n", "key 'severity': unknown rule id 'CAP3'"),
    ("[tool.caplint]\nseverity = { CAP306 = 'severe' }\n", "key 'severity.CAP306': unknown severity 'severe'"),
    ("[tool.caplint]\nfail-on = 3\n", "key 'fail-on': must be a severity name, not 3"),
    ("[tool.caplint]\nper-path-ignores = { 'tests/**' = ['CAP1O1'] }\n",
     "key 'per-path-ignores.tests/**': unknown rule or prefix 'CAP1O1'"),
    ("[tool.caplint]\nmax-file-size = -1\n", "key 'max-file-size': must be a positive number of bytes, not -1"),
    ("[tool.caplint]\nexclude = ['vendor/**'\n", "invalid TOML: "),
    ("[tool.caplint]\nruntime = 'crio'\n", "key 'runtime': must be one of docker, podman, nerdctl, not 'crio'"),
])
def test_mistakes_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "pyproject.toml", text)
    with pytest.raises(ConfigError) as err:
        load(str(path), KNOWN)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


# --- through the command line --------------------------------------------------


def test_config_error_exits_2_with_the_message(tmp_path: Path) -> None:
    write(tmp_path / ".caplint.toml", "selct = ['CAP1']\n")
    write(tmp_path / "compose.yml", PRIVILEGED)
    run = run_caplint("check", "compose.yml", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip() == (f"caplint: error: {tmp_path / '.caplint.toml'}: unknown key 'selct'; "
                                  "did you mean 'select'?")


def test_config_from_a_parent_folder_applies_its_globs_from_there(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", FULL)
    write(tmp_path / "tests" / "e2e" / "compose.yml", PRIVILEGED)
    write(tmp_path / "vendor" / "lib" / "compose.yml", PRIVILEGED)
    write(tmp_path / "deploy" / "compose.yml", HOST_NET)
    # Run from a subfolder: the globs are still relative to the config's folder.
    run = run_caplint("check", "--format", "gnu", "../", cwd=tmp_path / "deploy")
    assert run.stdout.splitlines() == [
        "../deploy/compose.yml:4:19: error: service 'avahi' shares the host's network namespace: "
        "it can reach services bound to the host's localhost [CAP306]",
    ]
    assert run.returncode == 1  # CAP306 raised to high, and fail-on = high


def test_fail_on_from_config_and_the_flag_overrides_it(tmp_path: Path) -> None:
    write(tmp_path / ".caplint.toml", 'fail-on = "critical"\n')
    write(tmp_path / "compose.yml", HOST_NET)
    assert run_caplint("check", "-f", "gnu", ".", cwd=tmp_path).returncode == 0
    assert run_caplint("check", "-f", "gnu", "--fail-on", "low", ".", cwd=tmp_path).returncode == 1


def test_cli_select_and_ignore_replace_the_configs(tmp_path: Path) -> None:
    write(tmp_path / ".caplint.toml", 'ignore = ["CAP306"]\n')
    write(tmp_path / "compose.yml", HOST_NET)
    assert run_caplint("check", "-f", "gnu", ".", cwd=tmp_path).stdout.count("[CAP") == 1  # CAP304 only
    out = run_caplint("check", "-f", "gnu", "--ignore", "CAP304", ".", cwd=tmp_path).stdout
    assert [line.rsplit(" ", 1)[-1] for line in out.splitlines()] == ["[CAP306]"]


def test_explicit_config_flag_wins_over_discovery(tmp_path: Path) -> None:
    write(tmp_path / ".caplint.toml", 'ignore = ["CAP306"]\n')
    other = write(tmp_path / "ci" / "strict.toml", 'select = ["CAP306"]\n')
    write(tmp_path / "compose.yml", HOST_NET)
    out = run_caplint("check", "-f", "gnu", "--config", str(other), ".", cwd=tmp_path).stdout
    assert [line.rsplit(" ", 1)[-1] for line in out.splitlines()] == ["[CAP306]"]
    missing = run_caplint("check", "--config", "nope.toml", ".", cwd=tmp_path)
    assert missing.returncode == 2 and "nope.toml: no such config file" in missing.stderr


def test_exclude_applies_to_files_named_on_the_command_line(tmp_path: Path) -> None:
    # pre-commit names every staged file; an excluded one must stay quiet.
    write(tmp_path / ".caplint.toml", 'exclude = ["vendor/**"]\n')
    write(tmp_path / "vendor" / "compose.yml", PRIVILEGED)
    run = run_caplint("check", "-f", "text", os.path.join("vendor", "compose.yml"), cwd=tmp_path)
    assert (run.returncode, run.stdout.strip()) == (0, "No findings in 0 files.")


def test_runtime_from_config_decides_defaults_and_low_ports(tmp_path: Path) -> None:
    # CAP208 needs the add to have an effect (after a drop of it; see the rule).
    web = "services:\n  web:\n    image: nginx\n    cap_drop: [NET_BIND_SERVICE]\n    cap_add: [NET_BIND_SERVICE]\n"
    write(tmp_path / "compose.yml", web)
    docker = run_caplint("check", "-f", "gnu", "--select", "CAP204,CAP208", ".", cwd=tmp_path).stdout
    assert "[CAP208]" in docker and "keeps 13 defaults" in docker
    write(tmp_path / ".caplint.toml", 'runtime = "podman"\n')
    podman = run_caplint("check", "-f", "gnu", "--select", "CAP204,CAP208", ".", cwd=tmp_path).stdout
    assert "[CAP208]" not in podman and "keeps 10 defaults" in podman
    assert '"runtime": "podman"' in run_caplint("caps", "--format", "json", ".", cwd=tmp_path).stdout


def test_max_file_size_from_config(tmp_path: Path) -> None:
    write(tmp_path / ".caplint.toml", "max-file-size = 10\n")
    write(tmp_path / "compose.yml", HOST_NET)
    out = run_caplint("check", "-f", "gnu", ".", cwd=tmp_path).stdout
    assert "over the 10-byte limit" in out and "[CAP001]" in out


def test_the_documented_examples_load(tmp_path: Path) -> None:
    """docs/integrations.md shows every key; its TOML blocks must stay valid."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "integrations.md").read_text(encoding="utf-8")
    blocks = doc.split("```toml\n")[1:]
    assert len(blocks) == 2
    full, dotfile = (b.split("```", 1)[0] for b in blocks)
    cfg = load(str(write(tmp_path / "pyproject.toml", full)), KNOWN)
    assert [key for key in KEYS if f"\n{key} = " not in full] == []
    assert cfg.fail_on == Severity.HIGH and cfg.severity["CAP306"] == Severity.HIGH
    assert load(str(write(tmp_path / ".caplint.toml", dotfile)), KNOWN).exclude == ("vendor/**",)
