"""systemd service units → the containers their `Exec*=` command lines start.

`ExecStart=`, `ExecStartPre=`, `ExecStartPost=` and `ExecReload=` in
`[Service]` (systemd.service(5)) whose program is docker, podman or nerdctl,
by name or by path (`/usr/bin/docker`), also behind `env`/`sudo`. Each line
may start with systemd's prefixes `-`, `@`, `:`, `+`, `!`, `!!`, `|` (in any
combination); after `@` the second word is only argv[0], so it is skipped.
One line can hold several commands separated by a lone `;`. A command that
is `sh -c SCRIPT` (bash, dash, … too) has its script read as shell, each
character at its place in the unit. An empty
assignment (`ExecStartPre=`) resets the commands of that key given before it.
The words are systemd's (see `words.py`); what they mean to docker is
`formats.dockercli`'s job.

systemd skips, with a warning, an `Exec*=` line it cannot split (an
unterminated quote): the container it would start never starts, so such a
line of a docker/podman/nerdctl command is a CAP001.
"""
from __future__ import annotations


from caplint.formats.dockercli.command import INTERESTING, container_for
from caplint.formats.embedded import Piece, Region
from caplint.formats.shell.commands import basename
from caplint.formats.systemd import ini
from caplint.formats.systemd.words import SyntaxProblem, split_mapped
from caplint.model import Located, ParseResult, Problem, Span
from caplint import lazyre

EXEC_KEYS = ("ExecStart", "ExecStartPre", "ExecStartPost", "ExecReload")
_PREFIXES = "-@:+!|"
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "zsh"})
_SHELL_C = lazyre.compile(r"^-[A-Za-z]*c[A-Za-z]*$")


def parse(text: str, path: str) -> ParseResult:
    result = ParseResult()
    unit = ini.read(text, path)
    for entry in _exec_entries(unit):
        value = entry.value
        start = len(value.text) - len(value.text.lstrip(_PREFIXES))
        try:
            mapped = split_mapped(value)
        except SyntaxProblem as err:
            if _interesting(value.text[start:].split(None, 1)):
                line, column = value.at(err.offset)
                result.problems.append(Problem(Span.point(path, line, column),
                                               f"systemd ignores this {entry.key}= line: {err}"))
            continue
        offsets = {id(word): where for word, where in mapped}
        for command in _commands([word for word, _ in mapped], value.text[:start]):
            container = container_for(command, "systemd")
            if container is not None:
                result.containers.append(container)
            elif len(command) >= 3 and basename(command[0].value) in _SHELLS and _SHELL_C.match(command[1].value):
                # `/bin/sh -c "docker run …"`: the script is shell, each character at its place in the unit.
                script = command[2]
                result.containers += _script(value, script, offsets.get(id(script), [])).containers
    return result


def _script(value: ini.Value, word: Located[str], offsets: list[int]) -> ParseResult:
    from caplint.formats.shell import parser as shell

    if len(offsets) != len(word.value) or not _INTERESTING_TEXT.search(word.value):
        return ParseResult()
    pieces: list[Piece] = []
    for char, offset in zip(word.value, offsets):
        line, column = value.at(offset)
        last = pieces[-1] if pieces else None
        if last is not None and "\n" not in last.text and last.line == line and last.column + len(last.text) == column:
            pieces[-1] = Piece(last.text + char, line, last.column)
        else:
            pieces.append(Piece(char, line, column))
    found = Region(value.path, pieces).parse_with(shell.parse)
    return ParseResult(containers=[c for c in found.containers])


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


_INTERESTING_TEXT = lazyre.compile(r"docker|podman|nerdctl")


def _interesting(head: list[str]) -> bool:
    return bool(head) and basename(head[0].strip("'\"")) in INTERESTING
