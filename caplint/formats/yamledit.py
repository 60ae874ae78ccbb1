"""Reading an edited YAML document again by re-parsing only the entry the edit is in.

The language server lints a buffer on every change, and nearly every change
is inside one entry one level below a top-level key (one service under
`services:`). That entry is parsed alone, from a stand-in text that has it at
the same lines and columns under the same top-level key, followed by the line
that follows it in the document (so each node ends exactly where it ends in
the whole text), and put in place of the old entry in a copy of the old tree.
Every other node *is* the old node, so what a parser built from it can be
reused by identity (`caplint.formats.compose.parser.Reuse`).

This is done only where the result is certainly the tree parsing the whole
text gives (`tests/test_yamledit.py` compares them node by node after random
edits), and otherwise the whole text is parsed:
- the edit stays strictly inside one entry (its key line unchanged) and
  writes no directive or document marker; when it moves lines (a line
  typed or deleted) or touches the text's last line, the entry and all
  after it are parsed (their lines moved), the entries before it kept;
- the old tree was read by libyaml (not the YAML 1.2 fallback, whose verdict
  on the whole text could differ) and has no alias, so no node is shared by
  the entry and the rest (an alias the edit adds to an anchor outside the
  entry makes the stand-in fail: the whole text is parsed);
- its entries are laid out as block mapping keys `name:` alone on their line,
  each entry's value between its key line and the next key's, as the nodes
  themselves say;
- the stand-in parses (by libyaml), to exactly that entry (plus the next
  key, when one follows) or those entries and top-level keys, each key where
  it should be, with no alias in it.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from caplint.formats import yamlnodes as yn
from caplint.model import Problem


class Layout:
    """Where the entries of one top-level key's block mapping are written:
    each entry runs from its key's line to the next key's (the last to `end`,
    the next top-level key's line or the end of the text)."""

    __slots__ = ("parent", "at", "indent", "names", "starts", "end")

    def __init__(self, parent: str, at: int, indent: int, names: list[str], starts: list[int], end: int) -> None:
        self.parent = parent  # the top-level key
        self.at = at  # its index among the root's entries
        self.indent = indent  # the entries' keys' column (0-based)
        self.names = names
        self.starts = starts  # each entry's key line (0-based)
        self.end = end


class Loaded:
    """A document as last read: its text, root node (None: empty or not
    parsed), the problem that stopped parsing, and the layout that lets the
    next edit be read in place (None: the next read parses the whole text)."""

    __slots__ = ("text", "lines", "root", "problem", "layout")

    def __init__(self, text: str, lines: list[str], root: Any, problem: Problem | None, layout: Layout | None) -> None:
        self.text = text
        self.lines = lines
        self.root = root
        self.problem = problem
        self.layout = layout


def load(text: str, path: str, parent: str, last: Loaded | None = None) -> Loaded:
    """`text` read as yamlnodes.load reads it; after `last` (the same
    document before an edit) only the entry under `parent` the edit is in."""
    if last is not None and last.layout is not None:
        if text == last.text:
            return last
        again = _reread(text, last, last.layout)
        if again is not None:
            return again
    lines = text.split("\n")
    if any(other in text for other in yn.OTHER_BREAKS) or yn.too_deep(text):
        root, problem = yn.load(text, path)
        return Loaded(text, lines, root, problem, None)
    root = yn.compose_libyaml(text)
    if root is yn.REFUSED:
        root, problem = yn.load(text, path)  # the pure-Python parser's verdict
        return Loaded(text, lines, root, problem, None)
    return Loaded(text, lines, root, None, _layout(lines, root, parent))


def _layout(lines: list[str], root: Any, parent: str) -> Layout | None:
    if not yn.is_map(root) or root.flow_style or any(line.startswith("%") for line in lines):
        return None
    at = next((i for i, (key, _) in enumerate(root.value) if _plain(key) and key.value == parent), None)
    if at is None or _aliased(root):
        return None
    key, mapping = root.value[at]
    if not yn.is_map(mapping) or mapping.flow_style or not mapping.value or key.start_mark.column != 0:
        return None
    end = root.value[at + 1][0].start_mark.line if at + 1 < len(root.value) else len(lines)
    indent = mapping.value[0][0].start_mark.column
    names: list[str] = []
    starts: list[int] = []
    for name_node, _ in mapping.value:
        line = name_node.start_mark.line
        if not _plain(name_node) or name_node.start_mark.column != indent or not _key_line(lines[line], indent, name_node.value):
            return None
        names.append(name_node.value)
        starts.append(line)
    if len(set(names)) != len(names) or indent == 0:
        return None
    for i, (_, value) in enumerate(mapping.value):
        # The value's nodes must lie between its key's line and the next key's.
        next_start = starts[i + 1] if i + 1 < len(starts) else end
        if value.start_mark.line < starts[i] or _last_line(value) >= next_start:
            return None
    between = lines[key.start_mark.line + 1:starts[0]]
    if not _key_line(lines[key.start_mark.line], 0, parent) or any(_content(line) for line in between):
        return None
    if any(line.startswith(("---", "...")) for line in lines[key.start_mark.line:end]):
        return None
    return Layout(parent, at, indent, names, starts, end)


def _reread(text: str, last: Loaded, layout: Layout) -> Loaded | None:
    lines = text.split("\n")
    old = last.lines
    shortest = min(len(lines), len(old))
    first = next((i for i in range(shortest) if lines[i] != old[i]), shortest)
    kept_tail = next((n for n in range(shortest - first) if lines[-1 - n] != old[-1 - n]), shortest - first)
    changed = lines[first:len(lines) - kept_tail]  # in place of old[first:len(old) - kept_tail]
    index = next((i for i, start in enumerate(layout.starts) if start >= first), len(layout.starts)) - 1
    if index < 0:
        return None
    stop = layout.starts[index + 1] if index + 1 < len(layout.starts) else layout.end
    if len(old) - kept_tail > stop:
        return None  # the edit reaches past the entry
    if any(line.startswith(("%", "---", "...")) for line in changed) or any(
            other in line for line in changed for other in yn.OTHER_BREAKS) or yn.too_deep(text):
        return None
    if len(lines) == len(old) and kept_tail:
        return _reread_entry(text, lines, last, layout, index, stop)
    return _reread_from(text, lines, last, layout, index)


def _reread_entry(text: str, lines: list[str], last: Loaded, layout: Layout, index: int, stop: int) -> Loaded | None:
    """The entry alone (its lines up to `stop`), the rest of the tree kept: the
    edit moved no line (and left the last alone, where the stream's end mark is)."""
    start = layout.starts[index]
    stand_in = [""] * len(lines)
    stand_in[start - 1] = f"{layout.parent}:"
    stand_in[start:stop] = lines[start:stop]
    follows = stop < len(lines)
    if follows:
        stand_in[stop] = lines[stop]  # the next key: each node ends where the next token starts
    root = yn.compose_libyaml("\n".join(stand_in))
    sibling = follows and stop < layout.end  # the next line is the next entry's key, not a top-level one
    if root is yn.REFUSED or not (yn.is_map(root) and len(root.value) == 1 + (follows and not sibling)):
        return None
    mapping = _entries_of(root, layout, 1 + sibling)
    if mapping is None:
        return None
    key, value = mapping.value[0]
    if not _is_key(key, layout.names[index], start, layout.indent) or _aliased(value):
        return None
    old_key, old_mapping = last.root.value[layout.at]
    entries = list(old_mapping.value)
    entries[index] = (key, value)
    return Loaded(text, lines, _spliced(last.root, layout.at, old_key, old_mapping, entries, None), None, layout)


def _reread_from(text: str, lines: list[str], last: Loaded, layout: Layout, index: int) -> Loaded | None:
    """The entry and everything after it (whose lines the edit moved), the
    entries before it kept."""
    shift = len(lines) - len(last.lines)
    start = layout.starts[index]
    stand_in = [""] * start
    stand_in[start - 1] = f"{layout.parent}:"
    root = yn.compose_libyaml("\n".join(stand_in + lines[start:]))
    old_root = last.root
    after = old_root.value[layout.at + 1:]  # the top-level entries after the parent's
    if root is yn.REFUSED or not (yn.is_map(root) and len(root.value) == 1 + len(after)) or _aliased(root):
        return None
    mapping = _entries_of(root, layout, len(layout.names) - index)
    if mapping is None:
        return None
    starts = [*layout.starts[:index + 1], *(line + shift for line in layout.starts[index + 1:])]
    for (key, _), name, line in zip(mapping.value, layout.names[index:], starts[index:]):
        if not _is_key(key, name, line, layout.indent):
            return None
    for (key, _), (old_key, _) in zip(root.value[1:], after):
        if not (yn.is_scalar(key) and key.value == old_key.value and key.start_mark.line == old_key.start_mark.line + shift):
            return None
    parent_key, old_mapping = old_root.value[layout.at]
    entries = [*old_mapping.value[:index], *mapping.value]
    spliced = _spliced(old_root, layout.at, parent_key, old_mapping, entries, (root, mapping))
    spliced.value[layout.at + 1:] = root.value[1:]
    end = layout.end + shift if layout.end < len(last.lines) else len(lines)
    moved = Layout(layout.parent, layout.at, layout.indent, layout.names, starts, end)
    return Loaded(text, lines, spliced, None, moved)


def _entries_of(root: Any, layout: Layout, count: int) -> Any:
    """The stand-in's block mapping under the parent key, if it has `count` entries."""
    parent_key, mapping = root.value[0]
    if (_plain(parent_key) and parent_key.value == layout.parent and yn.is_map(mapping)
            and not mapping.flow_style and len(mapping.value) == count):
        return mapping
    return None


def _is_key(key: Any, name: str, line: int, column: int) -> bool:
    return _plain(key) and key.value == name and key.start_mark.line == line and key.start_mark.column == column


def _spliced(old_root: Any, at: int, parent_key: Any, old_mapping: Any, entries: list[Any],
             ends: tuple[Any, Any] | None) -> Any:
    """A copy of the old root whose parent entry holds `entries` (the old tree
    is left as it was); `ends`: the stand-in's root and mapping, whose end
    marks are the new text's where the edit moved them."""
    mapping = copy.copy(old_mapping)
    mapping.value = entries
    root = copy.copy(old_root)
    root.value = list(old_root.value)
    root.value[at] = (parent_key, mapping)
    if ends is not None:
        root.end_mark, mapping.end_mark = ends[0].end_mark, ends[1].end_mark
    return root


def _plain(node: Any) -> bool:
    return yn.is_scalar(node) and not node.style and isinstance(node.value, str)


def _key_line(line: str, indent: int, name: str) -> bool:
    """`line` is `name:` at `indent`, nothing after it but a comment."""
    if line[:indent].strip(" ") or not line.startswith(f"{name}:", indent):
        return False
    rest = line[indent + len(name) + 1:]
    return not rest.strip() or (rest[:1] in (" ", "\t") and rest.lstrip().startswith("#"))


def _content(line: str) -> bool:
    """Not blank and not only a comment."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _nodes(node: Any) -> Iterator[Any]:
    todo = [node]
    while todo:
        node = todo.pop()
        yield node
        if node.id == "mapping":
            for key, value in node.value:
                todo += (key, value)
        elif node.id == "sequence":
            todo += node.value


def _aliased(node: Any) -> bool:
    """Whether an alias is in the tree: a node reached twice (ruamel's composer
    keeps no anchor names on nodes; an alias is the anchor's node itself)."""
    seen: set[int] = set()
    for n in _nodes(node):
        if id(n) in seen:
            return True
        seen.add(id(n))
    return False


def _last_line(node: Any) -> int:
    """The last line the node's own text is on: a collection's end mark is
    where the token after it starts, and a scalar's may be at the start of the
    line after its last (a block scalar's line break)."""
    last: int = node.start_mark.line
    for n in _nodes(node):
        line = n.start_mark.line
        if n.id == "scalar":
            end = n.end_mark
            line = end.line - 1 if end.column == 0 and end.line > n.start_mark.line else end.line
        last = max(last, line)
    return last
