"""Every fixture is linted; its findings must be exactly the (line, rule) pairs
its annotations name — a miss fails, and so does an extra finding.

A finding may sit in another file than the one linted (a Quadlet drop-in's
value): it is compared with that file's own annotations, so drop-in folders
(`*.d/`) are not cases of their own.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from caplint.engine import Settings, lint_text
from caplint.reading import read_file
from conftest import FIXTURES
from expectations import expected, fixture_files, ignored

# The fixture folder → the kind it is linted as (None: by name and content).
KINDS = {"compose": None, "dockerfile": "dockerfile", "shell": "shell", "devcontainer": "devcontainer", "github": "github", "gitlab": "gitlab", "systemd": None, "quadlet": None, "bats": None, "bake": None, "markdown": None, "makefile": None}
CASES = [(kind, p) for kind in KINDS if (FIXTURES / kind).is_dir() for p in fixture_files(FIXTURES / kind)
         if not any(part.endswith(".d") for part in p.relative_to(FIXTURES / kind).parts[:-1])]


@pytest.mark.parametrize(("kind", "path"), CASES, ids=[f"{k}/{p.relative_to(FIXTURES / k)}" for k, p in CASES])
def test_fixture(kind: str, path: Path) -> None:
    text = read_file(str(path))
    settings = Settings(ignore=ignored(text))
    findings = lint_text(str(path), text, KINDS[kind], settings)
    got = {(f.span.path, f.span.line, f.rule_id) for f in findings}
    want = {(str(path), line, rule) for line, rule in expected(text)}
    for other in sorted({f.span.path for f in findings} - {str(path)}):
        want |= {(other, line, rule) for line, rule in expected(read_file(other))}
    detail = "\n".join(f"  {f.span.path}:{f.span.line}:{f.span.column} {f.rule_id} {f.message}" for f in findings)
    assert got == want, (
        f"\nmissing: {sorted(want - got)}\nextra:   {sorted(got - want)}\nall findings:\n{detail}"
    )


def test_every_kind_has_fixtures() -> None:
    for kind in KINDS:
        assert any(k == kind for k, _ in CASES), f"no fixtures for {kind}"
