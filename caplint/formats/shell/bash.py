"""tree-sitter-bash plumbing: the parser, words after quote removal, and syntax errors.

Kept apart from `shell.py` so the format knowledge (which node types are words,
how bash removes quotes) sits in one place. tree-sitter is imported on first
use, not at import time: the CLI runs on every save and most runs have no
shell script in them.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from typing import TYPE_CHECKING

from caplint.model import Located, Problem, Span
from caplint.formats.shell import heredocs as _heredocs
from caplint.formats.shell import misreads as _misreads
from caplint import lazyre

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

_PARSER: Parser | None = None

# Word parts whose value bash only knows at run time.
EXPANSION_TYPES = frozenset(
    {"simple_expansion", "expansion", "command_substitution", "arithmetic_expansion", "process_substitution"}
)
_ASTRAL = lazyre.compile(rb"[\xf0-\xf4][\x80-\xbf]{3}")  # a 4-byte UTF-8 sequence
_NEWLINE = lazyre.compile(rb"\n")
_REPAIR_ROUNDS = 8  # readings after the first, each rewriting the constructs that hold an error
_COMMENT_SUBSTITUTION = lazyre.compile(rb"`#[^`\n]*`")
_BARE_ESCAPE = lazyre.compile(r"\\(\n|.)", re.DOTALL)
_DQ_ESCAPE = lazyre.compile(r'\\([$`"\\\n])')
_ANSI_C = lazyre.compile(r"\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)", re.DOTALL)
_ANSI_C_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b",
                  "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


def _parser() -> Parser:
    global _PARSER
    if _PARSER is None:
        import tree_sitter_bash
        from tree_sitter import Language, Parser

        _PARSER = Parser(Language(tree_sitter_bash.language()))
    return _PARSER


class Source:
    """One text being parsed: its bytes, its tree, and byte → line/column mapping."""

    def __init__(self, text: str, path: str, first_line: int = 1) -> None:
        self.path = path
        self.first_line = first_line
        # surrogatepass: text decoded with surrogateescape (bad UTF-8 on disk)
        # must still encode; tree-sitter only sees bytes.
        self.data = text.encode("utf-8", "surrogatepass")
        self._ascii = text.isascii()
        self._starts: list[int] | None = None
        # tree-sitter-bash crashes (SIGSEGV) on some code points above the
        # BMP after `{` (private-use planes 15-16, tags…). Such characters only
        # ever sit inside words, strings and comments, so the tree is built from
        # a copy where each is four `_` bytes: same byte offsets, same spans.
        safe = self.data if self._ascii else _ASTRAL.sub(b"____", self.data)
        self.tree = _read(safe)
        if self.tree.root_node.has_error and safe.rstrip(b"\n").endswith(b"\\"):
            # A `\` continuing the last line into the end of the file: bash ends
            # the command there, tree-sitter-bash calls it an error. Read again
            # with that backslash blanked (same offsets); believe a clean reading.
            end = len(safe.rstrip(b"\n")) - 1
            tree = _read(safe[:end] + b" " + safe[end + 1:])
            if not tree.root_node.has_error:
                self.tree = tree
        if self.tree.root_node.has_error and b"`#" in safe:
            # `` `#optional` `` (READMEs mark optional flags so): bash closes the
            # backquote first, so the comment inside is empty; tree-sitter-bash
            # reads the comment to the end of the line. Blanked, same length.
            tree = _read(_COMMENT_SUBSTITUTION.sub(lambda m: b" " * len(m.group(0)), safe))
            if not tree.root_node.has_error:
                self.tree = tree

    def text(self, start: int, end: int) -> str:
        return _decode(self.data[start:end])

    def point(self, offset: int) -> tuple[int, int]:
        """1-based file line and character column of a byte offset.

        From the bytes, not from tree-sitter's rows: a repaired reading may
        have turned a newline inside a construct into a blank."""
        if self._starts is None:
            self._starts = [0] + [m.end() for m in _NEWLINE.finditer(self.data)]
        row = bisect_right(self._starts, offset) - 1
        start = self._starts[row]
        column = offset - start if self._ascii else len(_decode(self.data[start:offset]))
        return row + self.first_line, column + 1

    def span(self, first: Node, last: Node) -> Span:
        return Span(self.path, *self.point(first.start_byte), *self.point(last.end_byte))

    def command_nodes(self) -> list[Node]:
        """Every simple command, in document order, wherever it is nested.

        A cursor walk, not a Query: a query cursor is quadratic on deeply
        nested trees (50,000 nested `$(`: 23 s, and it stops early there);
        the walk is linear and as fast on real scripts."""
        out: list[Node] = []
        cursor = self.tree.walk()
        while True:
            node = cursor.node
            if node is not None and node.type == "command":
                out.append(node)
            if cursor.goto_first_child():
                continue
            while not cursor.goto_next_sibling():
                if not cursor.goto_parent():
                    return out


def _read(data: bytes) -> Tree:
    """The tree of `data`, or of a repaired copy when the grammar misreads it.

    A repair rewrites constructs bash accepts and the grammar does not (see
    `heredocs` and `misreads`) into same-length forms it reads, so every byte
    offset stays true. Each round rewrites the constructs around the current
    tree's errors and those its ERROR nodes swallowed (the grammar's recovery
    often shows one misread at a time); a last reading rewrites every
    construct at once. A clean reading wins; when an error remains, the
    reading with the fewest errors is kept, so the error reported is the real
    one and the commands after a misread are still read.
    """
    tree = _parser().parse(data)
    errors = _errors(tree)
    if not errors or len(data) > _misreads.MAX_SIZE:
        return tree
    best, fewest = tree, len(errors)
    if b"<<" in data:
        blanked = _heredocs.blanked(data)
        if blanked is not None:
            data, tree = blanked, _parser().parse(blanked)
            errors = _errors(tree)
    constructs = _misreads.Constructs(data)
    chosen: set[_misreads.Construct] = set()
    for _ in range(_REPAIR_ROUNDS):
        if not errors:
            return tree
        if len(errors) < fewest:
            best, fewest = tree, len(errors)
        more = constructs.enclosing([p for error in errors for p in error], chosen) | constructs.within(errors, chosen)
        if not more:
            break
        chosen |= more
        tree = _parser().parse(constructs.neutralised(chosen))
        errors = _errors(tree)
    if not errors:
        return tree
    if len(errors) < fewest:
        best, fewest = tree, len(errors)
    rewritable = constructs.rewritable()
    everything = _parser().parse(constructs.neutralised(rewritable))
    left = _errors(everything)
    if not left:
        return everything
    # With every other construct rewritten, an assignment misread (`a=1 2>/dev/null
    # && …`) that an earlier misread's ERROR swallowed is all that can be left.
    swallowed = constructs.within(left, set(), assignments=True)
    if swallowed:
        last = _parser().parse(constructs.neutralised([*rewritable, *swallowed]))
        if not _errors(last):
            return last
    return best


def _errors(tree: Tree, limit: int = 64) -> list[tuple[int, int]]:
    """The first `limit` ERROR and MISSING nodes, in document order, as byte ranges:
    an ERROR node's own, a MISSING node's from the start of what it would close."""
    out: list[tuple[int, int]] = []
    for node in _error_nodes(tree.root_node):
        parent = node.parent
        out.append((parent.start_byte if node.is_missing and parent is not None else node.start_byte,
                    node.end_byte))
        if len(out) == limit:
            break
    return out


def _error_nodes(top: Node, *, cut_off_at: int = -1) -> Iterator[Node]:
    """ERROR and MISSING nodes under `top` (itself included), in document order.

    With `cut_off_at` (the end of the file), not a heredoc the end of the file
    cuts off: bash reads that body to the end (with a warning), and so does the
    grammar."""
    stack = [top]
    while stack:
        node = stack.pop()
        if (node.is_missing or node.type == "ERROR") \
                and not (node.type == "heredoc_end" and node.is_missing and node.start_byte == cut_off_at):
            yield node
        # children pushed in reverse so the earliest error comes first
        stack.extend(c for c in reversed(node.children) if c.has_error or c.is_missing)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:  # a slice through a multi-byte character
        return data.decode("utf-8", "replace")


def name_node(command: Node) -> Node | None:
    name = command.child_by_field_name("name")
    return name.named_children[0] if name is not None and name.named_children else None


def word_groups(command: Node, src: Source) -> Iterator[list[Node]]:
    """The command's words (name first), each as the nodes that make it up.

    tree-sitter splits a few things bash reads as one word — `$"…"`, and a
    word broken by `\\`-newline with no blank around it — into touching
    nodes; they are joined back here.
    """
    name = name_node(command)
    nodes = ([name] if name is not None else []) + command.children_by_field_name("argument")
    group: list[Node] = []
    for node in nodes:
        if group and (node.start_byte == group[-1].end_byte
                      or src.data[group[-1].end_byte:node.start_byte] == b"\\\n"):
            group.append(node)
            continue
        if group:
            yield group
        group = [node]
    if group:
        yield group


def located(group: list[Node], src: Source) -> Located[str]:
    first, last = group[0], group[-1]
    parts: list[str] = []
    resolved = True
    for i, node in enumerate(group):
        if node.type == "$" and i + 1 < len(group) and group[i + 1].type == "string":
            continue  # $"…" is a translated string: the $ is quoting, not text
        value, known = _evaluate(node, src)
        parts.append(value)
        resolved = resolved and known
    raw = src.text(first.start_byte, last.end_byte)
    return Located("".join(parts), src.span(first, last), raw, resolved)


def value_of(node: Node, src: Source) -> str:
    """A single node's value after quote removal, without locating it (a fast pre-check)."""
    return _evaluate(node, src)[0]


