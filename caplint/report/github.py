"""GitHub Actions workflow commands, which the runner turns into annotations on
the pull request's diff: `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`.

Severity: critical/high → error, medium → warning, low → notice.
"""
from __future__ import annotations

from collections.abc import Sequence

from caplint.model import Finding, Severity
from caplint.report import Context, located, relative_path

COMMANDS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message the way the Actions toolkit does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: also `:` and `,`, which delimit properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(f: Finding) -> str:
    s = f.span
    # Annotations are anchored to the file's path in the repository; the action
    # runs from the checkout, so that is the path relative to the working directory.
    props: list[tuple[str, object]] = [("file", relative_path(s.path) or s.path), ("line", s.line)]
    end_line = max(s.end_line, s.line)
    # GitHub accepts columns only on a single-line annotation.
    if end_line == s.line:
        props += [("col", s.column), ("endLine", end_line), ("endColumn", max(s.end_column, s.column))]
    else:
        props.append(("endLine", end_line))
    _, member, message = located(f)
    # An image's annotation sits on the image file; its title names the path inside.
    props.append(("title", f"{f.rule_id} {f.rule_name}" + (f" {member}" if member else "")))
    rendered = ",".join(f"{key}={escape_property(str(value))}" for key, value in props)
    if member:
        message = f"{member}: {message}"
    text = f"{message}\nfix: {f.advice}" if f.advice else message
    return f"::{COMMANDS[f.severity]} {rendered}::{escape_data(text)}"


def render(findings: Sequence[Finding], context: Context) -> str:
    return "".join(command(f) + "\n" for f in findings)
