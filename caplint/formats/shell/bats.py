"""bats test files (`*.bats`): bash, plus the `@test "name" { … }` header.

bats-core turns each `@test` line into a function definition before bash reads
the file. The same is done here, keeping every other character in place: the
header up to its `{` becomes `f()` padded with blanks, so each command keeps
its line and column. The `run` helper (`run docker run --cap-add=…`) runs its
arguments; it is in the shell wrapper table (`shell/commands.py`).
"""
from __future__ import annotations

import re

from caplint.formats.shell import parser as shell
from caplint.model import ParseResult
from caplint import lazyre

# bats-core's preprocessor (libexec/bats-core/bats-preprocess): `@test`, blanks,
# the name (quoted or not), blanks, `{`, the rest of the line.
_TEST = lazyre.compile(r"^([ \t]*)(@test[ \t]+.*[^ \t][ \t]+)\{", re.MULTILINE)


def parse(text: str, path: str) -> ParseResult:
    return shell.parse(as_bash(text), path)


def as_bash(text: str) -> str:
    """The file as bash reads it after bats' preprocessing, with the same positions."""
    if "@test" not in text:
        return text
    return _TEST.sub(lambda m: m.group(1) + "f()" + " " * (len(m.group(2)) - 3) + "{", text)
