"""Human-readable output: location, severity, rule, message, the source line with a caret."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from caplint.model import Finding, Severity
from caplint.report import Context

_COLORS = {
    Severity.CRITICAL: "\033[1;31m",
    Severity.HIGH: "\033[31m",
    Severity.MEDIUM: "\033[33m",
    Severity.LOW: "\033[36m",
}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _snippet(f: Finding, color: bool) -> list[str]:
    line = f.line_text.expandtabs(1).rstrip()
    if not line:
        return []
    gutter = str(f.span.line)
    start = max(f.span.column - 1, 0)
    if f.span.end_line == f.span.line and f.span.end_column > f.span.column:
        width = f.span.end_column - f.span.column
    else:
        width = max(len(line) - start, 1)
    width = max(1, min(width, max(len(line) - start, 1)))
    caret = " " * start + "^" * width
    pad = " " * len(gutter)
    return [
        f"  {_paint(gutter, _DIM, color)} | {line}",
        f"  {pad} | {_paint(caret, _COLORS[f.severity], color)}",
    ]


def render(findings: Sequence[Finding], context: Context) -> str:
    color = context.color
    out: list[str] = []
    for f in findings:
        where = f"{f.span.path}:{f.span.line}:{f.span.column}"
        sev = _paint(f.severity.label, _COLORS[f.severity], color)
        rule = _paint(f"{f.rule_id} {f.rule_name}", _BOLD, color)
        out.append(f"{_paint(where, _BOLD, color)}: {sev} {rule}")
        out.append(f"  {f.message}")
        out.extend(_snippet(f, color))
        out.append("")
    out.append(summary(findings, context.files))
    return "\n".join(out) + "\n"


def summary(findings: Sequence[Finding], files: int) -> str:
    noun = "file" if files == 1 else "files"
    if not findings:
        return f"No findings in {files} {noun}."
    counts = Counter(f.severity for f in findings)
    parts = ", ".join(f"{counts[s]} {s.label}" for s in sorted(counts, reverse=True))
    what = "finding" if len(findings) == 1 else "findings"
    return f"{len(findings)} {what} ({parts}) in {files} {noun}."
