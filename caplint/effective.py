"""`caplint caps`: each container's effective capability set and where each came from."""
from __future__ import annotations

from collections.abc import Sequence

from caplint import capabilities as caps
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
    from caplint.engine import parser_for
    from caplint.reading import ReadError, read_file

    try:
        text = read_file(path)
    except ReadError as err:
        return ParseResult(problems=[err.problem])
    return parse_text(path, text) if kind == "unknown" else parser_for(kind)(text, path)


def parse_text(path: str, text: str) -> ParseResult:
    from caplint.engine import detect_kind, parser_for

    kind = detect_kind(path, text)
    return ParseResult() if kind is None else parser_for(kind)(text, path)


def _blocks(result: ParseResult) -> list[str]:
    blocks = [describe(c) for c in result.containers if c.complete or c.cap_add or c.privileged]
    blocks.extend(f"{p.span.path}:{p.span.line}: cannot read: {p.message}" for p in result.problems)
    return blocks


def _joined(blocks: list[str]) -> str:
    return "\n\n".join(blocks) + ("\n" if blocks else "no containers found\n")


def describe_paths(paths: Sequence[str]) -> str:
    from caplint.discover import discover

    return _joined([b for found in discover(paths) for b in _blocks(parse_file(found.path, found.kind))])


def describe_text(path: str, text: str) -> str:
    """For stdin: `text` read as the file `path` would be."""
    return _joined(_blocks(parse_text(path, text)))
