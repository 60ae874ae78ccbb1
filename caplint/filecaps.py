"""What `setcap` gives files: the capability text of `cap_from_text(3)` read
the way libcap reads it. Shared by the image rules (CAP207), the container
rules (CAP209) and the evidence of what a container needs."""
from __future__ import annotations

from collections.abc import Iterator

from caplint import capabilities as caps
from caplint import lazyre
from caplint.model import Image, Located, Stage
from caplint.values import value

_CLAUSE = lazyre.compile(r"([^=+\-]*)((?:[=+\-][eip]*)+)")
_ACTION = lazyre.compile(r"([=+\-])([eip]*)")


def program_commands(image: Image) -> Iterator[tuple[str, tuple[Located[str], ...]]]:
    """(program, its arguments) for every command of every RUN, behind any wrappers."""
    for stage in image.stages:
        for run in stage.runs:
            for command in run.commands:
                if command.program < len(command.words):
                    name = command.words[command.program].value.rsplit("/", 1)[-1]
                    yield name, command.words[command.program + 1:]


def granted(text: str) -> frozenset[str] | None:
    """Capabilities a `cap_from_text` string leaves permitted or inheritable; None if invalid.

    Clauses are separated by spaces; each is `name[,name…]` followed by actions
    `=`, `+`, `-` with flags `e`, `i`, `p`. An empty name list or `all` means every
    capability; `=` first clears the named capabilities.
    """
    flags: dict[str, set[str]] = {}
    for clause in text.lower().split():
        m = _CLAUSE.fullmatch(clause)
        if m is None:
            return None
        names = m.group(1)
        if names in ("", "all"):
            if names == "" and not m.group(2).startswith("="):
                return None
            targets = sorted(caps.ALL_CAPABILITIES)
        else:
            targets = []
            for name in names.split(","):
                canonical = _capability(name)
                if canonical is None:
                    return None
                targets.append(canonical)
        for op, letters in _ACTION.findall(m.group(2)):
            for target in targets:
                current = flags.setdefault(target, set())
                if op == "=":
                    current.clear()
                if op == "-":
                    current.difference_update(letters)
                else:
                    current.update(letters)
    return frozenset(name for name, f in flags.items() if f & {"p", "i"})


def _capability(name: str) -> str | None:
    if name.isdigit():
        return next((c.name for c in caps.CAPABILITIES.values() if c.number == int(name)), None)
    canonical = caps.normalize(name)
    return None if canonical == caps.ALL else canonical


def setcap_grants(args: tuple[Located[str], ...]) -> Iterator[tuple[Located[str], frozenset[str], str]]:
    """(capability text, what it grants, file) for each pair of a setcap command line."""
    i = 0
    while i < len(args):
        word = args[i].value
        if word in ("-q", "-v", "-f", "-F"):
            i += 1
        elif word == "-n":
            i += 2
        elif word in ("-h", "--license"):
            return
        elif i + 1 < len(args):
            # `-r` removes and `-` reads from stdin: nothing known is granted.
            grants = granted(word) if word not in ("-r", "-") and args[i].resolved else None
            if grants:
                yield args[i], grants, args[i + 1].value
            i += 2
        else:
            return


def effective_flag(text: str) -> bool:
    """Whether the text leaves the file's effective bit set (libcap sets one
    bit for the file: on when any capability ends with `e`)."""
    on = False
    for clause in text.lower().split():
        m = _CLAUSE.fullmatch(clause)
        for op, letters in _ACTION.findall(m.group(2)) if m else ():
            if "e" in letters:
                on = op != "-"
            elif op == "=":
                on = False
    return on


@value
class FileCaps:
    """A file `setcap` gives capabilities in the image: which, and where."""

    path: str
    capabilities: frozenset[str]
    effective: bool
    written: Located[str]


def chain(image: Image, index: int) -> list[Stage]:
    """The stage at `index` and the stages of this file it is built FROM, oldest first."""
    out: list[Stage] = []
    seen: set[int] = set()
    at: int | None = index
    while at is not None and at not in seen and 0 <= at < len(image.stages):
        seen.add(at)
        out.append(image.stages[at])
        at = image.stages[at].parent
    return out[::-1]


def image_files(image: Image, index: int) -> dict[str, FileCaps]:
    """Files of the image built to stage `index` that carry capabilities (the last setcap wins)."""
    out: dict[str, FileCaps] = {}
    for stage in chain(image, index):
        for run in stage.runs:
            for command in run.commands:
                if command.program < len(command.words) and \
                        command.words[command.program].value.rsplit("/", 1)[-1] == "setcap":
                    for text, grants, path in setcap_grants(command.words[command.program + 1:]):
                        out[path] = FileCaps(path, grants, effective_flag(text.value), text)
    return out