def _evaluate(node: Node, src: Source) -> tuple[str, bool]:
    """A word part's value after quote removal, and whether it is known statically."""
    kind = node.type
    raw = src.text(node.start_byte, node.end_byte)
    if kind in ("word", "number"):
        return _BARE_ESCAPE.sub(_unescape_bare, raw), True
    if kind == "raw_string":
        return raw[1:-1], True
    if kind == "ansi_c_string":
        return _ANSI_C.sub(_unescape_ansi_c, raw[2:-1]), True
    if kind in EXPANSION_TYPES:
        return raw, False
    if kind in ("string", "translated_string", "concatenation"):
        return _evaluate_children(node, src)
    # brace expansion, extglob and anything newer: keep the spelling, admit we do not know.
    return raw, False


def _evaluate_children(node: Node, src: Source) -> tuple[str, bool]:
    quoted = node.type != "concatenation"
    start, end = node.start_byte, node.end_byte
    if quoted:  # drop the quotes ("…" or $"…")
        start = node.children[0].end_byte if node.children else start
        end = end - 1 if src.data[end - 1:end] == b'"' and end - 1 >= start else end
    parts: list[str] = []
    resolved = True
    cursor = start
    for child in node.children:
        if child.end_byte <= start or child.start_byte >= end:
            continue  # the quote tokens
        if child.start_byte > cursor:
            parts.append(_literal(src.text(cursor, child.start_byte), quoted))
        if quoted and child.type == "string_content":
            value, known = _literal(src.text(child.start_byte, child.end_byte), True), True
        elif quoted and child.type not in EXPANSION_TYPES:
            value, known = src.text(child.start_byte, child.end_byte), True
        else:
            value, known = _evaluate(child, src)
        parts.append(value)
        resolved = resolved and known
        cursor = child.end_byte
    if cursor < end:
        parts.append(_literal(src.text(cursor, end), quoted))
    return "".join(parts), resolved


