"""A second reading for the heredocs tree-sitter-bash cannot parse.

Bash accepts two heredocs on one line (`cat <<A > x && sh <<B`), a heredoc
redirection before the command name (`<<EOT bash`) and a heredoc line that
goes on after its body (`cat <<EOF ||` with a body starting `{`); tree-sitter-bash
reports them as syntax errors and, in the first case, swallows the rest of the file
into a heredoc that never ends. When a tree has an error, `blanked` makes a
copy of the script in which exactly those heredocs — operator, body and
terminator line — are spaces, byte for byte, so every other word keeps its
offset. The caller keeps the copy's tree only if it parses without error:
then the error was the grammar's, not the script's.

What is lost is what tree-sitter could not give anyway: `$(…)` inside those
bodies (a body is data, or a script for the program that reads it).
"""
from __future__ import annotations

import re
from bisect import bisect_left

# `<<WORD`, `<<-WORD`, `<<'WORD'`, `<<"WORD"`, `<<\\WORD`; `<<<` is a here-string.
_OPERATOR = re.compile(rb"(?<!<)<<(?!<)(-?)[ \t]*\\?(['\"]?)([A-Za-z0-9_][A-Za-z0-9_.-]*)\2")
# A line that goes on after the bodies (`cat <<EOF ||`, then the body, then the
# command after `||`): the grammar reads a body line starting with `{` or `(` as
# that command.
_CONTINUED = re.compile(rb"(\|\||&&|\|)[ \t]*(#.*)?$")
# What may come right before a redirection that starts a command.
_COMMAND_START = re.compile(rb"(^|[;&|(){}!]|\b(then|do|else|elif))[ \t]*$")


def blanked(data: bytes) -> bytes | None:
    """`data` with the heredocs tree-sitter-bash misreads blanked, or None if it has none."""
    lines = data.split(b"\n")
    # Where each possible terminator is, so a file of unterminated `<<X` stays linear.
    where: dict[bytes, list[int]] = {}
    for k, text in enumerate(lines):
        where.setdefault(text.lstrip(b"\t"), []).append(k)
    out = list(lines)
    changed = False
    i = 0
    while i < len(lines):
        found = list(_operators(lines[i]))
        bodies: list[tuple[re.Match[bytes], int]] = []
        end = i
        for m in found:  # each body follows the previous one, in operator order
            stop = _terminator(lines, where, end + 1, m.group(3), chomp=m.group(1) == b"-")
            if stop is None:
                break
            bodies.append((m, stop))
            end = stop
        if len(bodies) != len(found) or not bodies:
            i += 1
            continue
        if (len(bodies) > 1 or _COMMAND_START.search(lines[i][:bodies[0][0].start()])
                or _CONTINUED.search(lines[i], bodies[-1][0].end())):
            line = bytearray(out[i])
            for m, _ in bodies:
                line[m.start():m.end()] = b" " * (m.end() - m.start())
            out[i] = bytes(line)
            for k in range(i + 1, end + 1):
                out[k] = b" " * len(lines[k])
            changed = True
        i = end + 1
    return b"\n".join(out) if changed else None


def _operators(line: bytes) -> list[re.Match[bytes]]:
    """The heredoc operators of one line, outside quotes and before a comment."""
    found: list[re.Match[bytes]] = []
    quote = 0
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == quote:
                quote = 0
            elif c == 0x5C and quote == 0x22:  # `\` inside "…"
                i += 1
        elif c == 0x5C:
            i += 1
        elif c in (0x22, 0x27):
            quote = c
        elif c == 0x23 and (i == 0 or line[i - 1] in b" \t"):
            break  # a comment
        elif c == 0x3C and (m := _OPERATOR.match(line, i)) is not None:
            found.append(m)
            i = m.end()
            continue
        i += 1
    return found


def _terminator(lines: list[bytes], where: dict[bytes, list[int]], start: int, word: bytes,
                *, chomp: bool) -> int | None:
    """The first line from `start` that ends a heredoc of `word`."""
    candidates = where.get(word, [])
    for k in candidates[bisect_left(candidates, start):]:
        if chomp or lines[k] == word:
            return k
    return None
