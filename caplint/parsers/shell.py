"""Shell scripts → the docker/podman/nerdctl containers their commands declare.

tree-sitter-bash tells commands apart from comments, quoted strings, heredoc
bodies and the arguments of other commands, so `echo "docker run
--privileged"` is text and `x=$(docker run --privileged …)` is a command. A
command counts wherever bash would run it: in functions, `if`/`while`/`for`/
`case`, `$(…)` and backticks (also inside double quotes and unquoted heredocs,
where bash runs them too), pipelines, `&&`/`||` lists and subshells.
"""
from __future__ import annotations

from collections.abc import Sequence

from caplint.model import Container, Located, ParseResult
from caplint.parsers import _bash, runflags
from caplint.parsers._commands import WRAPPERS, basename, cover, unwrap
from caplint.parsers._commands import commands as commands  # re-exported: one shell API for callers
from caplint.parsers._runmodel import fields
from caplint.parsers.runflags import Table

# The program's base name → (runtime, whether it is a Compose front end).
_PROGRAMS: dict[str, tuple[str, bool]] = {
    "docker": ("docker", False),
    "podman": ("podman", False),
    "nerdctl": ("nerdctl", False),
    "docker-compose": ("docker", True),
    "podman-compose": ("podman", True),
}
_INTERESTING = frozenset(_PROGRAMS) | frozenset(WRAPPERS)


def parse(text: str, path: str) -> ParseResult:
    """One Container per docker/podman/nerdctl command that declares or enters a container."""
    src = _bash.Source(text, path)
    result = ParseResult()
    for node in src.command_nodes():
        name = _bash.name_node(node)
        if name is None or name.type in _bash.EXPANSION_TYPES or basename(_bash.value_of(name, src)) not in _INTERESTING:
            continue  # most commands: skip before locating every word
        words = [_bash.located(g, src) for g in _bash.word_groups(node, src)]
        container = container_for(words)
        if container is not None:
            result.containers.append(container)
    problem = _bash.first_problem(src)
    if problem is not None:
        result.problems.append(problem)
    return result


def container_for(words: Sequence[Located[str]]) -> Container | None:
    """The Container a command's words declare, or None if it declares none."""
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
        source_kind="shell",
        runtime=runtime,  # type: ignore[arg-type]
        complete=complete,
        image=target if table in (runflags.RUN, runflags.SERVICE_CREATE) else None,
        **fields(options, runtime),
    )


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