def _literal(text: str, quoted: bool) -> str:
    return _DQ_ESCAPE.sub(_unescape_bare, text) if quoted else _BARE_ESCAPE.sub(_unescape_bare, text)


def _unescape_bare(m: re.Match[str]) -> str:
    return "" if m.group(1) == "\n" else m.group(1)


def _unescape_ansi_c(m: re.Match[str]) -> str:
    code = m.group(1)
    if code[0] == "x" and len(code) > 1:
        return chr(int(code[1:], 16))
    if code[0] in "01234567":
        return chr(int(code, 8) & 0xFF)
    return _ANSI_C_SIMPLE.get(code, "\\" + code)


def first_problem(src: Source) -> Problem | None:
    """One Problem for the first syntax error, at the line where it is written.

    The grammar's first error node can start far above the cause (an ERROR
    that swallowed the file from its first line), so the place is found in two
    steps: a quote or substitution that never ends is located by bash's own
    lexing rules (`misreads.Constructs`); otherwise the innermost error node is
    the one reported."""
    root = src.tree.root_node
    if not root.has_error:
        return None
    node = next(_error_nodes(root, cut_off_at=root.end_byte), None)
    if node is None:
        return None
    lexed = _misreads.Constructs(src.data)
    if lexed.unclosed is not None:
        start = lexed.culprit()
        message = _unclosed_message(src.data[start:start + 2])
        return Problem(Span.point(src.path, *src.point(start)), message)
    while (inner := next((d for d in _error_nodes(node) if d is not node), None)) is not None:
        node = inner
    message, anchor = _describe(node, src)
    return Problem(Span.point(src.path, *src.point(anchor.start_byte)), message)


def _unclosed_message(opening: bytes) -> str:
    if opening[:1] in (b"'", b'"'):
        return f"unterminated quoted string ({opening[:1].decode()}) starting here"
    opener, closer = {b"${": ("${", "}"), b"$(": ("$(", ")"), b"<(": ("<(", ")"), b">(": (">(", ")")}.get(
        opening, ("`", "`"))
    return f"shell syntax error: {opener!r} started here is never closed (missing {closer!r})"


def _describe(node: Node, src: Source) -> tuple[str, Node]:
    """The message for an error node, and the node whose start the message is about."""
    parent = node.parent
    if node.is_missing and parent is not None:
        if node.type == "heredoc_end":
            start = next((c for c in parent.children if c.type == "heredoc_start"), None)
            word = src.text(start.start_byte, start.end_byte).strip("'\"") if start is not None else "EOF"
            return f"here-document started here is never terminated (no line {word!r})", parent
        opener = _first_leaf(parent)
        spelled = src.text(opener.start_byte, opener.end_byte)[:20]
        return f"shell syntax error: {spelled!r} started here is never closed (missing {node.type!r})", opener
    leaf = _first_leaf(node)
    opening = src.text(leaf.start_byte, min(leaf.end_byte, leaf.start_byte + 40))
    quote = opening[1:2] if opening[:1] == "$" else opening[:1]
    if quote in ("'", '"', "`"):
        return f"unterminated quoted string ({quote}) starting here", leaf
    token = opening.split()[0][:20] if opening.split() else "end of file"
    return f"shell syntax error near {token!r}", leaf


def _first_leaf(node: Node) -> Node:
    while node.children:
        node = node.children[0]
    return node
