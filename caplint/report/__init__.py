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
    # SARIF runAutomationDetails.id as written ("CATEGORY/" or "CATEGORY/RUN_ID"); None: none.
    sarif_id: str | None = None
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


def located(f: Finding) -> tuple[str, str, str]:
    """(`path:line:col`, the in-image path or "", the message) for the line formats.

    A finding in a saved image sits at `app.tar:1:1` (a tarball has no lines) and
    at a path inside it: the line formats print that path right after their
    `path:line:col` and severity (`app.tar:1:1: error: /usr/bin/ping: in …`), so
    any `file:line:col: severity: message` parser still reads them, and the
    message, which starts with that path for the formats that have no place
    for it (JSON and SARIF carry it apart), does not say it twice."""
    s = f.span
    where = f"{s.path}:{s.line}:{s.column}"
    member = s.member or ""
    message = f.message
    if member and message.startswith(member + " "):
        message = message[len(member) + 1:]
    return where, member, message


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
