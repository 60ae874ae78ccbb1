"""`caplint caps`: each container's effective capability set and where each came from."""
from __future__ import annotations

from collections.abc import Sequence

from caplint import capabilities as caps
from caplint.model import Container, Located, ParseResult


def provenance(c: Container) -> dict[str, str]:
    """capability → why the container has it, following TweakCapabilities."""
    def where(loc: Located[str] | Located[bool]) -> str:
        return f"{loc.span.path}:{loc.span.line}"

    adds = [(loc, caps.normalize(loc.value)) for loc in c.cap_add if loc.resolved]
    drops = {caps.normalize(loc.value) for loc in c.cap_drop if loc.resolved}
    if c.privileged is not None and c.privileged.value:
        return {name: f"privileged ({where(c.privileged)})" for name in sorted(caps.ALL_CAPABILITIES)}
    add_all = next((loc for loc, name in adds if name == caps.ALL), None)
    result: dict[str, str] = {}
    if add_all is not None:
        result = {n: f"ALL added ({where(add_all)})" for n in caps.ALL_CAPABILITIES - drops}
    elif caps.ALL not in drops:
        result = {n: f"{c.runtime} default" for n in caps.defaults_for(c.runtime) - drops}
    for loc, name in adds:
        if name is not None and name != caps.ALL and add_all is None:
            result[name] = f"added ({where(loc)})"
    return dict(sorted(result.items()))


def describe(c: Container) -> str:
    lines = [f"{c.span.path}:{c.span.line}: {c.name} ({c.runtime})"]
    unknown = [loc.raw for loc in (*c.cap_add, *c.cap_drop) if not loc.resolved]
    have = provenance(c)
    lines.append(f"  {len(have)} of {len(caps.CAPABILITIES)} capabilities"
                 + (f"; depends on unset variables: {', '.join(unknown)}" if unknown else ""))
    for name, why in have.items():
        tier = caps.CAPABILITIES[name].tier.value
        lines.append(f"    {name:<20} {tier:<9} {why}")
    return "\n".join(lines)


def parse_file(path: str, kind: str) -> ParseResult:
    from caplint.engine import detect_kind, parser_for
    from caplint.reading import ReadError, read_file

    try:
        text = read_file(path)
    except ReadError as err:
        return ParseResult(problems=[err.problem])
    kind = kind if kind != "unknown" else (detect_kind(path, text) or "unknown")
    if kind == "yaml":
        from caplint.parsers import compose

        return compose.parse(text, path, require_services=True)
    if kind == "unknown":
        return ParseResult()
    return parser_for(kind)(text, path)


def describe_paths(paths: Sequence[str]) -> str:
    from caplint.discover import discover

    blocks: list[str] = []
    for found in discover(paths):
        result = parse_file(found.path, found.kind)
        blocks.extend(describe(c) for c in result.containers if c.complete or c.cap_add or c.privileged)
        blocks.extend(f"{p.span.path}:{p.span.line}: cannot read: {p.message}" for p in result.problems)
    return "\n\n".join(blocks) + ("\n" if blocks else "no containers found\n")
