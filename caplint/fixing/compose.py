"""Compose edits: keys and list entries spliced into a service as it is written.

Every edit is the smallest splice that does the job, in the file's own style:
an entry joins a flow list (`[CHOWN]` → `[CHOWN, SETUID]`) or a block list (a
new `- SETUID` line with the dashes of the line above), quoted as the entries
beside it are; a new key goes after the service's last line at its keys'
indentation, as a flow or block list like the file's other lists. Nothing else
in the file changes, so comments, order and quoting stay byte for byte.

Refused, with the reason: a service that is an alias or carries an anchor
(other services share it), a list that comes from a merge key, an alias or
another file (`extends`, an override), a `${VAR}`, a flow-mapping service, and
a block scalar that keeps its trailing blank lines (`|+`, whose value an
inserted line would change).
"""
from __future__ import annotations

import re
from typing import Any

from caplint import advice
from caplint.formats import yamlnodes as yn
from caplint.fixing.splice import as_fix
from caplint.model import Container, Edit, Fix, Remedy, Span

_KEEP = re.compile(r"[:\-]\s*[|>][1-9]?\+")
_DASH = re.compile(r"(\s*)-(\s+)")
_FIELDS = ("cap_add", "cap_drop", "security_opt")


class _Service:
    """A service as written: its key, its mapping, its own keys, and its lines."""

    def __init__(self, key: Any, node: Any, lines: list[str]) -> None:
        self.key = key
        self.node = node
        self.own: dict[str, tuple[Any, Any]] = {}
        self.merged: set[str] = set()  # the keys its `<<` merge keys bring
        for k, v in node.value:
            if k.tag == yn.MERGE or (yn.is_scalar(k) and k.value == "<<" and not k.style):
                for source in (v.value if yn.is_seq(v) else [v]):
                    self.merged |= set(yn.mapping_items(source)) if yn.is_map(source) else {"<<"}
            elif yn.is_scalar(k):
                self.own[k.value] = (k, v)
        first = node.value[0][0] if node.value else key
        self.indent = first.start_mark.column
        self.first = key.start_mark.line
        self.last = _last_line(lines, self.first, key.start_mark.column)


def _last_line(lines: list[str], first: int, column: int) -> int:
    """The service's last line that is not blank or a comment: the lines after its
    key that are indented deeper than it, up to the next that is not."""
    last = first
    for j in range(first + 1, len(lines)):
        stripped = lines[j].strip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(lines[j]) - len(lines[j].lstrip()) <= column:
            break
        last = j
    return last


