"""Dockerfile parser directives (`# syntax=`, `# escape=`, `# check=`) at the top of a file.

Its own tiny module because the suppression scanner needs the escape character
too (to know which lines a continued `RUN` spans) and must agree with the
Dockerfile parser exactly, without importing it and dockerfile-parse.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")


def escape_char(lines: Iterable[str]) -> str:
    """The `# escape=` directive's character, `\\` by default.

    Directives may come in any order; they end at the first line that is not
    one (an unknown directive is a comment, and a comment ends them too).
    """
    for line in lines:
        if not is_directive(line):
            break
        m = _DIRECTIVE.match(line)
        assert m is not None
        if m.group(1).lower() == "escape" and m.group(2) in ("\\", "`"):
            return m.group(2)
    return "\\"


def is_directive(line: str) -> bool:
    """Whether `line` is a known directive (at the top of a file it is one)."""
    m = _DIRECTIVE.match(line)
    return m is not None and m.group(1).lower() in _DIRECTIVES
