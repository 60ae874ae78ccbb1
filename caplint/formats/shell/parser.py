"""Shell scripts → the docker/podman/nerdctl containers their commands declare.

tree-sitter-bash tells commands apart from comments, quoted strings, heredoc
bodies and the arguments of other commands, so `echo "docker run
--privileged"` is text and `x=$(docker run --privileged …)` is a command. A
command counts wherever bash would run it: in functions, `if`/`while`/`for`/
`case`, `$(…)` and backticks (also inside double quotes and unquoted heredocs,
where bash runs them too), pipelines, `&&`/`||` lists and subshells. What a
command's words mean to docker/podman/nerdctl is `formats.dockercli`'s job.
"""
from __future__ import annotations

from caplint.formats.dockercli.command import INTERESTING, container_for
from caplint.formats.shell import bash as _bash
from caplint.formats.shell.commands import MAX_NESTING, SHELLS, WRAPPERS, basename, command, embedded_script
from caplint.formats.shell.commands import commands as commands  # re-exported: one shell API for callers
from caplint.model import ParseResult

# Programs that may run a shell whose `-c` script holds the docker command.
_WRAPPING = SHELLS | frozenset(WRAPPERS)


def parse(text: str, path: str, *, first_line: int = 1, _depth: int = 0) -> ParseResult:
    """One Container per docker/podman/nerdctl command that declares or enters a
    container, also inside the script of `sh -c '…'` / `bash -c "…"` (whose own
    syntax errors are not this file's: bash reads that script only when it runs it)."""
    src = _bash.Source(text, path, first_line)
    result = ParseResult()
    for node in src.command_nodes():
        name = _bash.name_node(node)
        if name is None or name.type in _bash.EXPANSION_TYPES:
            continue
        program = basename(_bash.value_of(name, src))
        if program not in INTERESTING and program not in _WRAPPING:
            continue  # most commands: skip before locating every word
        words = [_bash.located(g, src) for g in _bash.word_groups(node, src)]
        container = container_for(words)
        if container is not None:
            result.containers.append(container)
        script = embedded_script(command(words)) if _depth < MAX_NESTING else None
        if script is not None:
            result.containers += parse(script[0], path, first_line=script[1], _depth=_depth + 1).containers
    problem = _bash.first_problem(src)
    if problem is not None and _depth == 0:
        result.problems.append(problem)
    return result