class ComposeFile:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.lines = text.split("\n")
        root, problem = yn.load(text, path)
        self.services: dict[tuple[int, int], tuple[Any, Any]] = {}
        if problem is None and yn.is_map(root):
            top = yn.mapping_items(root)
            services = top.get("services", (None, None))[1]
            if yn.is_map(services):
                for key, node in services.value:
                    self.services[(key.start_mark.line + 1, key.start_mark.column + 1)] = (key, node)
        self._styles: tuple[bool, int, str] | None = None

    # -- finding the service --------------------------------------------

    def _own(self, c: Container) -> tuple[Any, Any] | str:
        """The service's key and mapping, when it has a mapping of its own to edit."""
        if c.span.path != self.path:
            return "the service is declared in another file of the stack: fix it there"
        found = self.services.get((c.span.line, c.span.column))
        if found is None:
            return "caplint could not find the service's mapping in this file"
        key, node = found
        if (node.start_mark.line, node.start_mark.column) < (key.end_mark.line, key.end_mark.column):
            return f"{c.name} is an alias of a mapping written above it: fix that anchor, or give {c.name} its own keys"
        # The anchor is written before the mapping (libyaml's mark may start at it).
        between = self._between(key.end_mark, node.start_mark) + self._char(node.start_mark.line, node.start_mark.column)
        if "&" in between.split("#", 1)[0]:
            return f"{c.name} carries an anchor that other services may share: caplint does not edit it"
        if not yn.is_map(node) or not node.value:
            return f"{c.name} is not a mapping of keys caplint can add to"
        return key, node

    def service(self, c: Container) -> _Service | str:
        found = self._own(c)
        if isinstance(found, str):
            return found
        key, node = found
        if node.flow_style:
            return f"{c.name} is written as a flow mapping ({{…}}): caplint adds keys to block mappings only"
        svc = _Service(key, node, self.lines)
        if any(_KEEP.search(self.lines[j]) for j in range(svc.first, svc.last + 1)):
            return (f"{c.name} holds a block scalar that keeps its trailing blank lines (|+), "
                    "whose value a line added after it would change")
        return svc

    def outside(self, c: Container, fix: Fix) -> str:
        """Why a rule's edit lies outside the service's own lines (in an anchor,
        a merge key's mapping, another service it extends), or ''."""
        found = self._own(c)
        if isinstance(found, str):
            return found
        key, node = found
        first = key.start_mark.line
        last = node.end_mark.line if node.flow_style else _last_line(self.lines, first, key.start_mark.column)
        for edit in fix.edits:
            if not first <= edit.span.line - 1 <= last or (edit.span.line - 1, edit.span.column - 1) < \
                    (node.start_mark.line, node.start_mark.column):
                return (f"the value is written at line {edit.span.line}, outside {c.name} (an anchor, merge key or "
                        f"extended service that others may share): change it there")
        return ""

    # -- spelling a remedy ------------------------------------------------

    def spell(self, c: Container, remedy: Remedy) -> tuple[Fix | None, str]:
        svc = self.service(c)
        if isinstance(svc, str):
            return None, svc
        edits: list[Edit] = []
        new_keys: list[str] = []
        why = ""
        if remedy.remove is not None:
            found = self._remove(svc, c, remedy)
            if isinstance(found, str):
                return None, found
            edits.extend(found)
        if remedy.drop_all:
            why = self._list(svc, c, "cap_drop", ["ALL"], edits, new_keys, replace=True)
            if not why and remedy.add:
                why = self._list(svc, c, "cap_add", list(remedy.add), edits, new_keys)
        if not why and remedy.security_opt:
            why = self._list(svc, c, "security_opt", [f"{remedy.security_opt}:true"], edits, new_keys)
        if why:
            return None, why
        if new_keys:
            end = len(self.lines[svc.last])
            edits.append(Edit(self._point(svc.last, end), "".join("\n" + k for k in new_keys)))
        return as_fix(edits, remedy)

    def _list(self, svc: _Service, c: Container, field: str, names: list[str], edits: list[Edit],
              new_keys: list[str], *, replace: bool = False) -> str:
        """Edits that put `names` in the service's `field` list (instead of
        what it holds, with `replace`); a reason when that cannot be done here."""
        own = svc.own.get(field)
        if own is None:
            if getattr(c, field):
                return (f"{c.name}'s {field} comes from elsewhere (a merge key, `extends` or another file): "
                        f"caplint will not add a second {field} that would hide it")
            if field in svc.merged or "<<" in svc.merged:
                return f"{c.name} takes {field} from a merge key (<<), which a new key here would hide"
            new_keys.append(self._new_key(svc, field, names))
            return ""
        key, node = own
        if not yn.is_seq(node) or node.start_mark.line < key.start_mark.line:
            return f"{c.name}'s {field} is not a list written here (an alias of a shared list, or a single value)"
        items = node.value
        if any("$" in str(i.value) for i in items if yn.is_scalar(i)):
            return f"{c.name}'s {field} holds a ${{VAR}} value, which caplint does not edit"
        if not all(yn.is_scalar(i) for i in items):
            return f"{c.name}'s {field} holds something other than names"
        quote = _quote_of(items, field, node.flow_style)
        if replace and items:
            return self._replace_all(node, names[0], quote, edits)
        if node.flow_style:
            close = node.end_mark
            if self._char(close.line, close.column - 1) != "]":
                return f"{c.name}'s {field} list is not closed where caplint expects"
            at = self._point(items[-1].end_mark.line, items[-1].end_mark.column) if items else \
                self._point(close.line, close.column - 1)
            text = ", ".join(quote + n + quote for n in names)
            edits.append(Edit(at, (", " if items else "") + text))
            return ""
        if not items:
            return f"{c.name}'s {field} is empty in a way caplint cannot extend"
        last = items[-1]
        prefix = self.lines[last.start_mark.line][: last.start_mark.column]
        if not _DASH.fullmatch(prefix) or last.end_mark.line != last.start_mark.line:
            return f"{c.name}'s {field} list is laid out in a way caplint does not edit"
        line = last.end_mark.line
        edits.append(Edit(self._point(line, len(self.lines[line])), "".join(f"\n{prefix}{quote}{n}{quote}" for n in names)))
        return ""

    def _replace_all(self, node: Any, name: str, quote: str, edits: list[Edit]) -> str:
        """The list's entries become the one `name` (cap_drop → ALL)."""
        items = node.value
        first, last = items[0], items[-1]
        if node.flow_style:
            edits.append(Edit(self._range(first.start_mark, last.end_mark), quote + name + quote))
            return ""
        edits.append(Edit(self._range(first.start_mark, first.end_mark), quote + name + quote))
        if len(items) > 1:
            end_line = last.end_mark.line
            edits.append(Edit(Span(self.path, first.end_mark.line + 1, len(self.lines[first.end_mark.line]) + 1,
                                   end_line + 1, len(self.lines[end_line]) + 1), ""))
        return ""

    def _remove(self, svc: _Service, c: Container, remedy: Remedy) -> list[Edit] | str:
        loc = remedy.remove
        assert loc is not None
        where = advice.origin(c, loc)
        if where:
            return where
        own = svc.own.get(remedy.field)
        node: Any = own[1] if own else None
        if not yn.is_seq(node):
            return f"{loc.raw} is not in a {remedy.field} list written in {c.name}"
        items = node.value
        at = next((k for k, i in enumerate(items)
                   if (i.start_mark.line + 1, i.start_mark.column + 1) == (loc.span.line, loc.span.column)), None)
        if at is None:
            return f"{loc.raw} is not in the {remedy.field} list written in {c.name}"
        item = items[at]
        if node.flow_style:
            if len(items) == 1:
                return [Edit(self._range(item.start_mark, item.end_mark), "")]
            start, end = (items[at - 1].end_mark, item.end_mark) if at else (item.start_mark, items[1].start_mark)
            if "#" in self._between(start, end):
                return f"a comment sits beside {loc.raw}; caplint leaves it to you"
            return [Edit(self._range(start, end), "")]
        prefix = self.lines[item.start_mark.line][: item.start_mark.column]
        if not _DASH.fullmatch(prefix) or item.end_mark.line != item.start_mark.line:
            return f"{loc.raw} is laid out in a way caplint does not edit"
        first = item.start_mark.line
        if len(items) == 1:
            key = own[0] if own else None
            assert key is not None
            if self.lines[key.start_mark.line][: key.start_mark.column].strip():
                return f"the {remedy.field} key does not start its line"
            first = key.start_mark.line
        # Whole lines: from the line's start to the next line's start.
        return [Edit(Span(self.path, first + 1, 1, item.start_mark.line + 2, 1), "")]

    # -- style --------------------------------------------------------------

    def _new_key(self, svc: _Service, field: str, names: list[str]) -> str:
        flow, offset, spacing = self._style(svc)
        quote = self._quote_for(field, flow)
        pad = " " * svc.indent
        if flow:
            return f"{pad}{field}: [{', '.join(quote + n + quote for n in names)}]"
        dash = " " * (svc.indent + offset) + "-" + spacing
        return f"{pad}{field}:" + "".join(f"\n{dash}{quote}{n}{quote}" for n in names)

    def _style(self, svc: _Service) -> tuple[bool, int, str]:
        """(flow, the dash's offset from its key, the space after the dash) of the
        lists this service — else the file — is written with; flow by default."""
        for source in [svc.own.values(), *(_own_items(n) for _, n in self.services.values())]:
            for key, node in source:
                if yn.is_seq(node) and node.value and node.start_mark.line >= key.start_mark.line:
                    if node.flow_style:
                        return True, 0, " "
                    first = node.value[0]
                    m = _DASH.fullmatch(self.lines[first.start_mark.line][: first.start_mark.column])
                    if m:
                        return False, len(m.group(1)) - key.start_mark.column, m.group(2)
        return True, 0, " "

    def _quote_for(self, field: str, flow: bool) -> str:
        """The quotes the file's own lists of this kind use."""
        kinds = ("security_opt",) if field == "security_opt" else ("cap_add", "cap_drop")
        for _, node in self.services.values():
            for key, value in _own_items(node):
                if key.value in kinds and yn.is_seq(value) and value.value and yn.is_scalar(value.value[0]):
                    return _quote_of(value.value, field, flow)
        return '"' if field == "security_opt" and flow else ""

    # -- positions ------------------------------------------------------------

    def _point(self, line: int, column: int) -> Span:
        """A point from 0-based line and column."""
        return Span(self.path, line + 1, column + 1, line + 1, column + 1)

    def _range(self, start: Any, end: Any) -> Span:
        return Span(self.path, start.line + 1, start.column + 1, end.line + 1, end.column + 1)

    def _char(self, line: int, column: int) -> str:
        text = self.lines[line] if 0 <= line < len(self.lines) else ""
        return text[column] if 0 <= column < len(text) else ""

    def _between(self, start: Any, end: Any) -> str:
        if start.line == end.line:
            return str(self.lines[start.line][start.column:end.column])
        middle = self.lines[start.line + 1:end.line]
        return "\n".join([self.lines[start.line][start.column:], *middle, self.lines[end.line][:end.column]])


def _own_items(node: Any) -> list[tuple[Any, Any]]:
    if not yn.is_map(node):
        return []
    return [(k, v) for k, v in node.value if yn.is_scalar(k) and k.value in _FIELDS + ("ports", "volumes", "environment",
                                                                                       "networks", "depends_on", "command")]


def _quote_of(items: list[Any], field: str, flow: bool) -> str:
    """The quotes of the list's last entry. A security option in a flow list is
    quoted whatever its neighbours do: libyaml (and so Compose's readers of
    YAML 1.1) refuses a plain `no-new-privileges:true` inside `[…]`."""
    styles = [i.style for i in items if yn.is_scalar(i)]
    if styles and styles[-1] in ("'", '"'):
        return str(styles[-1])
    return '"' if field == "security_opt" and flow else ""
