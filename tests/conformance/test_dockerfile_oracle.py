"""caplint's reading of Dockerfiles against BuildKit's own parser.

BuildKit (the `dockerfile` package) says where each instruction starts and
ends, which flags a RUN has, what each FROM builds on and what each USER says;
caplint's Image must say the same: its stages, their RUNs (lines and flags)
and the users, including the final stage's runtime user.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given

from caplint.formats.dockerfile import directives, parser as caplint_dockerfile
from caplint.model import Image
from caplint.reading import decode
from conftest import FIXTURES, ROOT
from generators import dockerfiles
from references import buildkit_parser, cases

pytestmark = pytest.mark.conformance

CASES = cases(250)


@pytest.fixture(scope="module")
def buildkit() -> Any:
    return buildkit_parser()


def _unquoted(word: str) -> str:
    return word[1:-1] if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'" else word


def reference_view(commands: Any) -> list[dict[str, Any]]:
    """Per stage: FROM line, base, name, RUNs (lines, flags), USERs (line, user).

    A stage built FROM an earlier stage starts with that stage's users, as the
    image it builds on carries them. A USER with a `$` is left out: BuildKit's
    parser does not expand it (the builder does, from ENV/ARG) and caplint
    expands it from the defaults, so that comparison belongs to caplint's own tests.
    """
    stages: list[dict[str, Any]] = []
    named: dict[str, dict[str, Any]] = {}
    for c in commands:
        keyword = c.cmd.upper()
        if keyword == "FROM":
            base = c.value[0]
            name = c.value[2] if len(c.value) >= 3 and c.value[1].lower() == "as" else None
            parent = named.get(base.lower())
            stage = {"line": c.start_line, "base": base, "name": name, "runs": [],
                     "users": list(parent["users"]) if parent else []}
            stages.append(stage)
            if name:
                named[name.lower()] = stage
        elif not stages:
            continue
        elif keyword == "RUN":
            stages[-1]["runs"].append((c.start_line, c.end_line, tuple(c.flags)))
        elif keyword == "ONBUILD" and (c.sub_cmd or "").upper() == "RUN":
            # The parser keeps an ONBUILD's flags in its text: `ONBUILD RUN --network=host …`.
            words = c.original.split()[2:]
            flags = tuple(w for w in words[: next((i for i, w in enumerate(words) if not w.startswith("--")), len(words))])
            stages[-1]["runs"].append((c.start_line, c.end_line, flags))
        elif keyword == "USER" and "$" not in c.value[0]:
            stages[-1]["users"].append((c.start_line, _unquoted(c.value[0])))
    return stages


def caplint_view(image: Image) -> list[dict[str, Any]]:
    return [
        {"line": s.span.line, "base": s.base.raw, "name": s.name,
         "runs": [(r.span.line, r.span.end_line, tuple(f.value for f in r.flags)) for r in s.runs],
         "users": [(u.span.line, u.value) for u in s.users if "$" not in u.raw]}
        for s in image.stages
    ]


def as_current_buildkit(text: str) -> str:
    """The text for the reference's BuildKit (v0.12), which predates the
    `# check=` directive (Dockerfile 1.8, BuildKit 0.15): to it a `check` line
    is an unknown directive and ends the directives, so an `# escape=` after it
    is a comment. caplint follows current Docker, where `check` is a directive;
    on purpose. The check lines move after the other directives (same lines)."""
    lines = text.split("\n")
    count = 0
    while count < len(lines) and directives.is_directive(lines[count]):
        count += 1
    head = lines[:count]
    head = [x for x in head if not _is_check(x)] + [x for x in head if _is_check(x)]
    return "\n".join(head + lines[count:])


def _is_check(line: str) -> bool:
    return line.lstrip("#").strip().lower().startswith("check")


def compare(buildkit: Any, text: str, path: str) -> None:
    try:
        commands = buildkit.parse_string(as_current_buildkit(text))
    except buildkit.GoParseError as err:
        pytest.fail(f"BuildKit rejects a Dockerfile caplint's fixtures or generators call valid: {err}")
    # caplint reads a file as `reading` decodes it (CRLF becomes LF); BuildKit gets the bytes.
    result = caplint_dockerfile.parse(decode(text.encode("utf-8"), path), path)
    assert not result.problems, result.problems
    reference = reference_view(commands)
    ours = caplint_view(result.images[0]) if result.images else []
    assert ours == reference
    final = reference[-1]["users"][-1][1] if reference and reference[-1]["users"] else None
    ours_final = ours[-1]["users"][-1][1] if ours and ours[-1]["users"] else None
    assert ours_final == final


@CASES
@given(text=dockerfiles())
def test_generated_dockerfiles(buildkit: Any, text: str) -> None:
    event("escape=`" if "# escape=`" in text else "escape=\\")
    event("heredoc" if "<<" in text else "no heredoc")
    compare(buildkit, text, "/nonexistent/Dockerfile")


def _dockerfile_paths() -> list[Path]:
    found = [p for p in (FIXTURES / "dockerfile").rglob("*") if p.is_file()]
    return sorted(found + [ROOT / "examples" / "Dockerfile"])


@pytest.mark.parametrize("path", _dockerfile_paths(), ids=lambda p: str(p.relative_to(ROOT)))
def test_fixture_dockerfiles(buildkit: Any, path: Path) -> None:
    compare(buildkit, path.read_text(encoding="utf-8"), str(path))
