"""What a Compose service runs and listens on: `command`, `entrypoint`,
`healthcheck.test`, `ports`/`expose`, and the `build:` it is made from.

Compose splits a string `command:` into words the way a shell would quote
them but runs no shell (`a && b` passes `&&` to `a`), so a string is split
here with quotes and backslashes only; an `sh -c` script inside, and a
healthcheck's `CMD-SHELL` (or string) test, are real shell and go to the
shell walker, which is imported only then.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from caplint.formats import yamlnodes as yn
from caplint.model import Build, Command, Located, Problem, Process, Span
from caplint import lazyre

Locate = Callable[[Any], Located[str]]
_REMOTE = lazyre.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/)|\.git(?:#.*)?$", re.IGNORECASE)


def split_words(loc: Located[str]) -> list[Located[str]]:
    """Shell-style words of a string (quotes and `\\` only), each located on
    its own columns when the value is written on one line as it reads."""
    words: list[Located[str]] = []
    exact = loc.span.line == loc.span.end_line and loc.raw == loc.value
    text, i, n = loc.value, 0, len(loc.value)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, chars, quote = i, [], ""
        while i < n and (quote or not text[i].isspace()):
            c = text[i]
            if quote and c == quote:
                quote = ""
            elif not quote and c in "'\"":
                quote = c
            elif c == "\\" and quote != "'" and i + 1 < n:
                i += 1
                chars.append(text[i])
            else:
                chars.append(c)
            i += 1
        s = loc.span
        span = Span(s.path, s.line, s.column + start, s.line, s.column + i) if exact else s
        words.append(Located("".join(chars), span, text[start:i], loc.resolved))
    return words


def _process(origin: str, span: Span, words: list[Located[str]], *, shell: bool = False) -> Process:
    """A Process of exec-form `words`, or (with `shell`) of the one script word."""
    from caplint.formats.shell import commands as sh

    if not words:
        return Process(origin, span, (), True)
    if shell:
        script = words[0]
        found, problems = sh.commands(" " * (script.span.column - 1) + script.value if script.raw == script.value
                                      else script.value, span.path, first_line=script.span.line, embedded=[])
        why = problems[0].message if problems else ""
        return Process(origin, span, tuple(found), not why and script.resolved,  # noqa
                       why or ("" if script.resolved else f"depends on {script.raw}"))
    first: Command = sh.command(words)
    found = [first]
    embedded = sh.embedded_script(first)
    errors: list[Problem] = []
    if embedded is not None:
        inner, errors = sh.commands(embedded[0], span.path, first_line=embedded[1], embedded=[])
        found += inner
    program = words[first.program] if first.program < len(words) else None
    why = (errors[0].message if errors else
           f"runs {program.raw}, known only at run time" if program is not None and not program.resolved else "")
    return Process(origin, span, tuple(found), not why, why)


def command(origin: str, node: Any, path: str, locate: Locate) -> Process | None:
    """`command:` / `entrypoint:`: a list is the argv, a string is split into words."""
    if yn.is_null(node):
        return None
    span = yn.span(node, path)
    if yn.is_seq(node):
        words = [locate(item) for item in node.value if yn.is_scalar(item)]
        return _process(origin, span, words)
    if yn.is_scalar(node):
        return _process(origin, span, split_words(locate(node)))
    return Process(origin, span, (), False, f"{origin} is a {node.id}")


def healthcheck(node: Any, path: str, locate: Locate) -> Process | None:
    """`healthcheck.test`: `[CMD, …]` exec form, `[CMD-SHELL, script]` or a string: shell."""
    span = yn.span(node, path)
    if yn.is_scalar(node) and not yn.is_null(node):
        return _process("healthcheck", span, [locate(node)], shell=True)
    if not yn.is_seq(node) or not node.value or not yn.is_scalar(node.value[0]):
        return None
    kind = str(node.value[0].value).upper()
    rest = [locate(item) for item in node.value[1:] if yn.is_scalar(item)]
    if kind == "CMD":
        return _process("healthcheck", span, rest)
    if kind == "CMD-SHELL":
        return _process("healthcheck", span, rest[:1], shell=True)
    return None  # NONE: no healthcheck


def first_port(text: str) -> int | None:
    """The port of `80`, `53/udp`, or the first of a range `8000-8010/tcp`; None
    for anything else. (What `^(\\d+)(?:-(\\d+))?(?:/\\w+)?$` matches, without
    compiling it on every start: `isdecimal` is `\\d`, `isalnum` or `_` is `\\w`.)"""
    ports, slash, protocol = text.partition("/")
    if slash and not (protocol and all(c.isalnum() or c == "_" for c in protocol)):
        return None
    first, dash, last = ports.partition("-")
    if not first.isdecimal() or dash and not last.isdecimal():
        return None
    return int(first)


def ports(node: Any, locate: Locate, *, expose: bool = False) -> list[Located[int]]:
    """Container-side ports of `ports:` (short `[ip:]host:container[/proto]` or
    long `target:`) or `expose:`, ranges as their first port."""
    out: list[Located[int]] = []
    for item in node.value if yn.is_seq(node) else []:
        if yn.is_map(item):
            target = yn.mapping_items(item).get("target")
            if target is not None and yn.is_scalar(target[1]):
                loc = locate(target[1])
                port = first_port(loc.value.strip())
                if port is not None and loc.resolved:
                    out.append(Located(port, loc.span, loc.raw))
        elif yn.is_scalar(item) and not yn.is_null(item):
            loc = locate(item)
            container = loc.value.strip() if expose else loc.value.strip().rsplit(":", 1)[-1]
            port = first_port(container)
            if port is not None and loc.resolved:
                out.append(Located(port, loc.span, loc.raw))
    return out


def build(layers: list[Any], path: str, locate: Locate) -> Build | None:
    """The `build:` of a service, its layers merged key by key (a string is
    its `context`). Where the image comes from is for `assemble` to find."""
    spec: dict[str, Any] = {}
    span: Span | None = None
    for node in layers:
        if yn.is_scalar(node) and not yn.is_null(node):
            spec["context"] = node
        elif yn.is_map(node):
            spec.update({k: v for k, (_, v) in yn.mapping_items(node).items()})
        else:
            continue
        span = span or yn.span(node, path)
    if span is None:
        return None

    def text(key: str) -> Located[str] | None:
        node = spec.get(key)
        return locate(node) if yn.is_scalar(node) and not yn.is_null(node) else None

    context, dockerfile, target, inline = text("context"), text("dockerfile"), text("target"), text("dockerfile_inline")
    if context is not None and not context.resolved:
        return Build(span, unknown=f"the build context {context.raw} depends on unset variables")
    where = context.value if context is not None else "."
    if _REMOTE.search(where):
        return Build(span, unknown=f"the build context {where} is remote: its Dockerfile is not in this repository")
    if (dockerfile is not None and not dockerfile.resolved) or (target is not None and not target.resolved):
        raw = dockerfile.raw if dockerfile is not None and not dockerfile.resolved else target.raw if target else ""
        return Build(span, context=where, unknown=f"the build depends on unset variables ({raw})")
    return Build(span, context=where, dockerfile=dockerfile.value if dockerfile else None,
                 target=target.value if target else None, inline=inline)
