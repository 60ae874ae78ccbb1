"""Makefiles (`Makefile`, `GNUmakefile`, `makefile`, `*.mk`) → the containers their recipes start.

A recipe line is what make hands to the shell: a line starting with a tab
(or `.RECIPEPREFIX`) after a rule line, or the part after `;` on the rule
line itself. make takes off its own prefixes `@` (silent), `-` (ignore
errors) and `+` (run under -n too), in any order; `\\`-continued lines stay
one recipe line (the next line's leading tab is dropped) and reach the shell
with their backslash-newline. `$$` is a `$` for the shell; every other `$`
reference (`$(DOCKER)`, `${IMAGE}`, `$@`) is make's, expanded before the shell
runs: it stays in the text, which the shell parser reads as an expansion it
cannot know, so it is never guessed. Each recipe line is read as shell at its
host line and column (formats/embedded), `$$` re-spelled piece by piece.

make refuses a file with a line that is no rule, assignment, directive or
recipe — most often a recipe indented with spaces ("missing separator"), or a
tab-led line before any rule ("recipe commences before first target"): those
are CAP001, and the rest of the file is still read. A line that holds a `$(…)`
is not judged (its expansion may be anything). A recipe's own shell syntax is
not reported: make runs it, and a broken one fails only then. `define`
blocks (canned recipes) are read only where they are used, which is not
followed here.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from caplint.formats.embedded import Piece, Region
from caplint.model import ParseResult, Problem, Span
from caplint import lazyre

_PROGRAMS = lazyre.compile(r"docker|podman|nerdctl")
_ASSIGNMENT = lazyre.compile(r"^(?:(?:override|export|private|unexport)\s+)*[^:#=\s]+\s*(?:=|:=|::=|:::=|\?=|\+=|!=)")
_DIRECTIVE = lazyre.compile(r"^(?:-?include|sinclude|ifeq|ifneq|ifdef|ifndef|else|endif|export|unexport|override|"
                        r"vpath|undefine|private|load|-load)(?:\s|$)")


def parse(text: str, path: str) -> ParseResult:
    result = ParseResult()
    lines = text.split("\n")
    prefix = "\t"
    in_rule = seen_rule = False
    defining = 0
    i = 0
    while i < len(lines):
        first = i
        i = _logical_end(lines, i) + 1
        line = lines[first]
        if defining:
            stripped = line.strip()
            defining += stripped.startswith("define") - (stripped == "endef" or stripped.startswith("endef "))
            continue
        if line.startswith(prefix) and in_rule:
            _recipe(result, path, lines, first, i, len(prefix))
            continue
        joined = " ".join(lines[k].rstrip("\\").strip() for k in range(first, i))
        if not joined or joined.startswith("#"):
            continue
        if joined.startswith("define") and (len(joined) == 6 or joined[6] in " \t"):
            defining = 1
            continue
        if _DIRECTIVE.match(joined) and not _ASSIGNMENT.match(joined):
            continue
        if _ASSIGNMENT.match(joined):
            in_rule = False
            m = re.match(r"^\.RECIPEPREFIX\s*[:?]?=\s*(.?)", joined)
            if m:
                prefix = m.group(1) or "\t"
            continue
        colon = _outside_references(line).find(":")
        if colon >= 0:
            in_rule = seen_rule = True
            semi = _outside_references(line).find(";", colon)
            if semi >= 0:
                _recipe(result, path, lines, first, i, semi + 1)
            continue
        if "$" not in joined:
            result.problems.append(_refusal(path, first, line, line.startswith(prefix) and not seen_rule))
    return result


def _logical_end(lines: list[str], i: int) -> int:
    """The index of the last physical line of the logical line starting at `i`."""
    while i < len(lines) - 1 and _continued(lines[i]):
        i += 1
    return i


def _continued(line: str) -> bool:
    """Ends with an odd number of backslashes."""
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _outside_references(line: str) -> str:
    """`line` with every `$(…)`/`${…}` blanked (same length), so `:` and `;` inside them are not seen."""
    out = list(line)
    depth = 0
    for k, c in enumerate(line):
        if c == "$" and k + 1 < len(line) and line[k + 1] in "({":
            depth += 1
        elif depth and c in ")}":
            depth -= 1
            out[k] = " "
        if depth:
            out[k] = " "
    return "".join(out).split("#", 1)[0]


def _refusal(path: str, index: int, line: str, before_rules: bool) -> Problem:
    column = len(line) - len(line.lstrip(" \t")) + 1
    if before_rules:
        message = "make refuses this file: recipe commences before first target"
    elif line[:1] == " ":
        message = "make refuses this file: missing separator (a recipe line must start with a tab, not spaces)"
    else:
        message = "make refuses this file: missing separator (not a rule, an assignment or a directive)"
    return Problem(Span.point(path, index + 1, column), message)


def _recipe(result: ParseResult, path: str, lines: list[str], first: int, end: int, cut: int) -> None:
    """Read physical lines [first, end) as one recipe line, the first `cut` characters of the first being make's."""
    if not any(_PROGRAMS.search(lines[k]) for k in range(first, end)):
        return  # most recipe lines: nothing to read
    from caplint.formats.shell import parser as shell

    region = Region(path, _pieces(lines, first, end, cut))
    found = region.parse_with(shell.parse)
    result.containers.extend(found.containers)


def _pieces(lines: list[str], first: int, end: int, cut: int) -> Iterator[Piece]:
    for k in range(first, end):
        line = lines[k]
        start = cut if k == first else (1 if line.startswith("\t") else 0)
        if k == first:
            rest = line[start:]
            start += len(rest) - len(rest.lstrip("@+- \t"))
        text = line[start:] + ("\n" if k < end - 1 else "")
        column = start + 1
        # `$$` is one `$` for the shell: each run between them keeps its own columns.
        for n, run in enumerate(text.split("$$")):
            if n:
                yield Piece("$", k + 1, column)
                column += 2
            yield Piece(run, k + 1, column)
            column += len(run)
