"""Reporters turn findings into text. Each format is a module with
`render(findings, context) -> str`, imported only when chosen, so a text run
never pays for the SARIF object model."""
from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence

from caplint.model import Finding, Severity
from caplint.rules import Rule
from caplint.values import value

FORMATS = ("text", "json", "sarif", "gnu", "github")


@value
class Context:
    rules: tuple[Rule, ...]
    files: int = 0
    color: bool = False
    sarif_category: str | None = None
    # The text report prints low findings in full too (other formats always carry every finding).
    show_all: bool = False


Renderer = Callable[[Sequence[Finding], Context], str]


def renderer(fmt: str) -> Renderer:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return importlib.import_module(f"caplint.report.{fmt}").render  # type: ignore[no-any-return]


# How editors, SARIF and annotations grade a finding: critical and high are
# errors, medium a warning, low a note.
LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}


def relative_path(path: str, cwd: str | None = None) -> str | None:
    """`path` relative to `cwd` with forward slashes, or None when there is no
    relative path (another drive on Windows)."""
    try:
        rel = os.path.relpath(os.path.abspath(path), cwd or os.getcwd())
    except ValueError:
        return None
    return rel.replace(os.sep, "/")


def rule_page_url(rule_id: str) -> str:
    return f"https://github.com/caplint/caplint/blob/main/rules/{rule_id}.md"
