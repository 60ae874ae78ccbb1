"""What to write instead: the fix text of a finding, in the container's own format.

A Compose service is fixed with Compose keys (`cap_drop: [ALL]`), a `docker run`
with flags (`--cap-drop=ALL`). Rules say *what* to change; this module says how
it is spelt where the container is written, and whether the value can be changed
where it stands at all — a value taken from a `${VAR}`, a shared YAML anchor or
another file through `extends` cannot, and the text says so instead of
suggesting a wrong edit.
"""
from __future__ import annotations

from collections.abc import Iterable

from caplint import capabilities as caps
from caplint.model import Container, Fix, Located, Span
from caplint.values import value


def in_compose(c: Container) -> bool:
    return c.source_kind == "compose"


def spelled(c: Container, compose: str, flags: str) -> str:
    """`compose` for a Compose service, `flags` for a command line."""
    return compose if in_compose(c) else flags


def origin(c: Container, loc: Located[str] | Located[bool]) -> str | None:
    """Why `loc` cannot simply be edited where it is shown, or None when it can.

    YAML requires an anchor before its aliases, so a value of a service that is
    written above the service's own key came from an anchor or merge key (or a
    service it extends) that other services may share; a value through
    `extends: file:` is shown at the `extends` line and lives in the other file.
    """
    if "$" in loc.raw:
        return f"the value comes from {as_written(loc)}: change that variable or its default"
    if " (from " in loc.raw:
        source = loc.raw.rsplit(" (from ", 1)[1].rstrip(")")
        return f"the value is written in {source} and reaches {c.name} through `extends`: change it there"
    if in_compose(c) and (loc.span.path != c.span.path or loc.span.line < c.span.line):
        return (f"the value is written at line {loc.span.line}, outside {c.name} (an anchor, merge key or extended "
                f"service that others may share): change it there, or give {c.name} its own value")
    return None


def as_written(loc: Located[str] | Located[bool]) -> str:
    """The author's text, without the note of the file it came from."""
    return loc.raw.split(" (from ")[0]


def at(c: Container, loc: Located[str] | Located[bool], fix: str) -> str:
    """`fix` for the value at `loc`, with where to make it when that is not here."""
    where = origin(c, loc)
    return f"{fix} ({where})" if where else fix


def replace_value(loc: Located[str], text: str, title: str, *, safe: bool = True) -> Fix | None:
    """The edit that writes `text` in place of the value at `loc`, or None
    unless the span holds exactly the value, perhaps quoted (YAML's raw omits
    the quotes, the shell's keeps them): never rewrite `${CAPS:-NET_ADMN}` or a
    word spliced from several quotes."""
    s, raw = loc.span, loc.raw
    bare = raw[1:-1] if len(raw) > 1 and raw[0] == raw[-1] and raw[0] in "'\"" else raw
    extra = s.end_column - s.column - len(bare)
    if bare != loc.value or s.line != s.end_line or extra not in (0, 2):
        return None
    return Fix(Span(s.path, s.line, s.column + extra // 2, s.line, s.end_column - extra // 2), text, title, safe)


def quoted(values: Iterable[str]) -> str:
    return ", ".join(values)


def cap_lists(c: Container, add: Iterable[str]) -> str:
    """`cap_drop: [ALL]` plus `cap_add`, or the same as flags."""
    names = list(add)
    if in_compose(c):
        return "cap_drop: [ALL]" + (f" and cap_add: [{quoted(names)}]" if names else "")
    return " ".join(["--cap-drop=ALL", *(f"--cap-add={n}" for n in names)])


def add_security_opt(c: Container, compose_item: str, flag_value: str) -> str:
    """How to add one security option to this container."""
    if not in_compose(c):
        return f"add --security-opt={flag_value}"
    if c.security_opt:
        return f'add "{compose_item}" to its security_opt'
    return f'add security_opt: ["{compose_item}"]'


def remove_value(c: Container, key: str, flag: str, loc: Located[str] | Located[bool]) -> str:
    """`remove network_mode: host` / `remove --network=host`, quoting the author."""
    shown = as_written(loc)
    if in_compose(c):
        return at(c, loc, f"remove `{key}: {shown}`")
    # A boolean flag's raw text is the flag itself (`--privileged`, `--privileged=true`).
    return at(c, loc, f"remove `{shown if shown.startswith('-') else f'{flag}={shown}'}`")


def remove_from_list(c: Container, key: str, flag: str, loc: Located[str]) -> str:
    """`remove SYS_ADMIN from cap_add` / `remove --cap-add=SYS_ADMIN`."""
    shown = as_written(loc)
    return at(c, loc, f"remove {shown} from {key}" if in_compose(c) else f"remove `{flag}={shown}`")


@value
class CapabilitySuggestion:
    """The capabilities to add back after dropping ALL, and how sure that is.

    `cap_add` is None when it cannot be said (`unknown` says why); `basis`
    says where the list comes from, for the fix text.
    """

    cap_add: tuple[str, ...] | None
    basis: str
    complete: bool = False
    unknown: str | None = None


def suggested_capabilities(c: Container) -> CapabilitySuggestion:
    """What `c` should add back after `cap_drop: [ALL]`.

    The set computed from evidence (`caplint.evidence.suggest`: what the
    container runs, read from the image built here) where it is complete;
    otherwise the container's own additions, which are what its author said it
    needs beyond the defaults (capabilities it both adds and drops stay, as
    drops apply first), marked incomplete.
    """
    from caplint import evidence

    computed = evidence.suggest(c)
    if computed.complete:
        if computed.evidence:
            why = "; ".join(f"{e.capability} for {e.span.path.rsplit('/', 1)[-1]}:{e.span.line}"
                            for e in computed.evidence)
            return CapabilitySuggestion(computed.cap_add, f"computed from what it runs: {why}", complete=True)
        return CapabilitySuggestion((), computed.note or "nothing it runs needs a capability", complete=True)
    unresolved = [loc.raw for loc in c.cap_add if not loc.resolved]
    if unresolved:
        return CapabilitySuggestion(None, "", unknown=f"cap_add depends on {quoted(unresolved)}, which is unset")
    names = set()
    for loc in c.cap_add:
        # A misspelt name counts as the capability it was meant to be (CAP205 says so).
        name = caps.normalize(loc.value) or caps.suggest(loc.value)
        if name is not None and name != caps.ALL:
            names.add(name)
    return CapabilitySuggestion(tuple(sorted(names)), "what it adds now" if names else "it adds no capability now")


def least_privilege(c: Container, suggestion: CapabilitySuggestion | None = None) -> str:
    """The CAP204 fix text: drop ALL and add back the suggested set."""
    s = suggestion or suggested_capabilities(c)
    drop = spelled(c, "cap_drop: [ALL]", "--cap-drop=ALL")
    if s.cap_add is None:
        return f"add {drop}, then add back only what the workload needs; caplint cannot list its additions: {s.unknown}"
    keep = spelled(c, f"cap_add: [{quoted(s.cap_add)}]", " ".join(f"--cap-add={n}" for n in s.cap_add))
    fix = f"add {drop}" + (f" and keep {keep}" if s.cap_add else "") + f" ({s.basis})"
    if s.complete:
        return fix
    return (f"{fix}; add back a default only where the workload is seen to need it, "
            "such as SETUID and SETGID for an entrypoint that switches user")
