"""Reads the `# expect:` annotations written inside fixtures.

`expect: CAP202` (or `expect: CAP202, CAP204`) → findings on that line;
`expect+2: CAP202` → two lines below; `expect-1:` → one above.
`fixture: ignore=CAP204,CAP304` → those rules are not run for the file.
"""
from __future__ import annotations

import re
from pathlib import Path

_EXPECT = re.compile(r"expect([+-]\d+)?:\s*((?:CAP\d{3}[\s,]*)+)")
_IGNORE = re.compile(r"fixture:\s*ignore=([A-Z0-9,]+)")


def expected(text: str) -> set[tuple[int, str]]:
    out: set[tuple[int, str]] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        for m in _EXPECT.finditer(line):
            target = number + int(m.group(1) or 0)
            for code in re.findall(r"CAP\d{3}", m.group(2)):
                out.add((target, code))
    return out


def ignored(text: str) -> frozenset[str]:
    return frozenset(code for m in _IGNORE.finditer(text) for code in m.group(1).split(",") if code)


def fixture_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".") and "_support" not in p.relative_to(root).parts
    )
