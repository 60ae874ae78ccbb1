"""systemd's unit-file syntax (systemd.syntax(7)), read with every value's position kept.

`[Section]` headers, `Key=value` assignments, comment lines starting with `#`
or `;`, and `\\` at the end of a line continuing the assignment on the next
one (comment and blank lines inside a continuation are skipped). A key may be
repeated; what repetition means (append, or replace) is the key's business,
so every assignment is kept, in order.

Two readers share this syntax and differ where it matters here:

- systemd joins a continued line with a space in place of the `\\` and only
  warns about a line it cannot read (it is skipped);
- Podman Quadlet's generator (pkg/systemd/parser/unitfile.go) joins with
  nothing and refuses the whole file for a line that is neither a comment, a
  section header nor an assignment, or for an assignment before any section.

A value is the joined text of its physical lines; `Value.at(offset)` gives the
line and column in the file of any character of it.
"""
from __future__ import annotations

import bisect

from caplint.model import Problem, Span
from caplint.values import field, record, value

_BLANKS = " \t\n\r\f\v"


@value
class Value:
    """An assignment's value: its text, and where each piece of it was written."""

    text: str
    path: str
    # For each physical line's piece: (offset in `text`, file line, file column).
    pieces: tuple[tuple[int, int, int], ...]

    def at(self, offset: int) -> tuple[int, int]:
        """1-based file line and column of `text[offset]` (or just past the end)."""
        starts = [p[0] for p in self.pieces]
        k = max(0, bisect.bisect_right(starts, offset) - 1)
        start, line, column = self.pieces[k]
        return line, column + offset - start

    def span(self, start: int = 0, end: int | None = None) -> Span:
        end = len(self.text) if end is None else end
        if end <= start:
            return Span(self.path, *self.at(start), *self.at(start))
        # The end is just past the last character, on that character's line.
        line, column = self.at(end - 1)
        return Span(self.path, *self.at(start), line, column + 1)


@value
class Entry:
    section: str
    key: str
    key_span: Span
    value: Value

    @property
    def span(self) -> Span:
        """From the key to the end of the value."""
        k, v = self.key_span, self.value.span()
        if not self.value.text:
            return k
        return Span(k.path, k.line, k.column, v.end_line, v.end_column)


@record
class Unit:
    path: str
    entries: list[Entry] = field(default_factory=list)
    sections: list[tuple[str, Span]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def get(self, section: str) -> list[Entry]:
        return [e for e in self.entries if e.section == section]


def read(text: str, path: str, *, quadlet: bool = False) -> Unit:
    """Every section and assignment of a unit file (see the module docstring for `quadlet`)."""
    unit = Unit(path)
    joiner = "" if quadlet else " "
    section: str | None = None
    pending: list[tuple[int, int, str]] = []  # (line, column of the stripped text, stripped text)
    lines = text.split("\n")
    for number, physical in enumerate(lines, start=1):
        stripped = physical.strip(_BLANKS)
        column = len(physical) - len(physical.lstrip(_BLANKS)) + 1
        if _is_comment(stripped):
            continue  # also inside a continuation: systemd skips such lines there
        if stripped.endswith("\\") and number < len(lines):
            pending.append((number, column, stripped[:-1]))
            continue
        if stripped.endswith("\\"):
            stripped = stripped[:-1]  # a `\\` at the end of the file continues nothing
        pending.append((number, column, stripped))
        logical, pending = pending, []
        section = _line(unit, logical, joiner, section, quadlet)
    if pending:  # the file ended inside a continuation whose last line was a comment
        section = _line(unit, pending, joiner, section, quadlet)
    return unit


def _is_comment(stripped: str) -> bool:
    return not stripped or stripped[0] in "#;"


def _line(unit: Unit, parts: list[tuple[int, int, str]], joiner: str, section: str | None,
          quadlet: bool) -> str | None:
    """Read one logical line; return the section that is current after it."""
    first_line, first_column, first_text = parts[0]
    whole = joiner.join(p[2] for p in parts)
    if whole.startswith("[") and "]" in whole and not whole[whole.index("]") + 1:].strip(" \t"):
        name = whole[1:whole.index("]")]
        if not name or any(c in "[]" or ord(c) < 32 for c in name):
            _refuse(unit, quadlet, Span.point(unit.path, first_line, first_column), f"invalid section name [{name}]")
            return section
        unit.sections.append((name, Span(unit.path, first_line, first_column, first_line,
                                         first_column + len(first_text))))
        return name
    eq = first_text.find("=")
    if eq <= 0 or not first_text[:eq].strip():
        where = Span.point(unit.path, first_line, first_column)
        _refuse(unit, quadlet, where, f"line {first_line} is not a section header, an assignment or a comment: "
                                      f"{whole[:60]!r}")
        return section
    key = first_text[:eq].rstrip(" \t")
    if section is None:
        _refuse(unit, quadlet, Span.point(unit.path, first_line, first_column),
                f"{key}= is outside any section: the file must start with a [Section] header")
        return section
    # The value: the rest of the first piece without its leading blanks, then the other pieces.
    head = first_text[eq + 1:]
    lead = len(head) - len(head.lstrip(_BLANKS))
    pieces = [(0, first_line, first_column + eq + 1 + lead)]
    text = head[lead:]
    for line, column, piece in parts[1:]:
        text += joiner
        pieces.append((len(text), line, column))
        text += piece
    key_span = Span(unit.path, first_line, first_column, first_line, first_column + len(key))
    unit.entries.append(Entry(section, key, key_span, Value(text.rstrip(_BLANKS), unit.path, tuple(pieces))))
    return section


def _refuse(unit: Unit, quadlet: bool, span: Span, message: str) -> None:
    """Quadlet refuses the file; systemd logs a warning and skips the line (no finding)."""
    if quadlet:
        unit.problems.append(Problem(span, f"Quadlet refuses this file: {message}"))
