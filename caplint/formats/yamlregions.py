"""A YAML scalar as an embedded Region: the scripts CI files write in YAML
(`run:`, `script:`, a job container's `options:`), each character at the host
line and column where it is written, whatever the scalar's style.

Apart from `yamlnodes` because only the CI formats need it: a Compose run
does not load it.
"""
from __future__ import annotations

import bisect
from typing import Any

from caplint.formats.embedded import Piece, Region


def line_starts(text: str) -> list[int]:
    """The offset where each line of `text` starts."""
    starts = [0]
    for line in text.split("\n")[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    return starts


class Host:
    """A YAML file's text with its line starts: what `region` needs to place a scalar."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.starts = line_starts(text)
        self.read: set[int] = set()  # ids of the nodes already read (aliases share nodes)

    def offset(self, mark: Any) -> int:
        line: int = mark.line
        column: int = mark.column
        return self.starts[min(line, len(self.starts) - 1)] + column

    def point(self, offset: int) -> tuple[int, int]:
        row = bisect.bisect_right(self.starts, offset) - 1
        return row + 1, offset - self.starts[row] + 1


def region(node: Any, host: Host) -> Region:
    """A scalar's value as an embedded Region: each character at the host line and
    column where it is written, whatever the style — a literal `|` block with
    its indentation cut, a folded `>-` block whose line breaks became spaces,
    plain and quoted scalars folded over lines, double-quoted escapes."""
    value: str = node.value
    start = host.offset(node.start_mark)
    style = node.style or ""
    if style in "|>" and style:
        newline = host.text.find("\n", start)
        start = len(host.text) if newline < 0 else newline + 1
        if style == "|":
            literal = _literal_lines(value, host, start)
            if literal is not None:
                return literal
    elif style in "\"'" and style:
        start += 1
    offsets = _align(value, host.text, start, style == '"')
    pieces: list[Piece] = []
    run_start = 0
    for i in range(1, len(value) + 1):
        if i == len(value) or offsets[i] != offsets[i - 1] + 1 or host.text[offsets[i - 1]:offsets[i - 1] + 1] == "\n":
            pieces.append(Piece(value[run_start:i], *host.point(offsets[run_start])))
            run_start = i
    return Region(host.path, pieces)


def _literal_lines(value: str, host: Host, start: int) -> Region | None:
    """A literal block line for line: each value line ends its host line."""
    row = bisect.bisect_right(host.starts, start) - 1
    lines = value.split("\n")
    final_break = lines[-1] == ""
    if final_break:
        lines.pop()  # the value's last line break: kept, at the end of its line
    pieces: list[Piece] = []
    for i, line in enumerate(lines):
        if row + i >= len(host.starts):
            return None
        begin = host.starts[row + i]
        end = host.starts[row + i + 1] - 1 if row + i + 1 < len(host.starts) else len(host.text)
        written = host.text[begin:end]
        if not written.endswith(line):
            return None
        newline = "\n" if i < len(lines) - 1 or final_break else ""
        pieces.append(Piece(line + newline, row + i + 1, len(written) - len(line) + 1))
    found = Region(host.path, pieces)
    return found if found.text == value else None


_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
            "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
            "L": "\u2028", "P": "\u2029"}
_HEX = {"x": 2, "u": 4, "U": 8}


def _escape(text: str, p: int) -> tuple[str | None, int]:
    """The character a double-quoted escape at `text[p]` (a backslash) stands for,
    and its length; None for an escaped line break (it stands for nothing)."""
    nxt = text[p + 1:p + 2]
    if nxt == "\n":
        return None, 2
    if nxt in _HEX:
        width = _HEX[nxt]
        try:
            return chr(int(text[p + 2:p + 2 + width], 16)), 2 + width
        except ValueError:
            return "", 2
    return _ESCAPES.get(nxt, nxt), 2


def _align(value: str, text: str, start: int, double: bool) -> list[int]:
    """For each character of a scalar's value, the host offset where it is written.

    Walks the host from the scalar's start, matching value characters and
    skipping what the value does not keep (indentation, folded line breaks,
    quotes, escapes); a character with no counterpart (a fold's space) sits
    where the walk is."""
    out: list[int] = []
    p, n = start, len(text)
    for v in value:
        while p < n:
            h = text[p]
            if h == v:
                out.append(p)
                p += 1
                break
            if double and h == "\\":
                decoded, width = _escape(text, p)
                if decoded is None:
                    p += width
                    continue
                out.append(p)
                p += width
                break
            if h in " \t\r\n\"'":
                p += 1
                continue
            out.append(p)
            break
        else:
            out.append(max(min(p, n) - 1, start))
    return out
