"""The report a person reads: what matters first, in full; the hygiene in brief.

Findings at medium or above are printed in full, the worst first (then by file
and line): location, severity, rule, message, the source line with a caret, and
a `fix:` line. Low findings — on a real repository nine in ten of them, the same
advice for every service — are counted per rule with a few locations, and
`--show-all` prints them in full as well. The last line is the summary.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from caplint.model import Finding, Severity
from caplint.report import Context, located

_COLORS = {
    Severity.CRITICAL: "\033[1;31m",
    Severity.HIGH: "\033[31m",
    Severity.MEDIUM: "\033[33m",
    Severity.LOW: "\033[36m",
}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"

# Findings below this are shown in brief unless --show-all.
IN_FULL = Severity.MEDIUM
# How many locations the brief names per rule.
EXAMPLES = 3


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


def report_order(f: Finding) -> tuple[int, str, int, int, str, str]:
    """The worst first, then by file, line and column."""
    return (-f.severity, *f.sort_key())


def in_full(f: Finding, color: bool) -> list[str]:
    where, member, message = located(f)
    if member:
        where = f"{where}: {member}"
    sev = _paint(f.severity.label, _COLORS[f.severity], color)
    rule = _paint(f"{f.rule_id} {f.rule_name}", _BOLD, color)
    out = [f"{_paint(where, _BOLD, color)}: {sev} {rule}", f"  {message}", *_snippet(f, color)]
    if f.advice:
        out.append(f"  {_paint('fix:', _BOLD, color)} {f.advice}")
    return out


def in_brief(findings: Sequence[Finding], context: Context) -> list[str]:
    """Per rule: how many, what the rule is about, and the first few locations."""
    color = context.color
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    summaries = {r.id: r.summary for r in context.rules if r.id in by_rule}  # each one cleans its rule's docs
    n = len(findings)
    label = _paint("low", _COLORS[Severity.LOW], color)
    out = [f"{n} {label} finding{'s' if n != 1 else ''} in brief (--show-all prints each in full, with its fix):"]
    width = max(len(f"{fs[0].rule_id} {fs[0].rule_name}") for fs in by_rule.values())
    count_width = len(str(max(len(fs) for fs in by_rule.values())))
    # The rules with most findings first; equal counts by id.
    for rule_id, fs in sorted(by_rule.items(), key=lambda item: (-len(item[1]), item[0])):
        name = f"{rule_id} {fs[0].rule_name}".ljust(width)
        about = summaries.get(rule_id, "")
        out.append(f"  {len(fs):>{count_width}}  {_paint(name, _BOLD, color)}  {about}".rstrip())
        shown = ", ".join(f"{f.span.path}:{f.span.line}" + (f" {f.span.member}" if f.span.member else "")
                          for f in fs[:EXAMPLES])
        more = f" and {len(fs) - EXAMPLES} more" if len(fs) > EXAMPLES else ""
        out.append(f"  {' ' * count_width}  e.g. {shown}{more}")
    return out


def render(findings: Sequence[Finding], context: Context) -> str:
    ordered = sorted(findings, key=report_order)
    full = ordered if context.show_all else [f for f in ordered if f.severity >= IN_FULL]
    brief = [] if context.show_all else [f for f in ordered if f.severity < IN_FULL]
    out: list[str] = []
    for f in full:
        out.extend(in_full(f, context.color))
        out.append("")
    if brief:
        out.extend(in_brief(brief, context))
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
