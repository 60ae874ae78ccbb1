"""The constructs bash accepts and tree-sitter-bash misreads, found and made neutral.

tree-sitter-bash 0.25 reports syntax errors in valid scripts, and its error
recovery then swallows what follows — `docker run` lines included — so the
first error can be reported a hundred lines above anything wrong. Its gaps
are in constructs whose insides carry nothing a container rule reads:

- parameter expansions with an operand it does not expect: `${A:"x"}`,
  `${a:$i:1}`, `${arr[$repo:$variant]}`, `${a[$k,$v]}`;
- array subscripts of an assignment: `m[$k:$v]=1`;
- test commands whose operands look like syntax: `[[ $a = -- ]]`,
  `[[ $X = *"a b"* ]]`, `[ "$1" = - ]`, a `[` without its `]` (a run-time
  error for bash, not a syntax error);
- case patterns with quotes or continued lines: `?*' '?*)`, `a | \\`;
- operators and forms it lacks: `<>` (`exec 3<>/dev/tcp/host/port`), a
  here-string after another redirection (`jq . 2>&1 <<< "$r"`), the
  case terminators `;&` and `;;&`, `for x do`, `for x in;`, a literal `$`
  (`lv_name=~\\(e2scrub$\\)`), an assignment with a redirection before `&&`,
  a comment in backticks, `((cmd) …)` and `$((cmd) …)` (subshells, not
  arithmetic), a backtick substitution whose command starts after blanks
  (`` x=` sed …` `` once an earlier backtick substitution was read).

`Constructs` scans a script once the way bash's lexer does (quotes, comments,
heredoc bodies, `$(…)`, backticks, case items) and records each such
construct with its byte range. `neutralised` copies the script with chosen
constructs rewritten into forms the grammar reads — `${____}`, `[[ ____ ]]`,
`m[___]=`, `______)`, `<`, `for x;do`, `` ` cmd` `` → `` `cmd` `` with the blanks before it — byte for byte, so every other word
keeps its offset. A `$(…)`, backtick or `<(…)` inside a rewritten construct is
kept verbatim: bash runs it. Which constructs to rewrite is the caller's
choice: those around a syntax error of the tree.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from caplint.values import value
from caplint import lazyre

# A script larger than this is not read a second time (no real script is).
MAX_SIZE = 1 << 20
_MAX_DEPTH = 64  # nesting of $( ${ " … beyond which the scan stops recording
_FAR = 4096  # an error this far into a construct is not blamed on it

# `<<WORD`, `<<-WORD`, `<<'WORD'`, `<<"WORD"`, `<<\WORD` (the last three: a body without expansions)
_HEREDOC = lazyre.compile(rb"<<(-?)[ \t]*(\\?)(['\"]?)([A-Za-z0-9_][A-Za-z0-9_.-]*)\3")
_PLAIN = lazyre.compile(rb"[^\s;&|()<>'\"`$\\]*")
_SUBSCRIPTED = lazyre.compile(rb"[A-Za-z_][A-Za-z0-9_]*\[")
_ASSIGNMENT = lazyre.compile(rb"[A-Za-z_][A-Za-z0-9_]*(\+?)=")
_FOR = lazyre.compile(rb"for[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]+(?:(do)|(in)[ \t]*[;\n])")
_COMMENT_SUBSTITUTION = lazyre.compile(rb"`[ \t]*#[^`\n]*`")
# What may follow `$` for it to start an expansion; any other `$` is a literal dollar.
_EXPANDS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789@*#?$!-{(['\" \t\n\"`")
_BLANK = frozenset(b" \t\r")
_SWALLOWED = lazyre.compile(rb"\n[ \t]*(fi|done|esac|then|else|do|\}|;;)[ \t]*\n")
_PART = frozenset(b"\\'\"$`")  # what starts a quoted or expanded part of a word
_WORD_END = frozenset(b" \t\r\n;&|()<>")
# Words after which a new command starts (so `[[` there is a test, not a word).
_LEADERS = frozenset({b"if", b"then", b"elif", b"else", b"while", b"until", b"do", b"!", b"{", b"}", b"time",
                      b"-p"})
_OPERATORS = {b"<>": b"< ", b"<<<": b"<  ", b";;&": b";; ", b";&": b";;"}
_FILLED = frozenset({"expansion", "subscript", "test", "pattern"})


@value
class Construct:
    """One construct the grammar may misread; a syntax error in `data[start:end]` is blamed on it.

    `expansion`, `subscript`, `test` and `pattern` are rewritten by filling their
    inside with `_`; the other kinds by their `edits` (offset, replacement)."""

    start: int
    end: int
    kind: str
    edits: tuple[tuple[int, bytes], ...] = ()


class _TooDeep(Exception):
    pass


class Constructs:
    """Every misread-prone construct of a script, and the `$(…)` bash runs inside them."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.found: list[Construct] = []
        self.substitutions: list[tuple[int, int]] = []  # $(…), `…`, <(…), >(…)
        self._pending: list[tuple[bytes, bool, bool]] = []  # heredocs whose bodies follow the line
        self._depth = 0
        self._closed = False  # whether the test just scanned ended with its `]]`
        # For placing a real error: where a quote or substitution that never ends
        # starts, and the strings that run over lines (one of them may be the culprit).
        self.unclosed: int | None = None
        self.multiline: list[int] = []
        try:
            self._code(0, b"")
        except _TooDeep:
            pass
        self.found.sort(key=lambda c: (c.start, -c.end))
        self._starts = [c.start for c in self.found]

    def enclosing(self, positions: Iterable[int], skip: set[Construct]) -> set[Construct]:
        """For each position, the smallest construct around it that is not in `skip`."""
        out: set[Construct] = set()
        for p in positions:
            best: Construct | None = None
            for k in range(bisect_right(self._starts, p) - 1, -1, -1):
                c = self.found[k]
                if p - c.start > _FAR:
                    break  # found is sorted by start: the rest begin even earlier
                if p <= self._reach(c) and c not in skip and (best is None or c.end - c.start < best.end - best.start):
                    best = c
            if best is not None:
                out.add(best)
        return out

    def culprit(self) -> int:
        """Where the quote or substitution that never ends starts (`unclosed` must be set).

        When the file ends inside a string, the quote missing its partner is
        often much earlier: that string then closed at the next quote and the
        parity of every later one flipped. The first string that runs over a
        line holding only a keyword or brace (`fi`, `done`, `}` …) is that one."""
        assert self.unclosed is not None
        if self.data[self.unclosed] in b"'\"":
            for start in self.multiline:
                end = self._string_end(start)
                if start < self.unclosed and _SWALLOWED.search(self.data, start, end):
                    return start
        return self.unclosed

    def _string_end(self, start: int) -> int:
        quote = self.data[start:start + 1]
        end = self.data.find(quote, start + 1)
        return len(self.data) if end < 0 else end

    def rewritable(self) -> list[Construct]:
        """Every construct but assignments (rewriting one changes what its command is)."""
        return [c for c in self.found if c.kind != "assignment"]

    def within(self, ranges: Iterable[tuple[int, int]], skip: set[Construct], *,
               assignments: bool = False) -> set[Construct]:
        """Every construct that starts inside one of `ranges` (what an ERROR node swallowed),
        for errors the grammar reports away from their cause. Not assignments, unless
        asked: rewriting one changes what the command is, which only an error on its
        line justifies — or a reading where nothing but assignments is left to blame."""
        out: set[Construct] = set()
        for start, end in ranges:
            for k in range(bisect_right(self._starts, start - 1), bisect_right(self._starts, end - 1)):
                c = self.found[k]
                if (c.kind != "assignment") != assignments and c not in skip:
                    out.add(c)
        return out

    def _reach(self, c: Construct) -> int:
        end = c.end
        if c.kind == "operator":  # `;;& esac`: the grammar stumbles on the word after it
            while end < len(self.data) and self.data[end] in b" \t\n":
                end += 1
        return end

    def neutralised(self, chosen: Iterable[Construct]) -> bytes:
        """The script with `chosen` rewritten into same-length forms tree-sitter-bash reads."""
        buf = bytearray(self.data)
        for c in sorted(chosen, key=lambda c: c.end - c.start):  # inner ones first
            for at, new in c.edits:
                buf[at:at + len(new)] = new
            if c.kind not in _FILLED:
                continue
            if c.kind == "expansion":  # ${ … }
                first, last = c.start + 2, c.end - 1
            elif c.kind == "subscript":  # name[ … ]=
                first, last = self.data.index(b"[", c.start) + 1, c.end - 1
            elif c.kind == "test":  # [[ … ]], keeping the blanks inside the brackets
                first, last = c.start + 3, c.end - 3
            else:  # a case pattern, up to its `)`
                first, last = c.start, c.end
            kept = self._kept(first, last)
            if c.kind == "expansion" and kept and kept[0][0] >= first + 2:
                buf[first:first + 2] = b"_-"  # ${_-…$(cmd)…}: a default the grammar reads
                first += 2
            elif c.kind == "expansion":
                kept = []
            cursor = first
            for s, e in kept + [(last, last)]:
                buf[cursor:s] = b"_" * (s - cursor)
                cursor = e
        return bytes(buf)

    def _kept(self, first: int, last: int) -> list[tuple[int, int]]:
        """The outermost substitutions inside data[first:last]."""
        out: list[tuple[int, int]] = []
        for s, e in sorted(self.substitutions):
            if s >= first and e <= last and not (out and s < out[-1][1]):
                out.append((s, e))
        return out

    def _add(self, start: int, end: int, kind: str, *edits: tuple[int, bytes]) -> None:
        self.found.append(Construct(start, end, kind, edits))

    def _enter(self) -> None:
        self._depth += 1
        if self._depth > _MAX_DEPTH:
            raise _TooDeep

    # The scanner. Each method starts inside a construct and returns the index
    # just after it (len(data) when it never ends). `stop` is what ends the
    # current code: b"" (end of file), b")" ($(…) or a subshell), b"`", b"]]"
    # ([[ … ]]) or b"]" ([ … ], which also ends with its command).

    def _code(self, i: int, stop: bytes) -> int:
        data, n = self.data, len(self.data)
        test = stop == b"]]"
        bracket = stop == b"]"
        command_start = not test
        parens = 0
        cases: list[str] = []  # per open `case`: "word" (before `in`), "pattern" or "body"
        while i < n:
            c = data[i]
            if c == 0x0A:  # newline
                if bracket:
                    return i
                i = self._bodies(i + 1) if self._pending and not test else i + 1
                command_start = not test
                continue
            if c in _BLANK:
                i += 1
                continue
            if c == 0x23 and (i == 0 or data[i - 1] in _WORD_END):  # a comment
                end = data.find(b"\n", i)
                end = n if end < 0 else end
                if stop == b"`":
                    tick = data.find(b"`", i, end)
                    end = end if tick < 0 else tick
                i = end
                continue
            if cases and cases[-1] == "pattern":
                if data.startswith(b"esac", i) and (i + 4 >= n or data[i + 4] in _WORD_END):
                    cases.pop()
                    i += 4
                    command_start = False
                else:
                    i = self._pattern(i)
                    cases[-1] = "body"
                    command_start = True
                continue
            if c == 0x60 and stop == b"`":
                return i + 1
            if c == 0x60 and (m := _COMMENT_SUBSTITUTION.match(data, i)) is not None:
                self._add(i, m.end(), "comment", (i, b" " * (m.end() - i)))
                i = m.end()
                command_start = False
            elif c in _PART:
                i = self._part(i)
                command_start = False
            elif test and data.startswith(stop, i) and data[i - 1] in b" \t\r\n" \
                    and (i + 2 >= n or data[i + 2] in _WORD_END):
                self._closed = True
                return i + 2
            elif c == 0x29:  # )
                if parens:
                    parens -= 1
                elif stop == b")":
                    return i + 1
                elif test or bracket:
                    return i  # the `)` of an enclosing $( … )
                i += 1
                command_start = True
            elif c == 0x28:  # (
                if not test and data.startswith(b"((", i):
                    i, parens = self._double_paren(i, parens)
                else:
                    parens += 1
                    i += 1
                command_start = True
            elif c in (0x3C, 0x3E):  # < >
                i = self._redirection(i, test)
                command_start = False
            elif c == 0x3B:  # ;
                if bracket:
                    return i
                for op in (b";;&", b";&", b";;"):
                    if data.startswith(op, i):
                        if op != b";;":
                            self._add(i, i + len(op), "operator", (i, _OPERATORS[op]))
                        if cases and cases[-1] == "body":
                            cases[-1] = "pattern"
                        i += len(op)
                        break
                else:
                    i += 1
                command_start = True
            elif c in (0x26, 0x7C):  # & |
                if bracket:
                    return i
                i += 1
                command_start = True
            else:
                m = _PLAIN.match(data, i)
                word = m.group() if m is not None else b""
                end = i + max(len(word), 1)
                at_word = i == 0 or data[i - 1] in _WORD_END
                if command_start and word in (b"[[", b"[") and end < n and data[end] in b" \t\n":
                    i = self._test(i, word)
                    command_start = False
                    continue
                if command_start and at_word and data[i] == 0x5B:
                    # `['sh', '-c']`, `[x`: one word to bash, a test command's start to the grammar.
                    self._add(i, i + 1, "bracket", (i, b"_"))
                if command_start and word == b"case":
                    cases.append("word")
                elif cases and cases[-1] == "word" and word == b"in":
                    cases[-1] = "pattern"
                elif cases and command_start and word == b"esac":
                    cases.pop()
                elif command_start and word == b"for":
                    self._for(i)
                if at_word and _SUBSCRIPTED.match(data, i):
                    i = self._subscript(i, data.index(b"[", i))
                    command_start = False
                    continue
                assignment = _ASSIGNMENT.match(data, i) if command_start and at_word else None
                if assignment is not None and not data.startswith(b"(", assignment.end()):
                    self._assignment(i, assignment)
                    i = assignment.end()
                    continue  # words after an assignment may still be the command
                command_start = command_start and word in _LEADERS
                i = end
        return n

    def _test(self, start: int, opener: bytes) -> int:
        """`[[ … ]]`, or `[ … ]` (just a command to bash, ending with its line or list)."""
        self._enter()
        self._closed = False
        end = self._code(start + len(opener), b"]]" if opener == b"[[" else b"]")
        self._depth -= 1
        if opener == b"[":
            self._add(start, end, "bracket", (start, b"_"))
        elif self._closed and end - start > 6:
            self._add(start, end, "test")
        self._closed = False
        return end

    def _part(self, i: int, *, quoted: bool = False) -> int:
        """A quoted or expanded part of a word at `i` (one of _PART): the index after it.

        `quoted`: inside "…" or an unquoted heredoc body, where `'` is a plain character."""
        data, n = self.data, len(self.data)
        c = data[i]
        if c == 0x5C:
            return i + 2
        if c == 0x24:
            return self._dollar(i, quoted=quoted)
        if c == 0x60:
            return self._substitution(i, i + 1, b"`")
        if c == 0x22:
            return self._double(i + 1)
        if quoted:
            return i + 1
        end = data.find(b"'", i + 1)
        return self._quote_ends(i, n, closed=False) if end < 0 else self._quote_ends(i, end + 1)

    def _quote_ends(self, start: int, end: int, *, closed: bool = True) -> int:
        """Note a string that runs over lines or never ends: the suspects for an unterminated quote."""
        if not closed:
            self._unclosed(start)
        elif self.data.find(b"\n", start, end) >= 0:
            self.multiline.append(start)
        return end

    def _unclosed(self, start: int) -> None:
        if self.unclosed is None:
            self.unclosed = start

    def _double(self, i: int) -> int:
        """Inside "…": the index after the closing quote."""
        data, n = self.data, len(self.data)
        start = i - 1
        while i < n:
            c = data[i]
            if c == 0x22:
                return self._quote_ends(start, i + 1)
            i = self._part(i, quoted=True) if c in _PART else i + 1
        return self._quote_ends(start, n, closed=False)

    def _dollar(self, i: int, *, quoted: bool = False) -> int:
        data, n = self.data, len(self.data)
        nxt = data[i + 1:i + 2]
        if nxt == b"{":
            return self._expansion(i, quoted)
        if data.startswith(b"$((", i):
            return self._arithmetic_or_substitution(i)
        if nxt == b"(":
            return self._substitution(i, i + 2, b")")
        if nxt == b"'" and not quoted:  # $'…' with backslash escapes
            j = i + 2
            while j < n and data[j] != 0x27:
                j += 2 if data[j] == 0x5C else 1
            return j + 1
        if nxt == b'"' and not quoted:
            return self._double(i + 2)
        if nxt and nxt[0] not in _EXPANDS:
            self._add(i, i + 1, "dollar", (i, b"_"))
        return i + 1

    def _substitution(self, start: int, body: int, stop: bytes) -> int:
        if stop == b"`":
            self._leading_blanks(start, body)
        self._enter()
        end = self._code(body, stop)
        self._depth -= 1
        if end >= len(self.data) and not self.data.endswith(stop):
            self._unclosed(start)
        self.substitutions.append((start, end))
        return end

    def _leading_blanks(self, tick: int, body: int) -> None:
        """`` ` cmd` `` after an earlier backtick substitution: the grammar loses the
        blank-led one. The blanks moved before the backtick read the same command
        at the same offsets."""
        blanks = body
        while blanks < len(self.data) and self.data[blanks] in b" \t":
            blanks += 1
        if blanks > body:
            self._add(tick, blanks, "backtick", (tick, self.data[body:blanks] + b"`"))

    def _mark(self) -> tuple[int, int, int]:
        return len(self.found), len(self.substitutions), len(self._pending)

    def _rewind(self, mark: tuple[int, int, int]) -> None:
        del self.found[mark[0]:], self.substitutions[mark[1]:], self._pending[mark[2]:]

    def _double_paren(self, i: int, parens: int) -> tuple[int, int]:
        """`((` at `i`: an arithmetic command, or a subshell that starts with one."""
        mark = self._mark()
        end = self._arithmetic(i + 2)
        if end >= 0:
            return end, parens
        self._rewind(mark)
        return self._subshell(i + 1), parens + 1  # the outer `(` stays open in this code

    def _arithmetic_or_substitution(self, i: int) -> int:
        """`$((` at `i`: arithmetic, or a command substitution that starts with a subshell."""
        mark = self._mark()
        end = self._arithmetic(i + 3)
        if end >= 0:
            return end
        self._rewind(mark)
        self._enter()
        end = self._code(self._subshell(i + 2), b")")
        self._depth -= 1
        self.substitutions.append((i, end))
        return end

    def _subshell(self, at: int) -> int:
        """A subshell `(…)` the grammar takes for arithmetic; rewritten to run in its parent."""
        self._enter()
        end = self._code(at + 1, b")")
        self._depth -= 1
        self._add(at, end, "subshell", (at, b" "), (end - 1, b" "))
        return end

    def _expansion(self, start: int, quoted: bool) -> int:
        """`${…}` from its `$`: braces nest, quotes and substitutions are skipped."""
        self._enter()
        data, n = self.data, len(self.data)
        i, depth = start + 2, 1
        while i < n:
            c = data[i]
            if c in _PART:
                i = self._part(i, quoted=quoted)
            elif c == 0x7B:
                depth += 1
                i += 1
            elif c == 0x7D:
                depth -= 1
                i += 1
                if depth == 0:
                    self._add(start, i, "expansion")
                    break
            else:
                i += 1
        else:
            self._unclosed(start)
        self._depth -= 1
        return min(i, n)

    def _arithmetic(self, i: int) -> int:
        """Inside `$((…))` or `((…))`: the index after `))`, or -1 when a `)` closes
        a single paren first (then bash reads subshells, not arithmetic)."""
        self._enter()
        j = self._to_paren(i, lines=True)
        self._depth -= 1
        if j >= len(self.data):
            return j
        return j + 2 if self.data.startswith(b"))", j) else -1

    def _pattern(self, start: int) -> int:
        """A case item's patterns, from `start` to its `)`: the index after the `)`."""
        i = start + 1 if self.data[start] == 0x28 else start  # the optional `(` of `(x)`
        j = self._to_paren(i, lines=False)
        if self.data[j:j + 1] != b")":
            return j  # a newline or the end: not a pattern bash accepts
        self._add(start, j, "pattern")
        return j + 1

    def _to_paren(self, i: int, *, lines: bool) -> int:
        """The index of the `)` that closes at depth 0 from `i` (nested parens, quotes and
        expansions skipped), of a newline first unless `lines`, or len(data)."""
        data, n = self.data, len(self.data)
        depth = 0
        while i < n:
            c = data[i]
            if c in _PART:
                i = self._part(i)
                continue
            if c == 0x29 and not depth or c == 0x0A and not lines:
                return i
            depth += 1 if c == 0x28 else -1 if c == 0x29 else 0
            i += 1
        return n

    def _subscript(self, word: int, bracket: int) -> int:
        """`name[…]` at a word's start: a construct when `=` or `+=` follows."""
        data, n = self.data, len(self.data)
        self._enter()
        i, depth = bracket + 1, 1
        while i < n and data[i] != 0x0A:
            c = data[i]
            if c in _PART:
                i = self._part(i)
            elif c == 0x5B:
                depth += 1
                i += 1
            elif c == 0x5D:
                depth -= 1
                i += 1
                if depth == 0:
                    if data.startswith(b"=", i) or data.startswith(b"+=", i):
                        self._add(word, i, "subscript")
                    break
            else:
                i += 1
        self._depth -= 1
        return min(i, n)

    def _for(self, i: int) -> None:
        """`for x do` and `for x in;`: rewritten `for x;do` and `for x  ;`."""
        m = _FOR.match(self.data, i)
        if m is None:
            return
        if m.group(1):
            self._add(i, m.end(), "for", (m.start(1) - 1, b";"))
        else:
            self._add(i, m.end(), "for", (m.start(2), b"  "))

    def _assignment(self, i: int, m: re.Match[bytes]) -> None:
        """A command-position assignment: with a redirection before `&&` the grammar
        fails, so it may be read as a command named `NAME_value` instead."""
        end = self.data.find(b"\n", i)
        end = len(self.data) if end < 0 else end
        self._add(i, end, "assignment", (m.start(1), b"_" * (m.end() - m.start(1))))

    def _redirection(self, i: int, test: bool) -> int:
        data = self.data
        if test:
            return i + 1  # `<` `>` compare strings inside [[ ]]
        if data.startswith(b"<>", i):
            self._add(i, i + 2, "operator", (i, _OPERATORS[b"<>"]))
            return i + 2
        if data.startswith(b"<<<", i):
            # A here-string after another redirection (`jq . >/dev/null 2>&1 <<< "$r"`) is
            # an error to the grammar; as `<` from the same word it reads the same words.
            self._add(i, i + 3, "operator", (i, _OPERATORS[b"<<<"]))
            return i + 3
        if data.startswith(b"<(", i) or data.startswith(b">(", i):
            return self._substitution(i, i + 2, b")")
        m = _HEREDOC.match(data, i)
        if m is not None:
            self._pending.append((m.group(4), m.group(1) == b"-", bool(m.group(2) or m.group(3))))
            return m.end()
        return i + 1

    def _bodies(self, i: int) -> int:
        """Skip the heredoc bodies that start at `i`; scan unquoted ones for `$`."""
        data, n = self.data, len(self.data)
        pending, self._pending = self._pending, []
        for word, chomp, quoted in pending:
            while i < n:
                end = data.find(b"\n", i)
                end = n if end < 0 else end
                line = data[i:end]
                if (line.lstrip(b"\t") if chomp else line) == word:
                    i = end + 1
                    break
                j = end if quoted else i
                while j < end:
                    j = self._part(j, quoted=True) if data[j] in b"\\$`" else j + 1
                # a substitution may run past the line: the next line starts after it
                nl = data.find(b"\n", max(j, end))
                i = n if nl < 0 else nl + 1
        return min(i, n)
