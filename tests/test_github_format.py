"""`--format github`: workflow commands the Actions runner turns into annotations."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_caplint

from caplint.model import Finding, Severity, Span
from caplint.registry import all_rules
from caplint.report import Context
from caplint.report.github import command, escape_data, escape_property, render


def finding(severity: Severity, span: Span, message: str = "service 'web' runs privileged") -> Finding:
    return Finding("CAP101", "privileged-container", severity, span, message)


def test_single_line_finding() -> None:
    f = finding(Severity.CRITICAL, Span("docker-compose.yml", 4, 17, 4, 21))
    assert command(f) == (
        "::error file=docker-compose.yml,line=4,col=17,endLine=4,endColumn=21,"
        "title=CAP101 privileged-container::service 'web' runs privileged"
    )


def test_multi_line_finding_has_no_columns() -> None:
    # GitHub rejects columns on an annotation that spans lines.
    f = finding(Severity.HIGH, Span("Dockerfile", 2, 5, 4, 9))
    assert command(f) == "::error file=Dockerfile,line=2,endLine=4,title=CAP101 privileged-container::service 'web' runs privileged"


@pytest.mark.parametrize(("severity", "level"), [
    (Severity.CRITICAL, "error"),
    (Severity.HIGH, "error"),
    (Severity.MEDIUM, "warning"),
    (Severity.LOW, "notice"),
])
def test_severity_chooses_the_command(severity: Severity, level: str) -> None:
    assert command(finding(severity, Span("x.sh", 1, 1, 1, 2))).startswith(f"::{level} ")


def test_escaping_follows_the_actions_toolkit() -> None:
    assert escape_data("100% sure\r\nnext: a,b") == "100%25 sure%0D%0Anext: a,b"
    assert escape_property("dir: a,b%\n") == "dir%3A a%2Cb%25%0A"


def test_paths_and_messages_are_escaped_in_place() -> None:
    f = finding(Severity.MEDIUM, Span("odd,dir/a:b.yml", 1, 1, 1, 2), "line one\nline two: 50%")
    assert command(f) == (
        "::warning file=odd%2Cdir/a%3Ab.yml,line=1,col=1,endLine=1,endColumn=2,"
        "title=CAP101 privileged-container::line one%0Aline two: 50%25"
    )


def test_absolute_paths_become_workspace_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    f = finding(Severity.LOW, Span(str(tmp_path / "deploy" / "compose.yaml"), 3, 1, 3, 4))
    assert command(f).startswith("::notice file=deploy/compose.yaml,line=3,")


def test_render_is_one_command_per_finding() -> None:
    findings = [finding(Severity.CRITICAL, Span("a.yml", n, 1, n, 5)) for n in (1, 2, 3)]
    out = render(findings, Context(rules=all_rules(), files=1))
    assert out.splitlines() == [command(f) for f in findings]
    assert render([], Context(rules=all_rules(), files=1)) == ""


def test_cli_emits_annotations(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  web:\n    image: nginx\n    privileged: true\n    network_mode: host\n"
        "    cap_drop: [ALL]\n    security_opt: [no-new-privileges:true]\n"
    )
    proc = run_caplint("check", "--format", "github", ".", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("::error file=docker-compose.yml,line=4,col=17,endLine=4,endColumn=21,"
                               "title=CAP101 privileged-container::")
    assert any(line.startswith("::warning file=docker-compose.yml,line=5,") and "title=CAP306 host-network::" in line
               for line in lines)
    assert all(line.startswith("::") for line in lines)
