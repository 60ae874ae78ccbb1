"""A stable JSON document (schema version 1), documented in the README.

{"version": 1, "tool": "caplint", "tool_version": "…", "files": N,
 "summary": {"critical": N, "high": N, "medium": N, "low": N},
 "findings": [{"rule": "CAP101", "name": "privileged-container", "severity": "critical",
               "path": "…", "line": 1, "column": 1, "end_line": 1, "end_column": 5,
               "message": "…", "container": "service 'web'" | null,
               "member": "/usr/bin/ping" | null, "fingerprint": "…"}]}
"""
from __future__ import annotations

import json
from collections.abc import Sequence

from caplint.model import Finding, Severity
from caplint.report import Context

SCHEMA_VERSION = 1


def as_dict(f: Finding) -> dict[str, object]:
    s = f.span
    return {
        "rule": f.rule_id,
        "name": f.rule_name,
        "severity": f.severity.label,
        "path": s.path,
        "line": s.line,
        "column": s.column,
        "end_line": s.end_line,
        "end_column": s.end_column,
        "message": f.message,
        "container": f.container,
        "member": s.member,
        "fingerprint": f.fingerprint,
    }


def render(findings: Sequence[Finding], context: Context) -> str:
    from caplint import __version__

    summary = {s.label: sum(1 for f in findings if f.severity is s) for s in sorted(Severity, reverse=True)}
    doc = {
        "version": SCHEMA_VERSION,
        "tool": "caplint",
        "tool_version": __version__,
        "files": context.files,
        "summary": summary,
        "findings": [as_dict(f) for f in findings],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
