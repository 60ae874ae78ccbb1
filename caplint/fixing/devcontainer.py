"""devcontainer.json edits: entries of its JSON arrays, the way the CLI reads them.

`no-new-privileges` joins `securityOpt` when the file has that array, else
`runArgs` as `--security-opt=no-new-privileges` when it has that one, else a
new `"securityOpt": ["no-new-privileges"]` member after the last one, at its
indentation. An entry is taken out of `capAdd` (`"CHOWN"`) or `runArgs`
(`"--cap-add=CHOWN"`, the whole item) with the comma beside it. Items are
spliced as JSON strings; a comment next to the entry makes caplint leave it.
"""
from __future__ import annotations

from caplint.formats.devcontainer import jsonc
from caplint.fixing.splice import as_fix
from caplint.model import Container, Edit, Fix, Located, Remedy, Span


def spell(path: str, text: str, c: Container, remedy: Remedy) -> tuple[Fix | None, str]:
    root = jsonc.parse(text, path)
    if root is None or root.kind != "object" or not root.pairs:
        return None, "caplint could not read the file's top-level object"
    if remedy.drop_all:
        return None, "caplint does not add capabilities to devcontainer.json"
    lines = text.split("\n")
    edits: list[Edit] = []
    if remedy.remove is not None:
        found = _remove(root, lines, remedy.remove)
        if isinstance(found, str):
            return None, found
        edits.append(found)
    if remedy.security_opt:
        opts, args = root.get("securityOpt"), root.get("runArgs")
        if opts is not None and opts.kind == "array":
            edits.append(_append(opts, remedy.security_opt))
        elif args is not None and args.kind == "array":
            edits.append(_append(args, f"--security-opt={remedy.security_opt}"))
        elif opts is not None or args is not None:
            return None, "securityOpt or runArgs is not an array"
        else:
            key, last = list(root.pairs.values())[-1]
            pad = lines[key.span.line - 1][: key.span.column - 1]
            if pad.strip():
                return None, "the file's last member does not start its line"
            edits.append(Edit(_end(last), f',\n{pad}"securityOpt": ["{remedy.security_opt}"]'))
    return as_fix(edits, remedy)


def _end(value: jsonc.Value) -> Span:
    s = value.span
    return Span(s.path, s.end_line, s.end_column, s.end_line, s.end_column)


def _append(array: jsonc.Value, item: str) -> Edit:
    """`item` after the array's last entry (or inside the empty array)."""
    if array.items:
        return Edit(_end(array.items[-1]), f', "{item}"')
    s = array.span
    return Edit(Span(s.path, s.line, s.column + 1, s.line, s.column + 1), f'"{item}"')


def _remove(root: jsonc.Value, lines: list[str], loc: Located[str]) -> Edit | str:
    for key, whole in (("capAdd", loc.value), ("runArgs", f"--cap-add={loc.value}")):
        array = root.get(key)
        if array is None or array.kind != "array":
            continue
        at = next((i for i, item in enumerate(array.items) if item.kind == "string" and item.value == whole
                   and item.inner is not None and _contains(item.inner, loc.span)), None)
        if at is None:
            continue
        items = array.items
        if len(items) == 1:
            start, end = items[0].span, items[0].span
        elif at:
            start, end = items[at - 1].span, items[at].span
        else:
            start, end = items[0].span, items[1].span
        span = Span(loc.span.path, start.end_line if at else start.line, start.end_column if at else start.column,
                    end.end_line if at or len(items) == 1 else end.line,
                    end.end_column if at or len(items) == 1 else end.column)
        between = _text(lines, span)
        if "//" in between.replace(f'"{whole}"', "") or "/*" in between:
            return f"a comment sits beside {loc.raw}; caplint leaves it to you"
        return Edit(span, "")
    return f"{loc.raw} is not a capAdd entry or a runArgs item of its own"


def _contains(outer: Span, inner: Span) -> bool:
    return (outer.line, outer.column) <= (inner.line, inner.column) and \
        (inner.end_line, inner.end_column) <= (outer.end_line, outer.end_column)


def _text(lines: list[str], s: Span) -> str:
    if s.line == s.end_line:
        return lines[s.line - 1][s.column - 1:s.end_column - 1]
    return "\n".join([lines[s.line - 1][s.column - 1:], *lines[s.line:s.end_line - 1],
                      lines[s.end_line - 1][:s.end_column - 1]])
