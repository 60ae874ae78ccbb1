"""Command-line edits: options inserted after the subcommand, options taken out.

New options go right after the subcommand (`docker run --cap-drop=ALL …`), on
its own line, so `\\` continuations and the layout of the other options stay as
they are. The inserted text is only letters, digits and `-=_:,` with spaces
between: inert in every host that carries a command line (a shell script, a
Dockerfile `RUN`, a systemd `ExecStart=`, a Makefile recipe, a Markdown fence,
a YAML `run:` block or quoted scalar), so with the exact position map of
`caplint.formats.embedded` the splice means the same there as in a script.

An option is taken out only when it is written plainly as `--cap-add=NAME` or
`--cap-add NAME` on one line, with nothing else in the word (`--cap-add=A,B`
keeps B: refused); a line that would be left holding only its `\\` goes whole.
"""
from __future__ import annotations

import re

from caplint.fixing.splice import as_fix
from caplint.model import Container, Edit, Fix, Located, Remedy, Span

_INERT = re.compile(r"[ A-Za-z0-9_=:,\-]*")
_FLAG = re.compile(r"(\s*)(--cap-add|--cap-drop)(=|\s+)$")


def spell(text: str, c: Container, remedy: Remedy) -> tuple[Fix | None, str]:
    at = c.options_at
    assert at is not None
    lines = text.split("\n")
    edits: list[Edit] = []
    words: list[str] = []
    if remedy.remove is not None:
        found = _remove(lines, remedy.remove, remedy.field)
        if isinstance(found, str):
            return None, found
        edits.append(found)
    if remedy.drop_all:
        for loc in c.cap_drop:
            found = _remove(lines, loc, "cap_drop")
            if isinstance(found, str):
                return None, f"{c.name} already drops {loc.raw}, and {found}"
            edits.append(found)
        words += ["--cap-drop=ALL", *(f"--cap-add={n}" for n in remedy.add)]
    if remedy.security_opt:
        words.append(f"--security-opt={remedy.security_opt}")
    if words:
        line = lines[at.line - 1] if 0 < at.line <= len(lines) else ""
        following = line[at.column - 1: at.column]
        if following not in ("", " ", "\t"):
            return None, "the subcommand is not followed by a space where caplint would add options"
        inserted = "".join(" " + w for w in words)
        assert _INERT.fullmatch(inserted), inserted
        edits.append(Edit(at, inserted))
    return as_fix(edits, remedy)


def _remove(lines: list[str], loc: Located[str], field: str) -> Edit | str:
    """The edit that takes out the option whose value is `loc`, or why not."""
    s = loc.span
    flag = "--" + field.replace("_", "-")
    if s.line != s.end_line or not 0 < s.line <= len(lines) or loc.raw != loc.value:
        return f"`{flag} {loc.raw}` is not written plainly on one line"
    line = lines[s.line - 1]
    start, end = s.column - 1, s.end_column - 1
    before, after = line[:start], line[end:]
    m = _FLAG.search(before)
    if line[start:end] != loc.value or m is None or m.group(2) != flag or (after and after[0] not in " \t"):
        return f"`{loc.raw}` is not written as {flag}={loc.raw} alone"
    if before[: m.start(2)].strip():
        # After other words: the option goes with the space before it.
        return Edit(Span(s.path, s.line, m.start(1) + 1, s.line, end + 1), "")
    rest = after.lstrip()
    if rest == "\\":
        # The line holds only this option and its continuation: the line goes.
        return Edit(Span(s.path, s.line, 1, s.line + 1, 1), "")
    if not rest:
        return f"{flag}={loc.raw} ends the command's last line"
    return Edit(Span(s.path, s.line, m.start(2) + 1, s.line, len(line) - len(rest) + 1), "")
