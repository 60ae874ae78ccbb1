"""Docker Bake files (`docker-bake.hcl`, `docker-bake.json`, `*.override.hcl`) → build Containers.

A Bake `target` is one build; its `entitlements` list is what the build may
do beyond the sandbox (Docker's Bake file reference): `security.insecure`
runs `RUN --security=insecure` steps unconfined (CAP102), `network.host`
gives the host network. Each `target "name" { … }` block is its own build
declaration, not `complete`: the container that runs the image is declared
elsewhere. A value with an interpolation (`"${ENT}"`) or another expression
is unknown, never guessed; `inherits` is not followed (the parent target's
own entitlements are reported where they are written).

HCL is read with tree-sitter-hcl, beside tree-sitter-bash: it keeps every
position, takes ~1 ms for a Bake file, and is error tolerant. python-hcl2 was
measured too: 0.3 s to import and 0.3 s per small file (a Lark grammar), and its
dict output has no positions. A syntax error is a CAP001 at its place, and the
rest of the file is still read. JSON is read through the YAML node tree (JSON is
YAML; the node marks give positions), after `json` has checked that it is JSON.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from caplint.formats import yamlnodes as yn
from caplint.model import Container, Located, ParseResult, Problem, Span
from caplint import lazyre

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

_PARSER: Parser | None = None
_ESCAPES = lazyre.compile(r'\\(["\\nrt])|\$\$\{|%%\{')
_ESCAPED = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def parse(text: str, path: str) -> ParseResult:
    if path.lower().endswith(".json"):
        return _parse_json(text, path)
    return _parse_hcl(text, path)


def _container(target: str, block: Span, entitlements: list[Located[str]]) -> Container:
    return Container(name=f"bake target {target}", span=block, source_kind="bake", complete=False,
                     build_entitlements=tuple(entitlements))


# --- HCL ---------------------------------------------------------------------

def _parser() -> Parser:
    global _PARSER
    if _PARSER is None:
        import tree_sitter_hcl
        from tree_sitter import Language, Parser

        _PARSER = Parser(Language(tree_sitter_hcl.language()))
    return _PARSER


class _Hcl:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.data = text.encode("utf-8", "surrogatepass")
        self.lines = self.data.split(b"\n")
        self.tree = _parser().parse(self.data)

    def text(self, node: Node) -> str:
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def point(self, row: int, byte_column: int) -> tuple[int, int]:
        line = self.lines[row] if row < len(self.lines) else b""
        return row + 1, len(line[:byte_column].decode("utf-8", "replace")) + 1

    def span(self, node: Node) -> Span:
        return Span(self.path, *self.point(*node.start_point), *self.point(*node.end_point))


def _parse_hcl(text: str, path: str) -> ParseResult:
    src = _Hcl(text, path)
    result = ParseResult()
    for block in _blocks(src.tree.root_node, "target", src):
        labels = [c for c in block.children if c.type in ("string_lit", "identifier")][1:]
        name = _string(labels[0], src).value if labels else "?"
        body = next((c for c in block.children if c.type == "body"), None)
        entitlements: list[Located[str]] = []
        for attr in body.children if body is not None else []:
            if attr.type == "attribute" and src.text(attr.children[0]) == "entitlements":
                entitlements += _list(attr.children[-1], src)
        result.containers.append(_container(name, src.span(block.children[0]), entitlements))
    if src.tree.root_node.has_error:
        result.problems.append(_first_error(src))
    return result


def _blocks(root: Node, kind: str, src: _Hcl) -> Iterator[Node]:
    body = next((c for c in root.children if c.type == "body"), None)
    for node in body.children if body is not None else []:
        if node.type == "block" and node.children and src.text(node.children[0]) == kind:
            yield node


def _list(expression: Node, src: _Hcl) -> list[Located[str]]:
    """The strings of a tuple expression (`["a", "${B}"]`); anything else is unknown."""
    tuples = [n for n in _descend(expression) if n.type == "tuple"][:1]
    if not tuples:
        return []
    return [_string(item, src) for item in tuples[0].children if item.type == "expression"]


def _descend(node: Node) -> Iterator[Node]:
    """`node` and its first children down to the first with several children."""
    while True:
        yield node
        if len(node.named_children) != 1:
            return
        node = node.named_children[0]


def _string(node: Node, src: _Hcl) -> Located[str]:
    """A string literal's value; a template with interpolations or any other expression is unresolved."""
    raw = src.text(node)
    leaf = list(_descend(node))[-1]
    if leaf.type == "string_lit":
        parts = [c for c in leaf.children if c.type == "template_literal"]
        value = _unescape("".join(src.text(p) for p in parts))
        return Located(value, src.span(leaf), src.text(leaf))
    if leaf.type == "identifier":  # a block label written bare
        return Located(raw, src.span(leaf), raw)
    return Located(raw.strip('"'), src.span(node), raw, resolved=False)


def _unescape(text: str) -> str:
    return _ESCAPES.sub(lambda m: _ESCAPED[m.group(1)] if m.group(1) else m.group(0)[1:], text)


def _first_error(src: _Hcl) -> Problem:
    stack = [src.tree.root_node]
    node = src.tree.root_node
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            break
        stack.extend(c for c in reversed(node.children) if c.has_error or c.is_missing)
    line, column = src.point(*node.start_point)
    if node.is_missing:
        message = f"HCL syntax error: missing {node.type!r}"
    else:
        near = src.text(node).split()
        message = f"HCL syntax error near {near[0][:20]!r}" if near else "HCL syntax error"
    return Problem(Span.point(src.path, line, column), message + " (docker buildx bake refuses this file)")


# --- JSON --------------------------------------------------------------------

def _parse_json(text: str, path: str) -> ParseResult:
    result = ParseResult()
    try:
        json.loads(text)
    except ValueError as err:
        line, column = getattr(err, "lineno", 1), getattr(err, "colno", 1)
        result.problems.append(Problem(Span.point(path, line, column), f"invalid JSON: {getattr(err, 'msg', err)}"))
        return result
    # Blanks between JSON tokens may be tabs, which YAML's flow style does not
    # always take; inside JSON strings a raw tab is not allowed. Same length: same positions.
    root, problem = yn.load(text.replace("\t", " "), path)
    if problem is not None or not yn.is_map(root):
        return result
    targets = yn.mapping_items(root).get("target")
    if targets is None or not yn.is_map(targets[1]):
        return result
    for name, (key, value) in yn.mapping_items(targets[1]).items():
        if not yn.is_map(value):
            continue
        found = yn.mapping_items(value).get("entitlements")
        entitlements = [_json_string(item, path) for item in found[1].value] if found and yn.is_seq(found[1]) else []
        result.containers.append(_container(name, yn.span(key, path), [e for e in entitlements if e is not None]))
    return result


def _json_string(node: Any, path: str) -> Located[str] | None:
    if not yn.is_scalar(node):
        return None
    value = str(node.value)
    return Located(value, yn.span(node, path), json.dumps(value), resolved="${" not in value)
