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
from caplint.formats.shell.commands import basename
from caplint.formats.shell.commands import commands as commands  # re-exported: one shell API for callers
from caplint.model import ParseResult


def parse(text: str, path: str) -> ParseResult:
    """One Container per docker/podman/nerdctl command that declares or enters a container."""
    src = _bash.Source(text, path)
    result = ParseResult()
    for node in src.command_nodes():
        name = _bash.name_node(node)
        if name is None or name.type in _bash.EXPANSION_TYPES or basename(_bash.value_of(name, src)) not in INTERESTING:
            continue  # most commands: skip before locating every word
        words = [_bash.located(g, src) for g in _bash.word_groups(node, src)]
        container = container_for(words)
        if container is not None:
            result.containers.append(container)
    problem = _bash.first_problem(src)
    if problem is not None:
        result.problems.append(problem)
    return result
