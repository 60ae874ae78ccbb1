"""Quadlet edits: `DropCapability=`, `AddCapability=`, `NoNewPrivileges=` lines.

New keys are lines at the end of the unit's own `[Container]` section (after
its last key, before any blank or comment lines that lead to the next
section). A value set in a drop-in (`NAME.container.d/*.conf`) is not edited
from the unit, and a name is taken out of `AddCapability=` only where it is
one word of that line (the line goes when it was the only one).
"""
from __future__ import annotations

from caplint.fixing.splice import as_fix
from caplint.model import Container, Edit, Fix, Located, Remedy, Span


def spell(path: str, text: str, c: Container, remedy: Remedy) -> tuple[Fix | None, str]:
    if c.span.path != path:
        return None, "the section is declared in another file"
    lines = text.split("\n")
    last = _section_end(lines, c.span.line - 1)
    edits: list[Edit] = []
    new: list[str] = []
    if remedy.remove is not None:
        found = _remove(path, lines, remedy.remove)
        if isinstance(found, str):
            return None, found
        edits.append(found)
    if remedy.drop_all:
        if c.cap_drop:
            return None, f"{c.name} already has DropCapability= lines; caplint leaves them to you"
        new.append("DropCapability=all")
        if remedy.add:
            new.append("AddCapability=" + " ".join(remedy.add))
    if remedy.security_opt == "no-new-privileges":
        if any(opt.value.startswith("no-new-privileges") for opt in c.security_opt):
            return None, "NoNewPrivileges= is set already (perhaps in a drop-in)"
        new.append("NoNewPrivileges=true")
    if new:
        end = len(lines[last])
        edits.append(Edit(Span(path, last + 1, end + 1, last + 1, end + 1), "".join("\n" + k for k in new)))
    return as_fix(edits, remedy)


def _section_end(lines: list[str], header: int) -> int:
    """The section's last line that is a key (or its header)."""
    last = header
    for j in range(header + 1, len(lines)):
        stripped = lines[j].strip()
        if stripped.startswith("["):
            break
        if stripped and not stripped.startswith(("#", ";")):
            last = j
    return last


def _remove(path: str, lines: list[str], loc: Located[str]) -> Edit | str:
    s = loc.span
    if s.path != path:
        return f"{loc.raw} is set in a drop-in: change it there"
    line = lines[s.line - 1] if 0 < s.line <= len(lines) else ""
    start, end = s.column - 1, s.end_column - 1
    key, _, value = line.partition("=")
    if s.line != s.end_line or line[start:end] != loc.raw or key.strip() != "AddCapability" or line.endswith("\\"):
        return f"{loc.raw} is not one word of an AddCapability= line"
    if value.strip() == loc.raw:
        return Edit(Span(path, s.line, 1, s.line + 1, 1), "")
    if line[end:end + 1] == " ":
        return Edit(Span(path, s.line, start + 1, s.line, end + 2), "")
    if line[start - 1:start] == " ":
        return Edit(Span(path, s.line, start, s.line, end + 1), "")
    return f"{loc.raw} is not one word of an AddCapability= line"
