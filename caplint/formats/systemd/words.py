"""systemd's command-line words (systemd.syntax(7) "Quoting", systemd.service(5)
"Command lines"), each located in the unit file.

Words are separated by blanks; `"…"` and `'…'` quote, also in the middle of a
word (`--label="a b"`), as systemd's extract_first_word reads them; C-style
escapes (`\\n`, `\\x41`, `\\\\`, `\\"`, `\\s`) work inside and outside quotes.
`$VAR`, `${VAR}` (environment substitution in `Exec*=`) and `%n`-style
specifiers are only known when the unit runs: a word holding one is
unresolved; `$$` and `%%` are a literal `$` and `%`.

systemd refuses an `Exec*=` line with an unterminated quote or a trailing
backslash ("Invalid syntax, ignoring"); Quadlet reads `PodmanArgs=` relaxed
and keeps such a word as written.
"""
from __future__ import annotations

import re

from caplint.formats.systemd.ini import Value
from caplint.model import Located
from caplint import lazyre

_BLANKS = " \t\n\r"
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
           "\\": "\\", '"': '"', "'": "'", "s": " ", ";": ";"}
_UNKNOWN = lazyre.compile(r"\$(?!\$)|%[^%]")


class SyntaxProblem(ValueError):
    """The words cannot be read the way systemd reads them; `offset` is where."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def split(value: Value, *, relax: bool = False) -> list[Located[str]]:
    """The words of `value.text`, each located. Raises SyntaxProblem unless `relax`."""
    return [word for word, _ in split_mapped(value, relax=relax)]


def split_mapped(value: Value, *, relax: bool = False) -> list[tuple[Located[str], list[int]]]:
    """Like `split`, with each word's characters' offsets in `value.text` (an
    escape's character sits at its backslash), for text re-read as another format."""
    text, n = value.text, len(value.text)
    out: list[tuple[Located[str], list[int]]] = []
    i = 0
    while True:
        while i < n and text[i] in _BLANKS:
            i += 1
        if i >= n:
            return out
        start = i
        chars: list[str] = []
        offsets: list[int] = []
        quote = ""
        while i < n:
            c = text[i]
            if quote:
                if c == quote:
                    quote = ""
                    i += 1
                    continue
            elif c in _BLANKS:
                break
            elif c in "'\"":
                quote = c
                i += 1
                continue
            if c == "\\":
                if i + 1 >= n:
                    if not relax:
                        raise SyntaxProblem("a backslash at the end of the line escapes nothing", i)
                    chars.append(c)
                    offsets.append(i)
                    i += 1
                    continue
                offsets.append(i)
                decoded, i = _escape(text, i)
                chars.append(decoded)
                continue
            chars.append(c)
            offsets.append(i)
            i += 1
        if quote and not relax:
            raise SyntaxProblem(f"unterminated quoted string ({quote}) starting here", start)
        word = "".join(chars)
        raw = text[start:i]
        resolved = not _UNKNOWN.search(raw.replace("%%", "").replace("$$", ""))
        shown = word.replace("$$", "$").replace("%%", "%")
        out.append((Located(shown, value.span(start, i), raw, resolved), offsets))


def _escape(text: str, i: int) -> tuple[str, int]:
    """The character a `\\` escape at `text[i]` stands for, and the index after it."""
    c = text[i + 1]
    if c in _SIMPLE:
        return _SIMPLE[c], i + 2
    if c == "x" and re.match(r"[0-9A-Fa-f]{2}", text[i + 2:i + 4]):
        return chr(int(text[i + 2:i + 4], 16)), i + 4
    if c in "01234567" and re.match(r"[0-7]{3}", text[i + 1:i + 4]):
        return chr(int(text[i + 1:i + 4], 8)), i + 4
    if c in "uU":
        width = 4 if c == "u" else 8
        digits = text[i + 2:i + 2 + width]
        if len(digits) == width and all(d in "0123456789abcdefABCDEF" for d in digits):
            return chr(min(int(digits, 16), 0x10FFFF)), i + 2 + width
    return c, i + 2  # an escape systemd does not know: the character itself
