"""The flags users expect of a linter: --quiet, --statistics, --exit-zero,
--extend-select/--extend-ignore, --show-all, `caplint rules --format json`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caplint.cli import app

COMPOSE = ("services:\n  web:\n    image: nginx\n    network_mode: host\n"
           "  dind:\n    image: docker:dind\n    privileged: true\n")


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "compose.yaml").write_text(COMPOSE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


SUMMARY = "4 findings (1 critical, 1 medium, 2 low) in 1 file."


def test_quiet_prints_the_summary_and_keeps_the_exit_code(project: Path) -> None:
    assert run("check", "--quiet") == (1, SUMMARY + "\n")
    assert run("check", "-q", "--fail-on", "critical", "--ignore", "CAP101") == (0, "3 findings (1 medium, 2 low) in 1 file.\n")


def test_quiet_still_writes_the_report_to_output(project: Path) -> None:
    assert run("check", "-q", "-f", "json", "-o", "report.json") == (1, SUMMARY + "\n")
    assert len(json.loads((project / "report.json").read_text(encoding="utf-8"))["findings"]) == 4


def test_exit_zero_reports_and_succeeds(project: Path) -> None:
    code, out = run("check", "--exit-zero")
    assert code == 0 and "CAP101 privileged-container" in out and out.endswith(SUMMARY + "\n")
    assert run("check", "--exit-zero", "--fail-on", "nonsense")[0] == 2  # usage errors still fail


def test_statistics_counts_per_rule(project: Path) -> None:
    code, out = run("check", "--statistics")
    assert code == 1
    assert out.splitlines() == [
        "1  CAP101  critical  privileged-container",
        "1  CAP204  low       missing-drop-all",
        "1  CAP304  low       missing-no-new-privileges",
        "1  CAP306  medium    host-network",
        SUMMARY,
    ]
    data = json.loads(run("check", "--statistics", "-f", "json")[1])
    assert data["statistics"][0] == {"rule": "CAP101", "name": "privileged-container", "severity": "critical", "count": 1}
    assert data["files"] == 1


@pytest.mark.parametrize("args", [("--statistics", "-f", "sarif"), ("--statistics", "--quiet")])
def test_statistics_refuses_what_it_cannot_do(project: Path, args: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, ["check", *args])
    assert result.exit_code == 2


def test_extend_ignore_adds_to_the_config(project: Path) -> None:
    (project / ".caplint.toml").write_text('ignore = ["CAP304"]\n', encoding="utf-8")
    assert run("check", "-q")[1] == "3 findings (1 critical, 1 medium, 1 low) in 1 file.\n"
    assert run("check", "-q", "--extend-ignore", "CAP204")[1] == "2 findings (1 critical, 1 medium) in 1 file.\n"
    # --ignore replaces the config's list instead.
    assert run("check", "-q", "--ignore", "CAP204")[1] == "3 findings (1 critical, 1 medium, 1 low) in 1 file.\n"


def test_extend_select_adds_to_the_config(project: Path) -> None:
    (project / ".caplint.toml").write_text('select = ["CAP1"]\nignore = ["CAP204"]\n', encoding="utf-8")
    assert run("check", "-q")[1] == "1 finding (1 critical) in 1 file.\n"
    assert run("check", "-q", "--extend-select", "CAP3")[1] == "3 findings (1 critical, 1 medium, 1 low) in 1 file.\n"
    # An id asked for by name is run even though the config ignores it.
    assert run("check", "-q", "--extend-select", "CAP204")[1] == "2 findings (1 critical, 1 low) in 1 file.\n"
    assert run("check", "--extend-select", "CAP999")[0] == 2


@pytest.mark.parametrize("fmt", ["gnu", "json", "sarif", "github"])
def test_show_all_changes_nothing_but_text(project: Path, fmt: str) -> None:
    assert run("check", "-f", fmt, "--show-all") == run("check", "-f", fmt)


def test_show_all_prints_low_findings_in_full(project: Path) -> None:
    brief, full = run("check")[1], run("check", "--show-all")[1]
    assert "in brief" in brief and "in brief" not in full
    assert full.count("  fix: ") == 4 and brief.count("  fix: ") == 2


def test_rules_as_json(project: Path) -> None:
    code, out = run("rules", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["version"] == 2
    first = data["rules"][0]
    assert set(first) == {"rule", "name", "severity", "summary", "tags", "precision", "help_uri"}
    assert first["help_uri"].endswith("/rules/CAP001.md")
    assert run("rules", "--format", "yaml")[0] == 2


@pytest.mark.parametrize("flag", ["--quiet", "--statistics", "--exit-zero", "--extend-select", "--extend-ignore",
                                  "--show-all"])
def test_each_flag_is_in_help_and_the_readme(flag: str) -> None:
    from conftest import ROOT

    assert flag in CliRunner().invoke(app, ["check", "-h"], terminal_width=200).stdout
    assert f"`{flag}" in (ROOT / "README.md").read_text(encoding="utf-8")
