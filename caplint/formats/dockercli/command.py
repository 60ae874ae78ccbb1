"""THE docker/podman/nerdctl command line: its words → the Container it declares.

Every format that carries such a command line uses this one model: shell
scripts (and the `RUN`s, CI scripts, Makefile recipes that embed them),
devcontainer `runArgs`, CI `options:` strings, systemd `ExecStart=` and
Quadlet `PodmanArgs=`. The words come in already split and located by the
host format; this module knows only what docker, podman and nerdctl make of
them (subcommands, option tables, what comes after the image).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from caplint.formats.dockercli import flags as runflags
from caplint.formats.dockercli.fields import fields
from caplint.formats.dockercli.flags import Option, Table
from caplint.formats.shell.commands import WRAPPERS, basename, cover, unwrap
from caplint.model import Container, Located, SourceKind, Span

# The program's base name → (runtime, whether it is a Compose front end).
_PROGRAMS: dict[str, tuple[str, bool]] = {
    "docker": ("docker", False),
    "podman": ("podman", False),
    "nerdctl": ("nerdctl", False),
    "docker-compose": ("docker", True),
    "podman-compose": ("podman", True),
}
INTERESTING = frozenset(_PROGRAMS) | frozenset(WRAPPERS)


def container_for(words: Sequence[Located[str]], source_kind: SourceKind = "shell") -> Container | None:
    """The Container a command's words declare, or None if it declares none;
    `source_kind` names the format the line was written in."""
    i = unwrap(words)
    if i is None or i >= len(words) or not words[i].resolved:
        return None
    program = basename(words[i].value)
    if program not in _PROGRAMS:
        return None
    runtime, compose_front_end = _PROGRAMS[program]
    if compose_front_end:
        found = _compose_run(words, i + 1)
    else:
        _, k = runflags.scan(words, i + 1, runflags.GLOBAL[runtime])
        found = _subcommand(words, k)
    if found is None:
        return None
    label, table, start, complete = found
    options, operand = runflags.scan(words, start, table)
    target = words[operand] if operand < len(words) else None
    name = " ".join([program, label] + ([target.value] if target else []))
    return Container(
        name=name,
        span=cover(words),
        source_kind=source_kind,
        runtime=runtime,  # type: ignore[arg-type]
        complete=complete,
        image=target if table in (runflags.RUN, runflags.SERVICE_CREATE) else None,
        options_at=_after(words[start - 1]),
        **fields(options, runtime),
    )


def _after(verb: Located[str]) -> Span | None:
    """The point just after the subcommand, when it is written as plain text
    (`run`, not `"run"` or `r\\un`): new options go there."""
    if verb.raw != verb.value or not verb.resolved:
        return None
    s = verb.span
    return Span(s.path, s.end_line, s.end_column, s.end_line, s.end_column)


def options(words: Sequence[Located[str]], table: Table = runflags.RUN,
            runtime: str = "docker") -> tuple[dict[str, Any], int]:
    """Container fields from option words that are not a whole command line —
    devcontainer `runArgs`, a CI job's `options:` — and the index of the first
    word that is not an option (the rest is not read: the host adds the image)."""
    found, operand = runflags.scan(words, 0, table)
    return fields(found, runtime), operand


def option(name: str, value: Located[str], runtime: str = "docker") -> dict[str, Any]:
    """Container fields of one option given as a value of its own (a CI `volumes:`
    item is a `-v` value, a devcontainer `mounts` string a `--mount` value)."""
    flag = runflags.RUN.get(name)
    assert flag is not None, name
    return fields([Option(flag, name, value, value, 0)], runtime)


def _subcommand(words: Sequence[Located[str]], k: int) -> tuple[str, Table, int, bool] | None:
    """(label, option table, index of its first option, complete) for `docker <k…>`."""
    verb = _word(words, k)
    if verb == "container":
        verb2 = _word(words, k + 1)
        if verb2 in ("run", "create"):
            return f"container {verb2}", runflags.RUN, k + 2, True
        if verb2 == "exec":
            return "container exec", runflags.EXEC, k + 2, False
        return None
    if verb in ("run", "create"):
        return verb, runflags.RUN, k + 1, True
    if verb == "exec":
        return verb, runflags.EXEC, k + 1, False
    if verb == "compose":
        found = _compose_run(words, k + 1)
        return (f"compose {found[0]}", *found[1:]) if found else None
    if verb == "service" and _word(words, k + 1) == "create":
        return "service create", runflags.SERVICE_CREATE, k + 2, True
    if verb in ("image", "builder") and _word(words, k + 1) == "build":
        return f"{verb} build", runflags.BUILD, k + 2, False
    if verb == "build":
        return verb, runflags.BUILD, k + 1, False
    if verb == "buildx":
        _, j = runflags.scan(words, k + 1, runflags.BUILDX_GLOBAL)
        if _word(words, j) in ("build", "b"):
            return f"buildx {_word(words, j)}", runflags.BUILD, j + 1, False
    return None


def _compose_run(words: Sequence[Located[str]], k: int) -> tuple[str, Table, int, bool] | None:
    _, j = runflags.scan(words, k, runflags.COMPOSE_GLOBAL)
    if _word(words, j) == "run":
        # The service is defined in the Compose file; only this run's extras are here.
        return "run", runflags.COMPOSE_RUN, j + 1, False
    return None


def _word(words: Sequence[Located[str]], i: int) -> str | None:
    return words[i].value if i < len(words) and words[i].resolved else None

