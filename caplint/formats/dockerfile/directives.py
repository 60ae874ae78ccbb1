"""Dockerfile parser directives (`# syntax=`, `# escape=`, `# check=`) at the top of a file.

Its own tiny module because the suppression scanner needs the escape character
too (to know which lines a continued `RUN` spans) and must agree with the
Dockerfile parser exactly, without importing it and dockerfile-parse.
"""
from __future__ import annotations

from collections.abc import Iterable

from caplint import lazyre

_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_DIRECTIVE = lazyre.compile(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")


def escape_char(lines: Iterable[str]) -> str:
    """The `# escape=` directive's character, `\\` by default.

    Directives may come in any order; they end at the first line that is not
    one (an unknown directive is a comment, and a comment ends them too).
    """
    for line in lines:
        m = _DIRECTIVE.match(line)
        if m is None or m.group(1).lower() not in _DIRECTIVES:
            break
        if m.group(1).lower() == "escape" and m.group(2) in ("\\", "`"):
            return m.group(2)
    return "\\"
