"""Property tests for every parser: arbitrary text and mutated fixtures.

Whatever the text, a parser returns a ParseResult and never raises, and every
span it reports lies inside the file (1 ≤ line ≤ lines + 1, columns ≥ 1); the
engine then turns the result into findings without raising either.
"""
from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from caplint import values
from caplint.engine import lint_text
from caplint.model import ParseResult, Span
from caplint.reading import ReadError, decode
from conftest import FIXTURES

KINDS = ("compose", "dockerfile", "shell")
# A folder that does not exist: the Compose parser reads `.env` and `extends`
# files beside the path, and a property test must not depend on the disk.
NOWHERE = "/nonexistent-caplint-properties"
NAMES = {"compose": "docker-compose.yml", "dockerfile": "Dockerfile", "shell": "deploy.sh"}

# Small seeds so mutations have material even where a kind has few fixtures.
SEEDS = {
    "compose": "x-base: &base\n  cap_drop: [ALL]\nservices:\n  web:\n    <<: *base\n    image: nginx\n"
               "    privileged: ${PRIV:-true}\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n",
    "dockerfile": "# escape=\\\nFROM golang:1.22 AS build\nRUN --security=insecure go build \\\n    && setcap "
                  "cap_net_admin+ep /app\nRUN <<EOF\nchmod u+s /bin/ping\nEOF\nFROM scratch\nUSER root\n",
    "shell": "#!/bin/bash\nset -e\nrun() {\n  sudo docker run --rm \\\n    --cap-add=SYS_ADMIN -v /:/host \"$IMG\"\n}\n"
             "x=$(podman run --privileged alpine echo hi)\ncat <<'EOF'\ndocker run --privileged\nEOF\n",
}

# Characters that matter to the three grammars, so random text hits their
# interesting paths more often than uniform Unicode would.
SYNTAX = list("\n\n\n \t\\'\"`$(){}[]<>|&;:#-=,*!%@?~.\r") + ["<<EOF", "EOF", "&a", "*a", "<<:", "FROM ", "RUN ",
                                                                   "docker run ", "--privileged", "${", "$(", "\\\n"]
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parser(kind: str) -> Callable[[str, str], ParseResult]:
    return importlib.import_module(f"caplint.formats.{kind}.parser").parse  # type: ignore[no-any-return]


def corpus(kind: str) -> list[str]:
    folder = FIXTURES / kind
    texts = [SEEDS[kind]]
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                try:
                    texts.append(path.read_text(encoding="utf-8"))
                except (UnicodeDecodeError, OSError):
                    continue
    return texts


def spans(value: object) -> Iterator[Span]:
    """Every Span anywhere inside a model value."""
    if isinstance(value, Span):
        yield value
    elif values.is_value(value) and not isinstance(value, type):
        for name in values.fields(value):
            yield from spans(getattr(value, name))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from spans(getattr(value, f.name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from spans(item)


def check_parse(kind: str, raw: str) -> None:
    path = f"{NOWHERE}/{NAMES[kind]}"
    try:
        # What every front end does first: parsers only ever see decoded text.
        text = decode(raw.encode("utf-8"), path)
    except ReadError:
        return  # a CAP001 before any parser runs (NUL bytes): nothing to parse
    result = parser(kind)(text, path)
    assert isinstance(result, ParseResult)
    last = text.count("\n") + 2  # one past the last line: an error "at end of file"
    for span in spans(result):
        assert span.path == path
        assert 1 <= span.line <= last and 1 <= span.end_line <= last, (span, last)
        assert span.column >= 1 and span.end_column >= 1, span
        assert (span.end_line, span.end_column) >= (span.line, span.column), span
    findings = lint_text(path, text, kind)
    for f in findings:
        assert 1 <= f.span.line <= last, f
    if "caplint:" not in text:  # no suppression comment can hide one
        reported = {(f.span.line, f.message) for f in findings if f.rule_id == "CAP001"}
        for problem in result.problems:
            assert (problem.span.line, problem.message) in reported, problem


text_strategy = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(SYNTAX) | st.text(max_size=6), max_size=120).map("".join),
)


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> str:
    """A fixture with a few random edits: what a half-typed file in an editor looks like."""
    text = draw(st.sampled_from(corpus(kind)))
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        op = draw(st.sampled_from(("delete-chars", "insert-chars", "delete-line", "duplicate-line", "swap-lines",
                                   "truncate")))
        at = draw(st.integers(0, max(0, len(text) - 1)))
        row = draw(st.integers(0, max(0, len(lines) - 1)))
        if op == "delete-chars":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif op == "insert-chars":
            text = text[:at] + draw(st.lists(st.sampled_from(SYNTAX) | st.text(max_size=3), max_size=5).map("".join)) + text[at:]
        elif op == "delete-line":
            text = "\n".join(lines[:row] + lines[row + 1:])
        elif op == "duplicate-line":
            text = "\n".join(lines[: row + 1] + lines[row:])
        elif op == "swap-lines":
            other = draw(st.integers(0, max(0, len(lines) - 1)))
            lines[row], lines[other] = lines[other], lines[row]
            text = "\n".join(lines)
        else:
            text = text[:at]
    return text


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY
@given(text=text_strategy)
# Found by this test: a lone CR is a line break to YAML (and editors) but not
# to the engine, so Compose spans fell past the end of the file.
@example(text="\r\r0")
@example(text="services:\r  web:\r    privileged: true\r")
def test_arbitrary_text(kind: str, text: str) -> None:
    check_parse(kind, text)


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY
@given(data=st.data())
def test_mutated_fixtures(kind: str, data: st.DataObject) -> None:
    check_parse(kind, data.draw(mutated(kind)))


@pytest.mark.parametrize("kind", KINDS)
def test_every_fixture_as_it_is(kind: str) -> None:
    for text in corpus(kind):
        check_parse(kind, text)


def test_fixture_folders_exist() -> None:
    for kind in KINDS:
        assert Path(FIXTURES / kind).is_dir(), kind
