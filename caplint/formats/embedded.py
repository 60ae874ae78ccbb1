"""Embedded sources: a region of a host file read as another format, positions mapped back.

A CI step's `run: |` block, a Dockerfile `RUN`, a Markdown fence and a Makefile
recipe all hold text of another language whose lines are indented, prefixed,
folded or re-escaped in the host. The host format cuts that text out as a
`Region` — the embedded text plus, piece by piece, where each character sits
in the host file — and any parser reads `region.text` as if it were a file of
its own. `Region.lift` then maps every `Span` of what the parser produced back
to the host's line and column, once, in one place, so no rule or reporter
ever learns that the text was embedded (actionlint's lesson, tree-sitter's
injections).

Building a region:

    region = Region.from_lines(path, [(text, host_line, host_column), ...])
    region = Region(path, [Piece("a", 3, 7), Piece(" ", 3, 8), Piece("b", 4, 7)])

`from_lines` suits text whose every line comes from one host line with a
prefix cut off (a literal `run: |` block with its indentation stripped, a
fence body, a recipe line after its tab and `@`). `Piece`s are for text that
is re-spelled within a line (`$$` → `$` in a recipe, a folded `>-` scalar whose
line breaks became spaces, YAML escapes): each piece is a run of embedded
characters that sit one host column apart from (line, column) on. A piece
need not be spelled the same in the host — only its positions count — so a
blanked-out Dockerfile keyword or a synthetic separator is a piece too.

Reading it:

    result = region.lift(shell.parse(region.text, region.path))

`lift` takes any model value (a ParseResult, a list of Commands, a Problem…)
and returns it with every Span in host coordinates. A region that only shifts
lines (every column kept) says so in `line_offset`, so a parser that takes a
first line (`shell.commands(…, first_line=)`) can skip the walk: `parse_with`
does that choice for the caller.

Values only known when the host runs (a CI's `${{ matrix.flags }}`) are marked
with `region.unknown(ranges)`: the parser sees a same-length shell expansion,
and `lift` puts the author's spelling back, unresolved.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, TypeVar

from caplint import values
from caplint.model import Located, Span

T = TypeVar("T")


class Piece(NamedTuple):
    """Embedded `text` whose characters sit in the host from (`line`, `column`) on,
    one column apart (1-based). Characters after a newline inside one piece
    continue at column 1 of the next host line (text copied verbatim); end a
    piece at its newline when the next line starts elsewhere."""

    text: str
    line: int
    column: int


class Region:
    """The embedded text and the map from its positions to the host file's."""

    __slots__ = ("path", "text", "_starts", "_pieces", "_line_starts", "line_offset", "_unknown")

    def __init__(self, path: str, pieces: Iterable[Piece]) -> None:
        self.path = path
        kept = [p for p in pieces if p.text]
        self.text = "".join(p.text for p in kept)
        self._pieces = kept
        self._starts: list[int] = []
        offset = 0
        for p in kept:
            self._starts.append(offset)
            offset += len(p.text)
        self._line_starts = [0]
        for line in self.text.split("\n")[:-1]:
            self._line_starts.append(self._line_starts[-1] + len(line) + 1)
        self.line_offset = self._shift()
        self._unknown: dict[str, str] = {}  # placeholder → the host's own spelling

    def unknown(self, ranges: Iterable[tuple[int, int]]) -> Region:
        """This region with `text[start:end]` of each range read as a value known only
        at run time (a CI `${{ matrix.flags }}` expression, substituted before the
        shell ever runs). The parser sees a shell expansion of the same length in
        its place (`${_1___…}`, one word, valid in any quoting), so positions hold;
        `lift` puts the author's spelling back into every Located it touches and
        marks it unresolved, so no rule guesses its value."""
        ranges = sorted(ranges)
        if not ranges:
            return self
        out = Region.__new__(Region)
        for name in self.__slots__:
            setattr(out, name, getattr(self, name))
        out._unknown = dict(self._unknown)
        parts: list[str] = []
        at = 0
        for i, (start, end) in enumerate(ranges):
            width = end - start
            tag = f"_{i:x}"
            holder = "${" + tag.ljust(width - 3, "_") + "}" if width >= len(tag) + 3 else "$" + "_" * (width - 1)
            parts += [self.text[at:start], holder]
            out._unknown[holder] = self.text[start:end]
            at = end
        parts.append(self.text[at:])
        out.text = "".join(parts)
        return out

    @classmethod
    def from_lines(cls, path: str, lines: Iterable[tuple[str, int, int]]) -> Region:
        """Each embedded line (without its newline) with the host line and column it
        starts at; the newline joining two lines sits at the end of the first."""
        pieces = [Piece(text + "\n", line, column) for text, line, column in lines]
        if pieces:
            last = pieces[-1]
            pieces[-1] = Piece(last.text[:-1], last.line, last.column)
        return cls(path, pieces)

    def _shift(self) -> int | None:
        """k when embedded line n, column c is host line n + k, column c everywhere."""
        shift: int | None = None
        row, line_start = 0, 0  # the embedded line a piece starts on, and that line's offset
        for start, piece in zip(self._starts, self._pieces):
            if piece.column != start - line_start + 1:
                return None
            k = piece.line - (row + 1)
            if shift is None:
                shift = k
            elif k != shift:
                return None
            newlines = piece.text.count("\n")
            if newlines:
                row += newlines
                line_start = start + piece.text.rfind("\n") + 1
        return 0 if shift is None else shift

    # -- positions ---------------------------------------------------------

    def offset(self, line: int, column: int) -> int:
        """The character offset in `text` of embedded (line, column), 1-based."""
        row = min(max(line, 1), len(self._line_starts)) - 1
        return min(self._line_starts[row] + max(column, 1) - 1, len(self.text))

    def position(self, offset: int, *, end: bool = False) -> tuple[int, int]:
        """Host (line, column) of the character at `offset`; with `end`, the host
        position just after the character before `offset` (an exclusive end)."""
        if not self._pieces:
            return 1, 1
        if end and offset > 0:
            line, column = self.position(offset - 1)
            return line, column + 1
        i = max(bisect.bisect_right(self._starts, offset) - 1, 0)
        piece, start = self._pieces[i], self._starts[i]
        inside = min(offset - start, len(piece.text))
        newlines = piece.text.count("\n", 0, inside)
        if not newlines:
            return piece.line, piece.column + inside
        return piece.line + newlines, inside - piece.text.rfind("\n", 0, inside)

    def span(self, span: Span) -> Span:
        """An embedded span (path aside) as the host span of the same characters."""
        start = self.offset(span.line, span.column)
        stop = self.offset(span.end_line, span.end_column)
        line, column = self.position(start)
        end_line, end_column = self.position(stop, end=stop > start) if stop > start else (line, column)
        return Span(self.path, line, column, end_line, end_column)

    # -- reading -----------------------------------------------------------

    def lift(self, value: T) -> T:
        """`value` with every Span inside it (however deeply) mapped to the host."""
        if self.line_offset == 0 and not self._unknown:
            return value
        return _lift(value, self._map_span, self._unknown)  # type: ignore[no-any-return]

    def _map_span(self, span: Span) -> Span:
        if self.line_offset is not None:
            k = self.line_offset
            return Span(self.path, span.line + k, span.column, span.end_line + k, span.end_column)
        return self.span(span)

    def parse_with(self, parse: Callable[..., T], *, first_line: bool = False) -> T:
        """`parse(text, path)` lifted to the host. With `first_line`, `parse` also
        takes `first_line=` and a region that only shifts lines is passed that
        instead of being walked afterwards."""
        if first_line and self.line_offset is not None and not self._unknown:
            return parse(self.text, self.path, first_line=1 + self.line_offset)
        return self.lift(parse(self.text, self.path))


def _lift(value: Any, mapper: Callable[[Span], Span], unknown: dict[str, str]) -> Any:
    if isinstance(value, Span):
        return mapper(value)
    if isinstance(value, str):
        return _spelled(value, unknown) if unknown and "${_" in value else value
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, tuple):
        return tuple(_lift(v, mapper, unknown) for v in value)
    if isinstance(value, list):
        return [_lift(v, mapper, unknown) for v in value]
    if isinstance(value, Located) and unknown and isinstance(value.value, str) and "$" in value.raw:
        raw, text, resolved = value.raw, value.value, value.resolved
        for holder, spelled in unknown.items():
            if holder in raw:
                raw, text, resolved = raw.replace(holder, spelled), text.replace(holder, spelled), False
        return Located(text, mapper(value.span), raw, resolved)
    if isinstance(value, type):
        return value
    if values.is_value(value):  # the model's values, and ParseResult (a record)
        return values.replace(value, **{name: _lift(getattr(value, name), mapper, unknown)
                                        for name in values.fields(value)})
    return value


def _spelled(text: str, unknown: dict[str, str]) -> str:
    """A plain string (a container's name) with the author's spelling put back."""
    for holder, spelled in unknown.items():
        text = text.replace(holder, spelled)
    return text
