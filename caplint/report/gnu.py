"""`path:line:col: severity: message [CAPnnn]` — the GNU error format editors and
problem matchers read. Severity: critical/high → error, medium → warning, low → note."""
from __future__ import annotations

from collections.abc import Sequence

from caplint.model import Finding
from caplint.report import LEVELS, Context


def render(findings: Sequence[Finding], context: Context) -> str:
    return "".join(
        f"{f.span.path}:{f.span.line}:{f.span.column}: {LEVELS[f.severity]}: {f.message} [{f.rule_id}]\n"
        for f in findings
    )
