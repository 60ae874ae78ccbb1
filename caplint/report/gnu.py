"""`path:line:col: severity: message [CAPnnn]` — the GNU error format editors and
problem matchers read. Severity: critical/high → error, medium → warning, low → note.
A finding in a saved image: `app.tar:1:1: error: /usr/bin/ping: in example/app:1 has … [CAP207]`."""
from __future__ import annotations

from collections.abc import Sequence

from caplint.model import Finding
from caplint.report import LEVELS, Context, located


def line(f: Finding) -> str:
    where, member, message = located(f)
    inside = f"{member}: " if member else ""
    return f"{where}: {LEVELS[f.severity]}: {inside}{message} [{f.rule_id}]\n"


def render(findings: Sequence[Finding], context: Context) -> str:
    return "".join(line(f) for f in findings)
