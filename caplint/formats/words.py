"""Pointing into a shell word: where part of a word's value was written.

A word's value is its text after quote removal (`"--cap-add=SYS_ADMIN"` →
`--cap-add=SYS_ADMIN`), so an offset into the value is not an offset into the
file. `sub` re-reads the word as written to map value offsets back to raw
offsets, so a finding about `SYS_ADMIN` points at `SYS_ADMIN`, even inside
quotes or across a `\\`-newline. Expansions (`$X`, `${X:-y}`, `$(cmd)`) stay
verbatim in a value, exactly as the shell parser keeps them.
"""
from __future__ import annotations

from caplint.model import Located, Span

# Inside double quotes a backslash only escapes these (bash(1), QUOTING).
_DQ_ESCAPABLE = frozenset('$`"\\\n')
_CLOSERS = {"(": ")", "{": "}", "[": "]"}


def sub(word: Located[str], start: int, end: int | None = None) -> Located[str]:
    """The part `word.value[start:end]` as a Located of its own, spanning just that part."""
    value = word.value
    end = len(value) if end is None else end
    part = value[start:end]
    resolved = word.resolved or not ("$" in part or "`" in part)
    if start == 0 and end == len(value):
        return word
    index = raw_index(word.raw, value)
    if index is None or not part:
        # The word is written in a way this scanner does not follow (rare
        # ANSI-C escapes, odd nesting): the whole word is still a true place.
        return Located(part, word.span, word.raw, resolved)
    raw_start, raw_end = index[start], index[end - 1] + 1
    span = Span(word.span.path, *_advance(word.span, word.raw, raw_start), *_advance(word.span, word.raw, raw_end))
    return Located(part, span, word.raw[raw_start:raw_end], resolved)


def _advance(span: Span, raw: str, offset: int) -> tuple[int, int]:
    """Line and column of `raw[offset]`, given that `raw` starts where `span` does."""
    newlines = raw.count("\n", 0, offset)
    if not newlines:
        return span.line, span.column + offset
    return span.line + newlines, offset - raw.rfind("\n", 0, offset)


def raw_index(raw: str, value: str) -> list[int] | None:
    """For each character of `value`, its index in `raw`; None if they do not match."""
    out: list[int] = []
    i, n = 0, len(raw)
    quote = ""  # "" outside quotes, "'" or '"' inside
    while i < n:
        c = raw[i]
        if quote == "'":
            if c == "'":
                quote = ""
            else:
                out.append(i)
            i += 1
        elif c == "\\":
            nxt = raw[i + 1] if i + 1 < n else ""
            if quote == '"' and nxt not in _DQ_ESCAPABLE:
                out.append(i)  # a literal backslash inside double quotes
                i += 1
            else:
                if nxt and nxt != "\n":
                    out.append(i + 1)
                i += 2
        elif c == "$" and i + 1 < n and raw[i + 1] in "({[":
            end = _matching(raw, i + 1)
            out.extend(range(i, end))
            i = end
        elif c == "`":
            end = raw.find("`", i + 1)
            end = n if end < 0 else end + 1
            out.extend(range(i, end))
            i = end
        elif c in "'\"" and (quote == "" or c == quote):
            if c == "'" and quote == "":
                quote = "'"
            else:
                quote = "" if quote else '"'
            i += 1
        else:
            out.append(i)
            i += 1
    if len(out) != len(value) or "".join(raw[j] for j in out) != value:
        return None
    return out


def _matching(raw: str, open_at: int) -> int:
    """The index just past the bracket that closes `raw[open_at]`."""
    opener = raw[open_at]
    closer = _CLOSERS[opener]
    depth = 0
    for j in range(open_at, len(raw)):
        if raw[j] == opener:
            depth += 1
        elif raw[j] == closer:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(raw)
