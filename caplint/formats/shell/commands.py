"""Simple commands of a shell text, and the program each one really runs.

Apart from `shell.py` so that the Dockerfile parser can read its `RUN`s
without importing the docker/podman option tables that only `shell.parse`
needs. The wrapper table lives here, once, because both the container rules
(`sudo docker run …`) and the image rules (`timeout 60 chmod 4755 …`) need
the real program, and that is knowledge of commands, not of security.
"""
from __future__ import annotations

from collections.abc import Sequence

from caplint.model import Command, Located, Problem, Span
from caplint.formats.shell import bash as _bash
from caplint.values import field, value


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


# POSIX shells whose `-c` argument is a script (and the Dockerfile's list).
SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh", "zsh", "busybox"})
MAX_NESTING = 4  # sh -c "sh -c '…'" deep enough for real scripts, bounded for hostile ones


def commands(text: str, path: str, *, first_line: int = 1, embedded: list[Problem] | None = None,
             _depth: int = 0) -> tuple[list[Command], list[Problem]]:
    """Every simple command in `text`, with each word after quote removal and located.

    Line 1 of `text` is line `first_line` of the file (the Dockerfile parser
    passes a `RUN` instruction's lines with the keyword blanked out). The
    script of `sh -c '…'` / `bash -c "…"` is read as shell too, its commands
    following the shell's own; its syntax errors are not this text's (bash
    only reads the script when it runs it) and go to `embedded` when given.
    """
    src = _bash.Source(text, path, first_line)
    out = []
    for node in src.command_nodes():
        words = [_bash.located(g, src) for g in _bash.word_groups(node, src)]
        if not words:
            continue
        found = command(words)
        out.append(found)
        script = embedded_script(found) if _depth < MAX_NESTING else None
        if script is not None:
            inner, problems = commands(script[0], path, first_line=script[1], embedded=embedded, _depth=_depth + 1)
            out.extend(inner)
            if embedded is not None:
                embedded.extend(problems)
    problem = _bash.first_problem(src)
    return out, [problem] if problem else []


def embedded_script(cmd: Command) -> tuple[str, int] | None:
    """The script of `sh -c SCRIPT` (`bash -ec '…'`, `sh -o pipefail -c …`) as
    text to parse and the file line it starts on, columns kept where the script
    is written as one quoted or bare word; None when this is no such command."""
    words = cmd.words
    i = cmd.program
    if i >= len(words) or not words[i].resolved or basename(words[i].value) not in SHELLS:
        return None
    i += 1
    if i < len(words) and basename(words[i - 1].value) == "busybox":
        if basename(words[i].value) not in SHELLS:
            return None
        i += 1
    has_c = False
    while i < len(words) and words[i].value.startswith(("-", "+")) and words[i].value not in ("-", "--"):
        flag = words[i].value
        i += 1
        if not flag.startswith("--") and "c" in flag[1:]:
            has_c = True
        elif flag in ("-o", "+o", "-O", "+O") and i < len(words):
            i += 1  # the option's name
    if i < len(words) and words[i].value == "--":
        i += 1
    if not has_c or i >= len(words):
        return None
    script = words[i]
    raw, span = script.raw, script.span
    inner = raw[1:-1]
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"" and script.value in (inner, inner.replace("\\\n", "")):
        # After the opening quote; a `\`-newline bash removed inside "…" is
        # kept, as the inner shell reads it the same way and lines stay put.
        return " " * span.column + inner, span.line
    if script.value == raw:
        return " " * (span.column - 1) + script.value, span.line
    return script.value, span.line  # escapes inside: lines are kept, columns are not


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
