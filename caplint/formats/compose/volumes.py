"""Compose `volumes` and `devices` entries, short and long syntax, → model mounts and devices."""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from caplint import hostpaths, values
from caplint.model import Device, Located, Mount, Span
from caplint.formats import yamlnodes as yn

Locate = Callable[[Any, Any], Located[str]]


def has_drive(value: str) -> bool:
    """`C:\\data` or `C:/data`: it starts with a Windows drive letter."""
    return len(value) > 2 and value[1] == ":" and value[2] in "\\/" and value[0].isascii() and value[0].isalpha()


def _is_host_path(source: str) -> bool:
    """Short syntax: a path makes a bind mount, a bare name a named volume."""
    return source.startswith(("/", ".", "~", "$", "\\")) or has_drive(source)


def _split(value: str) -> list[str]:
    """`SRC:DST:MODE`, keeping a Windows drive letter (`C:\\data`) and an
    unresolved `${VAR:-default}` (whose `:` is not a separator) in one piece."""
    parts: list[str] = []
    begin = 2 if has_drive(value) else 0
    start, depth = 0, 0
    for i in range(begin, len(value)):
        c = value[i]
        if c == "{" and value[i - 1: i] == "$":
            depth += 1
        elif c == "}" and depth:
            depth -= 1
        elif c == ":" and not depth:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


def _first_part(loc: Located[str], node: Any, part: str) -> Located[str]:
    """The located first `:`-part of a short-syntax scalar: its value after
    interpolation, its spelling as written (`${HOME}/.ssh`, not the whole
    entry) and, when the scalar is on one line, its own columns."""
    span = loc.span
    written = _split(loc.raw)[0] if "$" in loc.raw else part
    if span.line == span.end_line and loc.raw.startswith(written):
        start = span.column + (1 if node.style in ("'", '"') else 0)
        span = Span(span.path, span.line, start, span.line, start + len(written))
    return Located(part, span, written, loc.resolved or "$" not in written)


def _home_aware(loc: Located[str], written: str) -> Located[str]:
    """A bind source written as `${HOME}/…` is `~/…`, whatever HOME is where
    caplint runs (and also when it is unset there)."""
    home = hostpaths.home_relative(written)
    return Located(home, loc.span, loc.raw, hostpaths.is_literal(home)) if home is not None else loc


def _rebased(loc: Located[str], doc: Any) -> Located[str]:
    """A relative bind source written in a file an `extends: file:` reaches
    is relative to that file's folder: made relative to the linted file's."""
    folder = os.path.dirname(getattr(doc, "shown_path", ""))
    if not folder or not loc.value.startswith(".") or not loc.resolved:
        return loc
    moved = os.path.normpath(os.path.join(folder, loc.value)).replace(os.sep, "/")
    return values.replace(loc, value=moved if moved.startswith("..") else f"./{moved}")


def volume_entry(item: Any, doc: Any, locate: Locate) -> Mount | None:
    if yn.is_scalar(item) and not yn.is_null(item):
        loc = locate(item, doc)
        parts = _split(loc.value)
        if len(parts) == 1 and not loc.resolved:
            # `- ${VOLUME}`: a bind, a named or an anonymous volume, or nothing at all.
            return Mount(loc.span, loc, None, "unknown", False)
        if len(parts) == 1:
            # A single path is an anonymous volume at that path, not a bind.
            return Mount(loc.span, None, parts[0], "volume", False)
        source, target = parts[0], parts[1]
        options = set(parts[2].split(",")) if len(parts) > 2 else set()
        read_only = bool(options & {"ro", "readonly"})
        src = _rebased(_home_aware(_first_part(loc, item, source), _split(str(item.value))[0]), doc)
        if _is_host_path(source) or not loc.resolved:
            return Mount(loc.span, src, target, "bind", read_only)
        return _named_volume(doc, source, target, read_only, loc.span, locate) or Mount(loc.span, src, target, "volume", read_only)
    if yn.is_map(item):
        fields = yn.mapping_items(item)
        kind = _scalar(fields, "type") or "volume"
        long_source = None
        if _scalar(fields, "source") is not None:
            long_source = _rebased(_home_aware(locate(fields["source"][1], doc), str(fields["source"][1].value)), doc)
        long_target = _scalar(fields, "target")
        read_only_node = fields.get("read_only", (None, None))[1]
        long_read_only = yn.is_scalar(read_only_node) and locate(read_only_node, doc).value.strip().lower() in yn.TRUE_WORDS
        # The whole entry's span, or the source's when it is seen through `extends`.
        span = long_source.span if long_source is not None else doc.span_of(item)
        if kind == "volume" and long_source is not None and long_source.resolved:
            named = _named_volume(doc, long_source.value, long_target, long_read_only, span, locate)
            if named is not None:
                return named
        known = kind if kind in ("bind", "volume", "tmpfs", "npipe", "cluster", "image") else "unknown"
        return Mount(span, long_source, long_target, known, long_read_only)  # type: ignore[arg-type]
    return None


def _scalar(fields: dict[str, tuple[Any, Any]], key: str) -> str | None:
    node = fields.get(key, (None, None))[1]
    return str(node.value) if yn.is_scalar(node) else None


def _named_volume(doc: Any, name: str, target: str | None, read_only: bool, span: Span, locate: Locate) -> Mount | None:
    """A named volume declared with the local driver as a bind (`o: bind`,
    `device: /path`) is a bind mount of that path in disguise."""
    entry = getattr(doc, "volumes", {}).get(name)
    if entry is None or not yn.is_map(entry[1]):
        return None
    spec = yn.mapping_items(entry[1])
    opts_node = spec.get("driver_opts", (None, None))[1]
    if not yn.is_map(opts_node):
        return None
    opts = yn.mapping_items(opts_node)
    o = opts.get("o", (None, None))[1]
    device = opts.get("device", (None, None))[1]
    if yn.is_scalar(o) and "bind" in str(o.value).split(",") and yn.is_scalar(device):
        return Mount(span, locate(device, doc), target, "bind", read_only)
    return None


def device_entry(item: Any, doc: Any, locate: Locate) -> Device | None:
    if yn.is_scalar(item) and not yn.is_null(item):
        loc = locate(item, doc)
        parts = loc.value.split(":")
        host = _first_part(loc, item, parts[0]) if len(parts) > 1 else loc
        return Device(host, parts[1] if len(parts) > 1 else None)
    if yn.is_map(item):
        fields = yn.mapping_items(item)
        if "source" in fields and yn.is_scalar(fields["source"][1]):
            target = fields.get("target", (None, None))[1]
            return Device(locate(fields["source"][1], doc), target.value if yn.is_scalar(target) else None)
    return None
