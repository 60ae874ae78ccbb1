"""tree-sitter-bash plumbing: the parser, words after quote removal, and syntax errors.

Kept apart from `shell.py` so the format knowledge (which node types are words,
how bash removes quotes) sits in one place. tree-sitter is imported on first
use, not at import time: the CLI runs on every save and most runs have no
shell script in them.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from caplint.model import Located, Problem, Span
from caplint.formats.shell import heredocs as _heredocs

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

_PARSER: Parser | None = None

# Word parts whose value bash only knows at run time.
EXPANSION_TYPES = frozenset(
    {"simple_expansion", "expansion", "command_substitution", "arithmetic_expansion", "process_substitution"}
)
_ASTRAL = re.compile(rb"[\xf0-\xf4][\x80-\xbf]{3}")  # a 4-byte UTF-8 sequence
_COMMENT_SUBSTITUTION = re.compile(rb"`#[^`\n]*`")
_BARE_ESCAPE = re.compile(r"\\(\n|.)", re.DOTALL)
_DQ_ESCAPE = re.compile(r'\\([$`"\\\n])')
_ANSI_C = re.compile(r"\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)", re.DOTALL)
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
        self._lines: list[bytes] | None = None
        # tree-sitter-bash crashes (SIGSEGV) on some code points above the
        # BMP after `{` (private-use planes 15-16, tags…). Such characters only
        # ever sit inside words, strings and comments, so the tree is built from
        # a copy where each is four `_` bytes: same byte offsets, same spans.
        safe = self.data if self._ascii else _ASTRAL.sub(b"____", self.data)
        self.tree = _parser().parse(safe)
        if self.tree.root_node.has_error and b"<<" in safe:
            # Heredocs bash accepts and tree-sitter-bash does not: read again
            # without them, and believe that reading only if it is clean.
            repaired = _heredocs.blanked(safe)
            tree = _parser().parse(repaired) if repaired is not None else None
            if tree is not None and not tree.root_node.has_error:
                self.tree = tree
                safe = repaired  # type: ignore[assignment]
        if self.tree.root_node.has_error and b"`#" in safe:
            # `` `#optional` `` (READMEs mark optional flags so): bash closes the
            # backquote first, so the comment inside is empty; tree-sitter-bash
            # reads the comment to the end of the line. Blanked, same length.
            tree = _parser().parse(_COMMENT_SUBSTITUTION.sub(lambda m: b" " * len(m.group(0)), safe))
            if not tree.root_node.has_error:
                self.tree = tree

    def text(self, start: int, end: int) -> str:
        return _decode(self.data[start:end])

    def point(self, row: int, byte_column: int) -> tuple[int, int]:
        """1-based file line and character column of a tree-sitter point."""
        if self._ascii:
            return row + self.first_line, byte_column + 1
        if self._lines is None:
            self._lines = self.data.split(b"\n")
        line = self._lines[row] if row < len(self._lines) else b""
        return row + self.first_line, len(_decode(line[:byte_column])) + 1

    def span(self, first: Node, last: Node) -> Span:
        return Span(self.path, *self.point(*first.start_point), *self.point(*last.end_point))

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
    """One Problem for the first syntax error, with a message a human can act on."""
    root = src.tree.root_node
    if not root.has_error:
        return None
    node = _first_error(root)
    if node is None:
        return None
    message, anchor = _describe(node, src)
    line, column = src.point(*anchor.start_point)
    return Problem(Span.point(src.path, line, column), message)


def _first_error(root: Node) -> Node | None:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_missing or node.type == "ERROR":
            return node
        # children pushed in reverse so the earliest error is found first
        stack.extend(c for c in reversed(node.children) if c.has_error or c.is_missing)
    return None


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
