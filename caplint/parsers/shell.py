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
from dataclasses import dataclass, field

from caplint.model import Command, Container, Located, ParseResult, Problem, Span
from caplint.parsers import _bash, runflags
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


@dataclass(frozen=True)
class _Wrapper:
    """A command that runs the rest of its arguments as another command."""

    short_values: str = ""  # short options that take a value
    long_values: frozenset[str] = frozenset()
    assignments: bool = False  # `env A=1 cmd`, `sudo A=1 cmd`
    operands: int = 0  # `timeout 30 cmd`: words between the options and the command
    no_command: frozenset[str] = field(default_factory=frozenset)  # `command -v docker` runs nothing


# Option letters from sudo(8), doas(1), env(1), GNU time(1), nice(1), exec
# (bash builtin), timeout(1) and GNU xargs(1). xargs appends its input to the
# command, so a `docker run` behind it may have no image word: its options
# before that still count.
_WRAPPERS: dict[str, _Wrapper] = {
    "sudo": _Wrapper(
        "CDgpRrTtUu",
        frozenset({"--close-from", "--chdir", "--group", "--host", "--prompt", "--chroot", "--role",
                   "--command-timeout", "--type", "--other-user", "--user"}),
        assignments=True,
        no_command=frozenset({"-e", "--edit", "-l", "--list", "-V", "--version", "-v", "--validate"}),
    ),
    "doas": _Wrapper("uC"),
    "env": _Wrapper("uCS", frozenset({"--unset", "--chdir", "--split-string"}), assignments=True),
    "time": _Wrapper("fo", frozenset({"--format", "--output"})),
    "command": _Wrapper(no_command=frozenset({"-v", "-V"})),
    "nice": _Wrapper("n", frozenset({"--adjustment"})),
    "nohup": _Wrapper(),
    "exec": _Wrapper("a"),
    "timeout": _Wrapper("sk", frozenset({"--signal", "--kill-after"}), operands=1),
    "xargs": _Wrapper(
        "adEILnPs",
        frozenset({"--arg-file", "--delimiter", "--max-args", "--max-procs", "--max-chars", "--process-slot-var"}),
    ),
}
_INTERESTING = frozenset(_PROGRAMS) | frozenset(_WRAPPERS)


def commands(text: str, path: str, *, first_line: int = 1) -> tuple[list[Command], list[Problem]]:
    """Every simple command in `text`, with each word after quote removal and located.

    Line 1 of `text` is line `first_line` of the file (the Dockerfile parser
    passes a `RUN` instruction's lines with the keyword blanked out).
    """
    src = _bash.Source(text, path, first_line)
    out = []
    for node in src.command_nodes():
        words = [_bash.located(g, src) for g in _bash.word_groups(node, src)]
        if words:
            out.append(Command(tuple(words), _cover(words)))
    problem = _bash.first_problem(src)
    return out, [problem] if problem else []


def parse(text: str, path: str) -> ParseResult:
    """One Container per docker/podman/nerdctl command that declares or enters a container."""
    src = _bash.Source(text, path)
    result = ParseResult()
    for node in src.command_nodes():
        name = _bash.name_node(node)
        if name is None or name.type in _bash.EXPANSION_TYPES or _basename(_bash.value_of(name, src)) not in _INTERESTING:
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
    i = _unwrap(words)
    if i is None or i >= len(words) or not words[i].resolved:
        return None
    program = _basename(words[i].value)
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
        span=_cover(words),
        source_kind="shell",
        runtime=runtime,  # type: ignore[arg-type]
        complete=complete,
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


def _unwrap(words: Sequence[Located[str]]) -> int | None:
    """The index of the real program behind `sudo -u x env A=1 nice -n 5 …`."""
    i = 0
    while i < len(words):
        wrapper = _WRAPPERS.get(_basename(words[i].value)) if words[i].resolved else None
        if wrapper is None:
            return i
        after = _skip_wrapper_args(words, i + 1, wrapper)
        if after is None:
            return None
        i = after
    return None


def _skip_wrapper_args(words: Sequence[Located[str]], i: int, w: _Wrapper) -> int | None:
    while i < len(words):
        text = words[i].value
        if text in w.no_command:
            return None
        if text == "--":
            i += 1
            break
        if text.startswith("--"):
            i += 2 if text in w.long_values else 1
        elif text.startswith("-") and len(text) > 1:
            i += 1
            for j, letter in enumerate(text[1:], 1):
                if "-" + letter in w.no_command:
                    return None
                if letter in w.short_values:
                    i += 1 if j == len(text) - 1 else 0  # `-u root` vs `-uroot`
                    break
        elif w.assignments and _is_assignment(text):
            i += 1
        else:
            break
    while i < len(words) and w.assignments and _is_assignment(words[i].value):
        i += 1
    return i + w.operands


def _is_assignment(text: str) -> bool:
    name, eq, _ = text.partition("=")
    return bool(eq) and name.replace("_", "a").isalnum() and not name[:1].isdigit()


def _word(words: Sequence[Located[str]], i: int) -> str | None:
    return words[i].value if i < len(words) and words[i].resolved else None


def _basename(text: str) -> str:
    return text.rsplit("/", 1)[-1]


def _cover(words: Sequence[Located[str]]) -> Span:
    first, last = words[0].span, words[-1].span
    return Span(first.path, first.line, first.column, last.end_line, last.end_column)
