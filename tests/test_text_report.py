"""The text report leads with what matters: medium and above in full with a
fix line, low findings in brief, the summary last."""
from __future__ import annotations

from caplint.engine import lint_text
from caplint.model import Finding, Severity, Span
from caplint.registry import all_rules
from caplint.report import Context
from caplint.report.text import EXAMPLES, render

STACK = "services:\n" + "".join(f"  s{i}:\n    image: app{i}\n" for i in range(5)) + (
    "  root:\n    image: db\n    user: root\n  dind:\n    image: docker:dind\n    privileged: true\n")


def report(findings: list[Finding], **kw: object) -> list[str]:
    return render(findings, Context(rules=all_rules(), files=1, **kw)).splitlines()  # type: ignore[arg-type]


def test_worst_first_in_full_with_a_fix_line() -> None:
    lines = report(lint_text("compose.yaml", STACK))
    full = [line for line in lines if line.startswith("compose.yaml:")]
    assert full == ["compose.yaml:17:17: critical CAP101 privileged-container",
                    "compose.yaml:14:11: medium CAP401 root-user"]
    start = lines.index(full[0])
    assert lines[start + 1].startswith("  service 'dind' runs privileged")
    assert lines[start + 2:start + 4] == ["  17 |     privileged: true", "     |                 ^^^^"]
    assert lines[start + 4].startswith("  fix: remove `privileged: true`")


def test_low_findings_in_brief_with_counts_examples_and_the_flag() -> None:
    findings = lint_text("compose.yaml", STACK)
    lows = [f for f in findings if f.severity is Severity.LOW]
    lines = report(findings)
    assert f"{len(lows)} low findings in brief (--show-all prints each in full, with its fix):" in lines
    drop = next(i for i, line in enumerate(lines) if "CAP204 missing-drop-all" in line)
    assert lines[drop].split()[0] == "6"  # five plain services and the root one; dind is privileged
    examples = lines[drop + 1].strip()
    assert examples.startswith("e.g. compose.yaml:2, compose.yaml:4, compose.yaml:6 and 3 more")
    assert examples.count("compose.yaml:") == EXAMPLES
    # No low finding is printed in full.
    assert not any(line.startswith("compose.yaml:") and " low " in line for line in lines)


def test_the_last_line_is_the_summary() -> None:
    lines = report(lint_text("compose.yaml", STACK))
    assert lines[-1] == "14 findings (1 critical, 1 medium, 12 low) in 1 file."
    assert report([])[-1] == "No findings in 1 file."


def test_show_all_prints_every_finding_in_full() -> None:
    findings = lint_text("compose.yaml", STACK)
    lines = report(findings, show_all=True)
    assert sum(line.startswith("compose.yaml:") for line in lines) == len(findings)
    assert sum(line.startswith("  fix: ") for line in lines) == len(findings)
    assert not any("in brief" in line for line in lines)
    heads = [line for line in lines if line.startswith("compose.yaml:")]
    assert heads[0].endswith("CAP101 privileged-container") and " low " in heads[-1]


def test_only_low_findings_still_end_with_the_summary() -> None:
    lines = report(lint_text("compose.yaml", "services:\n  a:\n    image: x\n"))
    assert lines[0].startswith("2 low findings in brief")
    assert lines[-1] == "2 findings (2 low) in 1 file."


def test_a_severity_raised_by_config_is_shown_in_full() -> None:
    low = lint_text("compose.yaml", "services:\n  a:\n    image: x\n")[0]
    raised = Finding(low.rule_id, low.rule_name, Severity.HIGH, low.span, low.message, advice=low.advice)
    assert report([raised])[0] == "compose.yaml:2:3: high CAP204 missing-drop-all"


def test_colour_only_when_asked() -> None:
    findings = lint_text("compose.yaml", STACK)
    assert not any("\033[" in line for line in report(findings))
    assert any("\033[1;31mcritical" in line for line in report(findings, color=True))


def test_a_finding_without_a_source_line_is_still_complete() -> None:
    f = Finding("CAP001", "parse-error", Severity.HIGH, Span.point("x.yml", 1), "cannot read", advice="fix it")
    assert report([f])[:3] == ["x.yml:1:1: high CAP001 parse-error", "  cannot read", "  fix: fix it"]
