"""JSON with comments (devcontainer.json) → a small located value tree, by tree-sitter-json.

tree-sitter-json is a real JSON grammar in C (it sits beside tree-sitter-bash,
same binding): it keeps every value's position, knows `//` and `/* */`
comments, and recovers from errors instead of stopping, as the devcontainer
CLI's own reader does (VS Code's jsonc-parser: it reads what it can and only
refuses a file whose root is not an object). Trailing commas, which the CLI
and the devcontainer.json schema allow, leave error nodes in the tree that
are simply not values here.

tree-sitter is imported on first use, so runs without a devcontainer.json
never load it.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from caplint.model import Located, Span
from caplint import values
from caplint.values import field

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

_PARSER: Parser | None = None
_SCALARS = {"true": True, "false": False, "null": None}


def _parser() -> Parser:
    global _PARSER
    if _PARSER is None:
        import tree_sitter_json
        from tree_sitter import Language, Parser

        _PARSER = Parser(Language(tree_sitter_json.language()))
    return _PARSER


@values.value
class Value:
    """One JSON value where it is written. `kind` is object, array, string, number,
    true, false or null; strings are decoded, and `raw`/`inner` are the text
    between the quotes and its span."""

    kind: str
    span: Span
    value: Any = None
    raw: str = ""
    inner: Span | None = None
    items: list[Value] = field(default_factory=list)
    pairs: dict[str, tuple[Value, Value]] = field(default_factory=dict)

    def get(self, key: str) -> Value | None:
        pair = self.pairs.get(key)
        return pair[1] if pair is not None else None

    def located(self) -> Located[str]:
        """A string as a Located on the characters between its quotes."""
        assert self.inner is not None
        return Located(str(self.value), self.inner, self.raw)


class _Source:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.data = text.encode("utf-8", "surrogatepass")
        self.ascii = text.isascii()
        self.lines = self.data.split(b"\n") if not self.ascii else []

    def point(self, row: int, byte_column: int) -> tuple[int, int]:
        if self.ascii:
            return row + 1, byte_column + 1
        line = self.lines[row] if row < len(self.lines) else b""
        return row + 1, len(line[:byte_column].decode("utf-8", "replace")) + 1

    def span(self, node: Node, trim: int = 0) -> Span:
        (r0, c0), (r1, c1) = node.start_point, node.end_point
        return Span(self.path, *self.point(r0, c0 + trim), *self.point(r1, c1 - trim))

    def text(self, node: Node) -> str:
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "surrogatepass")


def parse(text: str, path: str) -> Value | None:
    """The document's top-level value (the first one), or None when there is none."""
    src = _Source(text, path)
    root = _parser().parse(src.data).root_node
    if root.has_error and not _clean_top(root):
        # A file cut off in the middle (`{"runArgs": ["--privileged"`): tree-sitter
        # gives up on its structure, jsonc-parser reads on to the end. Read it
        # again with the brackets still open closed after the end, positions kept.
        closed = _closers(src.data)
        if closed:
            root = _parser().parse(src.data + closed).root_node
    for node in root.named_children if root.type == "document" else [root]:
        if node.type not in ("comment", "ERROR"):
            return _value(node, src)
    return None


def _clean_top(root: Node) -> bool:
    return root.type == "document" and any(c.type in ("object", "array") for c in root.named_children)


def _closers(data: bytes) -> bytes:
    """What closes every string, array and object still open at the end of `data`."""
    stack: list[int] = []
    i, n = 0, len(data)
    in_string = False
    while i < n:
        c = data[i]
        if in_string:
            if c == 0x5C:  # backslash
                i += 1
            elif c == 0x22:
                in_string = False
        elif c == 0x22:
            in_string = True
        elif data.startswith(b"//", i):
            end = data.find(b"\n", i)
            i = n if end < 0 else end
        elif data.startswith(b"/*", i):
            end = data.find(b"*/", i + 2)
            i = n if end < 0 else end + 1
        elif c in (0x7B, 0x5B):
            stack.append(0x7D if c == 0x7B else 0x5D)
        elif c in (0x7D, 0x5D) and stack and stack[-1] == c:
            stack.pop()
        i += 1
    return (b'"' if in_string else b"") + bytes(reversed(stack))


def _recovered(node: Node) -> list[Node]:
    """A container's children, with those tree-sitter put inside error nodes
    (after a stray comma) taken out again: jsonc-parser skips the bad token and
    keeps reading the values that follow, and so does this."""
    out: list[Node] = []
    for child in node.named_children:
        if child.type == "ERROR":
            out += _recovered(child)
        else:
            out.append(child)
    return out


def _value(node: Node, src: _Source) -> Value | None:
    kind = node.type
    if node.is_missing:
        return None
    span = src.span(node)
    if kind == "object":
        out = Value("object", span)
        for pair in _recovered(node):
            if pair.type != "pair":
                continue
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            if key is None or value is None or key.type != "string":
                continue
            k, v = _value(key, src), _value(value, src)
            if k is not None and v is not None:
                out.pairs[str(k.value)] = (k, v)
        return out
    if kind == "array":
        items = [_value(c, src) for c in _recovered(node) if c.type != "comment"]
        return Value("array", span, items=[i for i in items if i is not None])
    if kind == "string":
        whole = src.text(node)
        if not (len(whole) >= 2 and whole.endswith('"')) or node.has_error:
            return None  # an unterminated string: no value to read
        raw = whole[1:-1]
        try:
            decoded = json.loads(whole) if "\\" in raw else raw
        except ValueError:
            decoded = raw
        return Value("string", span, decoded, raw, src.span(node, trim=1))
    if kind == "number":
        return Value("number", span, src.text(node), src.text(node))
    if kind in _SCALARS:
        return Value(kind, span, _SCALARS[kind], kind)
    return None
