"""`--statistics`: how many findings each rule has, most first — as a table
ending in the summary line, or as JSON with `--format json`."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from caplint.model import Finding
from caplint.report import Context, Renderer

FORMATS = ("text", "json")


def renderer(fmt: str) -> Renderer:
    if fmt not in FORMATS:
        raise ValueError(f"--statistics prints text or json, not {fmt!r}")
    return render_json if fmt == "json" else render_text


def counted(findings: Sequence[Finding]) -> list[tuple[Finding, int]]:
    """One finding of each rule (for its name and severity) with the rule's count."""
    counts = Counter(f.rule_id for f in findings)
    first = {f.rule_id: f for f in reversed(findings)}
    return [(first[rule_id], n) for rule_id, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def render_text(findings: Sequence[Finding], context: Context) -> str:
    from caplint.report.text import summary

    rows = counted(findings)
    width = len(str(rows[0][1])) if rows else 1
    lines = [f"{n:>{width}}  {f.rule_id}  {f.severity.label:<8}  {f.rule_name}" for f, n in rows]
    return "\n".join([*lines, summary(findings, context.files)]) + "\n"


def render_json(findings: Sequence[Finding], context: Context) -> str:
    from caplint.report.json import SCHEMA_VERSION

    doc = {
        "version": SCHEMA_VERSION,
        "tool": "caplint",
        "files": context.files,
        "statistics": [{"rule": f.rule_id, "name": f.rule_name, "severity": f.severity.label, "count": n}
                       for f, n in counted(findings)],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
