"""Simple commands of a shell text, and the program each one really runs.

Apart from `shell.py` so that the Dockerfile parser can read its `RUN`s
without importing the docker/podman option tables that only `shell.parse`
needs. The wrapper table lives here, once, because both the container rules
(`sudo docker run …`) and the image rules (`timeout 60 chmod 4755 …`) need
the real program, and that is knowledge of commands, not of security.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field

from caplint.model import Command, Located, Problem, Span
from caplint.formats.shell import bash as _bash
from caplint.values import value


@value
class _Wrapper:
    """A command that runs the rest of its arguments as another command."""

    short_values: str = ""  # short options that take a value
    long_values: frozenset[str] = frozenset()
    assignments: bool = False  # `env A=1 cmd`, `sudo A=1 cmd`
    operands: int = 0  # `timeout 30 cmd`: words between the options and the command
    no_command: frozenset[str] = field(default_factory=frozenset)  # `command -v docker` runs nothing
    markers: frozenset[str] = frozenset()  # words that are options though not `-`-led (bats `run !`)


# Option letters from sudo(8), doas(1), env(1), GNU time(1), nice(1), exec
# (bash builtin), timeout(1), GNU xargs(1), busybox(1) (which runs the
# applet named by its first argument) and bats' `run` helper (bats-core
# "Writing tests": `run [-N] [!] [--keep-empty-lines] [--separate-stderr] [--] cmd`). xargs appends its input to the
# command, so a `docker run` behind it may have no image word: its options
# before that still count.
WRAPPERS: dict[str, _Wrapper] = {
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
    "busybox": _Wrapper(no_command=frozenset({"--list", "--list-full", "--install", "--help"})),
    "run": _Wrapper(markers=frozenset({"!"})),
}


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
            out.append(command(words))
    problem = _bash.first_problem(src)
    return out, [problem] if problem else []


def command(words: Sequence[Located[str]], span: Span | None = None) -> Command:
    """A Command of `words` (at least one), spanning them unless `span` is given."""
    program = unwrap(words)
    return Command(tuple(words), span or cover(words), len(words) if program is None else program)


def unwrap(words: Sequence[Located[str]]) -> int | None:
    """The index of the real program behind `sudo -u x env A=1 nice -n 5 …`, or
    None when the wrappers run no command (`sudo -l`, `command -v docker`)."""
    i = 0
    while i < len(words):
        wrapper = WRAPPERS.get(basename(words[i].value)) if words[i].resolved else None
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
        if text in w.markers:
            i += 1
            continue
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


def basename(text: str) -> str:
    return text.rsplit("/", 1)[-1]


def cover(words: Sequence[Located[str]]) -> Span:
    first, last = words[0].span, words[-1].span
    return Span(first.path, first.line, first.column, last.end_line, last.end_column)
