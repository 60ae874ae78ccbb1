"""A stable JSON document (schema version 2), documented in the README and
described by the JSON Schema `caplint/report/caplint-report.schema.json`.

{"version": 2, "tool": "caplint", "tool_version": "…", "files": N,
 "summary": {"critical": N, "high": N, "medium": N, "low": N},
 "findings": [{"rule": "CAP101", "name": "privileged-container", "severity": "critical",
               "path": "…", "line": 1, "column": 1, "end_line": 1, "end_column": 5,
               "message": "…", "container": "service 'web'" | null, "fingerprint": "…",
               "fix": "what to write instead", "help_uri": "https://…/rules/CAP101.md"}]}

Version 2 added `fix` and `help_uri`; nothing was removed or renamed.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

from caplint.model import Finding, Severity
from caplint.report import Context, rule_page_url
from caplint.rules import Rule

SCHEMA_VERSION = 2


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
        "fingerprint": f.fingerprint,
        "fix": f.advice,
        "help_uri": rule_page_url(f.rule_id),
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


def rules_document(rules: Sequence[Rule]) -> str:
    """`caplint rules --format json`: every rule, as the SARIF driver lists them."""
    from caplint import __version__

    doc = {
        "version": SCHEMA_VERSION,
        "tool": "caplint",
        "tool_version": __version__,
        "rules": [{"rule": r.id, "name": r.name, "severity": r.severity.label, "summary": r.summary,
                   "tags": list(r.tags), "precision": r.precision, "help_uri": rule_page_url(r.id)} for r in rules],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
