"""Edits applied to a file's text as it is on disk: line breaks, BOM and all.

The model's spans count lines and columns in the normalised text every parser
reads (`\\n` only, see `caplint.reading`). Edits are applied to the text as
written instead, so a CRLF file stays CRLF (an inserted line gets the line
break of the line it is inserted after), a file without a final newline stays
without, and a byte-order mark or UTF-16 is written back as it came.
"""
from __future__ import annotations

import codecs
import re
from collections.abc import Sequence

from caplint.model import Edit, Fix, Remedy
from caplint.reading import decode
from caplint.values import value

_BREAK = re.compile(r"\r\n|\r|\n")


@value
class Written:
    """A file's text with its line breaks as written, and how it was encoded."""

    text: str
    encoding: str  # "utf-8", "utf-8-sig" or "utf-16"

    @classmethod
    def read(cls, data: bytes, path: str) -> Written:
        """Raises caplint.reading.ReadError for a file caplint cannot read."""
        decode(data, path)  # the same refusals (binary, bad UTF-8) as linting
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return cls(data.decode("utf-16"), "utf-16")
        if data.startswith(codecs.BOM_UTF8):
            return cls(data.decode("utf-8-sig"), "utf-8-sig")
        return cls(data.decode("utf-8"), "utf-8")

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def normalised(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


class Lines:
    """Where each line of a text starts and ends, breaks as written."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self.ends: list[int] = []
        self.breaks: list[str] = []
        for m in _BREAK.finditer(text):
            self.ends.append(m.start())
            self.breaks.append(m.group())
            self.starts.append(m.end())
        self.ends.append(len(text))
        self.breaks.append("")

    def offset(self, line: int, column: int) -> int:
        """The offset of a 1-based position; past the last line is the end."""
        if line > len(self.starts):
            return len(self.text)
        start = self.starts[line - 1]
        return min(start + column - 1, self.ends[line - 1])

    def newline(self, line: int) -> str:
        """The line break to write at `line`: its own, else the file's first, else \\n."""
        own = self.breaks[min(line, len(self.breaks)) - 1]
        return own or next((b for b in self.breaks if b), "\n")


def bounds(edits: Sequence[Edit]) -> tuple[tuple[int, int], tuple[int, int]]:
    """The (line, column) range that covers every edit."""
    return (min((e.span.line, e.span.column) for e in edits), max((e.span.end_line, e.span.end_column) for e in edits))


def apply(text: str, edits: Sequence[Edit]) -> str:
    """`text` (breaks as written) with the non-overlapping `edits` made."""
    lines = Lines(text)
    placed = []
    for edit in edits:
        s = edit.span
        start, end = lines.offset(s.line, s.column), lines.offset(s.end_line, s.end_column)
        if not edit.replacement and end == len(text) and s.end_line > len(lines.starts) and start > 0:
            # Whole lines taken off the end of a file without a final newline:
            # take the break before them too, so it still has none.
            start -= len(lines.newline(s.line - 1))
        placed.append((start, end, edit.replacement.replace("\n", lines.newline(s.line))))
    out = text
    for start, end, replacement in sorted(placed, reverse=True):
        out = out[:start] + replacement + out[end:]
    return out


def as_fix(edits: Sequence[Edit], remedy: Remedy) -> tuple[Fix | None, str]:
    """The remedy's edits as one Fix (none: no fix, and nothing to explain)."""
    if not edits:
        return None, ""
    return Fix(edits[0].span, edits[0].replacement, remedy.title, remedy.safe, tuple(edits[1:])), ""
