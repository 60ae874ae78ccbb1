"""systemd service units → the containers their `Exec*=` command lines start.

`ExecStart=`, `ExecStartPre=`, `ExecStartPost=` and `ExecReload=` in
`[Service]` (systemd.service(5)) whose program is docker, podman or nerdctl,
by name or by path (`/usr/bin/docker`), also behind `env`/`sudo`. Each line
may start with systemd's prefixes `-`, `@`, `:`, `+`, `!`, `!!`, `|` (in any
combination); after `@` the second word is only argv[0], so it is skipped.
One line can hold several commands separated by a lone `;`. An empty
assignment (`ExecStartPre=`) resets the commands of that key given before it.
The words are systemd's (see `words.py`); what they mean to docker is
`formats.dockercli`'s job.

systemd skips, with a warning, an `Exec*=` line it cannot split (an
unterminated quote): the container it would start never starts, so such a
line of a docker/podman/nerdctl command is a CAP001.
"""
from __future__ import annotations

from caplint.formats.dockercli.command import INTERESTING, container_for
from caplint.formats.shell.commands import basename
from caplint.formats.systemd import ini
from caplint.formats.systemd.words import SyntaxProblem, split
from caplint.model import Located, ParseResult, Problem, Span

EXEC_KEYS = ("ExecStart", "ExecStartPre", "ExecStartPost", "ExecReload")
_PREFIXES = "-@:+!|"


def parse(text: str, path: str) -> ParseResult:
    result = ParseResult()
    unit = ini.read(text, path)
    for entry in _exec_entries(unit):
        value = entry.value
        start = len(value.text) - len(value.text.lstrip(_PREFIXES))
        try:
            words = split(value)
        except SyntaxProblem as err:
            if _interesting(value.text[start:].split(None, 1)):
                line, column = value.at(err.offset)
                result.problems.append(Problem(Span.point(path, line, column),
                                               f"systemd ignores this {entry.key}= line: {err}"))
            continue
        for command in _commands(words, value.text[:start]):
            container = container_for(command, "systemd")
            if container is not None:
                result.containers.append(container)
    return result


def _exec_entries(unit: ini.Unit) -> list[ini.Entry]:
    """The `Exec*=` assignments that are in force, in order (an empty one resets its key)."""
    kept: list[ini.Entry] = []
    for entry in unit.get("Service"):
        if entry.key not in EXEC_KEYS:
            continue
        if not entry.value.text:
            kept = [e for e in kept if e.key != entry.key]
        else:
            kept.append(entry)
    return kept


def _commands(words: list[Located[str]], prefixes: str) -> list[list[Located[str]]]:
    """The line's commands (split at lone `;`), with the prefixes taken off the first word."""
    if not words:
        return []
    first = words[0]
    if prefixes and first.raw.startswith(prefixes):
        cut = len(prefixes)
        if len(first.value) <= cut:
            words = words[1:]  # `- /usr/bin/docker`: not how systemd spells it, but harmless
        else:
            words = [_drop(first, cut), *words[1:]]
    out: list[list[Located[str]]] = []
    current: list[Located[str]] = []
    for word in words:
        if word.raw == ";":
            out.append(current)
            current = []
        else:
            current.append(word)
    out.append(current)
    if "@" in prefixes and out[0]:
        out[0] = out[0][:1] + out[0][2:]  # `@/usr/bin/docker docker run …`: argv[0] is not an argument
    return [c for c in out if c]


def _drop(word: Located[str], cut: int) -> Located[str]:
    """The word without its first `cut` characters (the prefixes)."""
    s = word.span
    span = Span(s.path, s.line, s.column + cut, s.end_line, s.end_column)
    return Located(word.value[cut:], span, word.raw[cut:], word.resolved)


def _interesting(head: list[str]) -> bool:
    return bool(head) and basename(head[0].strip("'\"")) in INTERESTING
