"""`caplint caps`: each container's effective capability set and where each came from."""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from caplint import capabilities as caps, evidence
from caplint.model import Container, Located, ParseResult


def _named(values: tuple[Located[str], ...]) -> list[tuple[Located[str], str]]:
    return [(loc, name) for loc in values if loc.resolved and (name := caps.normalize(loc.value)) is not None]


def effective_capabilities(c: Container) -> frozenset[str]:
    """The capabilities the container ends up with, from the names that are known."""
    privileged = c.privileged is not None and c.privileged.value
    return caps.effective_set([n for _, n in _named(c.cap_add)], [n for _, n in _named(c.cap_drop)],
                              privileged=privileged, runtime=c.runtime)


def provenance(c: Container) -> dict[str, str]:
    """Each capability the container ends up with → why it has it."""
    def where(loc: Located[str] | Located[bool]) -> str:
        return f"{loc.span.path}:{loc.span.line}"

    added = {name: loc for loc, name in reversed(_named(c.cap_add))}  # the first mention wins
    result: dict[str, str] = {}
    for name in sorted(effective_capabilities(c)):
        if c.privileged is not None and c.privileged.value:
            result[name] = f"privileged ({where(c.privileged)})"
        elif name in added:
            result[name] = f"added ({where(added[name])})"
        elif caps.ALL in added:
            result[name] = f"ALL added ({where(added[caps.ALL])})"
        else:
            result[name] = f"{c.runtime} default"
    return result


def _unresolved(c: Container) -> list[str]:
    return [loc.raw for loc in (*c.cap_add, *c.cap_drop) if not loc.resolved]


def describe(c: Container) -> str:
    lines = [f"{c.span.path}:{c.span.line}: {c.name} ({c.runtime})"]
    unknown = _unresolved(c)
    have = provenance(c)
    lines.append(f"  {len(have)} of {len(caps.CAPABILITIES)} capabilities"
                 + (f"; depends on unset variables: {', '.join(unknown)}" if unknown else ""))
    for name, why in have.items():
        tier = caps.CAPABILITIES[name].tier.value
        lines.append(f"    {name:<20} {tier:<9} {why}")
    lines += _describe_suggestion(evidence.suggest(c))
    return "\n".join(lines)


def _describe_suggestion(s: evidence.Suggestion) -> list[str]:
    if s.complete:
        wanted = f"cap_add: [{', '.join(s.cap_add)}]" if s.cap_add else "nothing added"
        lines = [f"  needs: cap_drop: [ALL], {wanted}"]
    elif s.evidence:
        lines = [f"  needs at least: cap_add: [{', '.join(s.cap_add)}] (incomplete: {s.unknown})"]
    else:
        lines = [f"  needs: not known ({s.unknown})"]
    if s.note:
        lines.append(f"    {s.note}")
    lines += [f"    {e.capability:<20} {e.span.path}:{e.span.line}  {e.reason}" for e in s.evidence]
    return lines


def as_json(c: Container) -> dict[str, Any]:
    """One container in the documented `caplint caps --format json` shape."""
    s = evidence.suggest(c)
    known = not _unresolved(c)
    return {
        "name": c.name,
        "path": c.span.path,
        "line": c.span.line,
        "runtime": c.runtime,
        "effective": sorted(effective_capabilities(c)) if known else None,
        "sources": provenance(c) if known else {},
        "suggested": {
            "cap_add": list(s.cap_add),
            "evidence": [{"capability": e.capability, "path": e.span.path, "line": e.span.line, "reason": e.reason}
                         for e in s.evidence],
            "complete": s.complete,
            "unknown": s.unknown,
        },
    }


def parse_file(path: str, kind: str, runtime: str | None = None) -> ParseResult:
    """One file's containers as `caplint check` sees them: merged with its
    stack and linked to the images it builds."""
    from caplint.engine import detect_kind, parse_assembled
    from caplint.reading import ReadError, read_file

    try:
        text = read_file(path)
    except ReadError as err:
        return ParseResult(problems=[err.problem])
    kind = kind if kind != "unknown" else (detect_kind(path, text) or "unknown")
    if kind == "unknown":
        return ParseResult()
    return parse_assembled(path, text, kind, runtime)


def containers(paths: Sequence[str], runtime: str | None = None) -> tuple[list[Container], list[str]]:
    """Every container declared under `paths`, once (a stack's merged service is
    listed under the file that declares it), and what could not be read."""
    from caplint.discover import discover

    out: list[Container] = []
    problems: list[str] = []
    seen: set[tuple[str, int, str]] = set()
    for found in discover(paths):
        result = parse_file(found.path, found.kind, runtime)
        for c in result.containers:
            key = (os.path.normpath(c.span.path), c.span.line, c.name)
            if (c.complete or c.cap_add or c.privileged) and key not in seen:
                seen.add(key)
                out.append(c)
        problems.extend(f"{p.span.path}:{p.span.line}: cannot read: {p.message}" for p in result.problems
                        if os.path.normpath(p.span.path) == os.path.normpath(found.path))
    return out, problems


def describe_paths(paths: Sequence[str], runtime: str | None = None) -> str:
    found, problems = containers(paths, runtime)
    blocks = [describe(c) for c in found] + problems
    return "\n\n".join(blocks) + ("\n" if blocks else "no containers found\n")


def json_paths(paths: Sequence[str], runtime: str | None = None) -> str:
    import json

    found, _ = containers(paths, runtime)
    return json.dumps({"containers": [as_json(c) for c in found]}, indent=2) + "\n"
