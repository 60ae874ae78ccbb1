"""What GitHub Actions and GitLab CI have in common: scripts and option strings cut from YAML.

A CI file holds shell scripts (`run:`, `script:`) and docker option strings
(a job container's `options:`) as YAML scalars. Each becomes an embedded
region (`formats.embedded`) with every character at its own host line and
column, so a finding inside a folded `>-` scalar or an indented `run: |` block
points where it is written. `${{ … }}` expressions are substituted by the CI
before anything runs: they are unknown values, never guessed.
"""
from __future__ import annotations

import re
from typing import Any

from caplint.formats import yamlnodes, yamlregions
from caplint.formats.dockercli.command import option, options
from caplint.formats.embedded import Region
from caplint.formats.shell import parser as shell
from caplint.model import Container, Located, ParseResult, Span
from caplint import lazyre

EXPRESSION = lazyre.compile(r"\$\{\{.*?\}\}", re.DOTALL)
POSIX_SHELLS = frozenset({"bash", "sh", "dash", "ash", "ksh", "zsh"})


def document(text: str, path: str, result: ParseResult) -> tuple[dict[str, tuple[Any, Any]] | None, yamlregions.Host]:
    """The top-level mapping of a CI file (None when it has none) and its host text;
    a YAML error, which the CI refuses too, goes to `result`."""
    host = yamlregions.Host(text, path)
    root, problem = yamlnodes.load(text, path)
    if problem is not None:
        result.problems.append(problem)
    if not yamlnodes.is_map(root):
        return None, host
    return yamlnodes.mapping_items(root, result.problems, path), host


def expressions_unknown(region: Region) -> Region:
    """`${{ … }}` read as unknown values (see `Region.unknown`)."""
    if "${{" not in region.text:
        return region
    return region.unknown(m.span() for m in EXPRESSION.finditer(region.text))


def script(node: Any, host: yamlregions.Host, result: ParseResult) -> None:
    """A shell script written as a YAML scalar, read as shell at its host positions.

    Read once however many jobs share it through an anchor or a merge key: the
    findings are about the lines where it is written."""
    if not yamlnodes.is_scalar(node) or not node.value.strip() or id(node) in host.read:
        return
    host.read.add(id(node))
    region = expressions_unknown(yamlregions.region(node, host))
    found = region.lift(shell.parse(region.text, region.path))
    result.containers += found.containers
    result.problems += found.problems


def is_posix_shell(command: str) -> bool:
    """`bash`, `sh -e {0}`, `/usr/bin/bash --noprofile --norc -eo pipefail {0}`."""
    words = command.split()
    return bool(words) and words[0].rsplit("/", 1)[-1] in POSIX_SHELLS


def split_options(region: Region) -> list[Located[str]]:
    """An options string split into words the way the runner passes it to
    `docker create`: blanks (line breaks too) separate, double quotes group and
    are removed (single quotes are ordinary characters), `\\"` is a quote."""
    text = region.text
    words: list[Located[str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, chars, quoted = i, [], False
        while i < n and (quoted or not text[i].isspace()):
            c = text[i]
            if c == "\\" and text[i + 1:i + 2] == '"':
                chars.append('"')
                i += 2
                continue
            if c == '"':
                quoted = not quoted
            else:
                chars.append(c)
            i += 1
        words.append(Located("".join(chars), _span(region, start, i), text[start:i]))
    return region.lift(words)


def _span(region: Region, start: int, end: int) -> Span:
    """An embedded span of `region.text[start:end]` (lifted with the words)."""
    before = region.text.rfind("\n", 0, start)
    last = region.text.rfind("\n", 0, end)
    line = region.text.count("\n", 0, start) + 1
    end_line = line + region.text.count("\n", start, end)
    return Span(region.path, line, start - before, end_line, end - last)


def job_container(name: str, anchor: Any, spec: Any, host: yamlregions.Host, source_kind: str) -> Container | None:
    """A job's `container:` or a service: a bare image string, or a mapping with
    `image`, `options` (docker create flags in one string) and `volumes` (-v values)."""
    if yamlnodes.is_scalar(spec):
        return None if yamlnodes.is_null(spec) else Container(name, yamlnodes.span(anchor, host.path), source_kind)  # type: ignore[arg-type]
    if not yamlnodes.is_map(spec):
        return None
    items = yamlnodes.mapping_items(spec)
    fields: dict[str, Any] = {}
    opts = items.get("options", (None, None))[1]
    if yamlnodes.is_scalar(opts) and opts.value.strip():
        fields, _ = options(split_options(expressions_unknown(yamlregions.region(opts, host))))
    volumes = items.get("volumes", (None, None))[1]
    if yamlnodes.is_seq(volumes):
        mounts = list(fields.get("mounts", ()))
        for item in volumes.value:
            if yamlnodes.is_scalar(item) and item.value:
                mounts += option("--volume", whole(expressions_unknown(yamlregions.region(item, host))))["mounts"]
        if mounts:
            fields["mounts"] = tuple(mounts)
    return Container(name, yamlnodes.span(anchor, host.path), source_kind, **fields)  # type: ignore[arg-type]


def whole(region: Region) -> Located[str]:
    """The region's text as one value (a `volumes:` item is one -v value, blanks and all)."""
    text = region.text
    return region.lift(Located(text, _span(region, 0, len(text)), text))
