"""The formats of issue 13 under random and hostile input: no traceback, no hang,
every span inside the file, and the rest of a tree still linted."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caplint.engine import lint_text, parser_for
from test_hostile import REAL_COMPOSE, assert_sane, cli
from test_properties import PROPERTY, SYNTAX, spans

NOWHERE = "/nonexistent-caplint-properties"
NAMES = {"systemd": "web.service", "quadlet": "app.container", "bats": "net.bats", "bake": "docker-bake.hcl",
         "markdown": "README.md", "makefile": "Makefile"}
FIXTURE_DIRS = {"systemd": "systemd", "quadlet": "quadlet", "bats": "bats", "bake": "bake", "markdown": "markdown",
                "makefile": "makefile"}
EXTRA = list("[]=;%@+!") + ["[Service]\n", "[Container]\n", "ExecStart=", "PodmanArgs=", "AddCapability=",
                            "```bash\n", "```console\n$ ", "```\n", "~~~", "\t@", "$$", "$(X)", "target \"a\" {",
                            "entitlements = [", "\"${X}\"", "@test \"x\" {", "<!-- caplint: ignore -->"]


def check(kind: str, text: str) -> None:
    path = f"{NOWHERE}/{NAMES[kind]}"
    result = parser_for(kind)(text, path)
    last = text.count("\n") + 2
    for span in spans(result):
        assert span.path == path
        assert 1 <= span.line <= last and 1 <= span.end_line <= last, (span, last)
        assert span.column >= 1 and (span.end_line, span.end_column) >= (span.line, span.column), span
    for f in lint_text(path, text, kind):
        assert 1 <= f.span.line <= last, f


def fixtures(kind: str) -> list[str]:
    folder = Path(__file__).parent / "fixtures" / FIXTURE_DIRS[kind]
    return [p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()]


@st.composite
def texts(draw: st.DrawFn, kind: str) -> str:
    pieces = st.sampled_from(SYNTAX + EXTRA) | st.text(max_size=4)
    base = draw(st.sampled_from(fixtures(kind)))
    at = draw(st.integers(0, len(base)))
    cut = draw(st.integers(0, 30))
    return base[:at] + draw(st.lists(pieces, max_size=30).map("".join)) + base[at + cut:]


@pytest.mark.parametrize("kind", sorted(NAMES))
@settings(PROPERTY, max_examples=60)
@given(data=st.data())
def test_mutated_fixtures_and_random_text(kind: str, data: st.DataObject) -> None:
    check(kind, data.draw(texts(kind) | st.lists(st.sampled_from(SYNTAX + EXTRA), max_size=80).map("".join)))


def test_a_tree_of_bad_inputs(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "docker-compose.yml").write_text(REAL_COMPOSE)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "README.md").write_text("# x\n\n```bash\ndocker run --privileged x\n")  # unterminated fence
    (bad / "empty.container").write_text("[Container]\n")  # a section without a key
    (bad / "web.service").write_text("[Service]\nExecStart=/usr/bin/docker run --pid=host x \\")  # `\` at EOF
    (bad / "Makefile").write_text("all:\n    docker run --privileged x\n\tdocker run --ipc=host x\n")
    (bad / "session.md").write_text("```console\n$ docker ps\nCONTAINER --privileged --cap-add=ALL\n```\n")
    (bad / "big.md").write_text(("Prose line with `code`.\n\n" * 200 + "```sh\ndocker run --rm x\n```\n") * 400)
    (bad / "docker-bake.hcl").write_text('target "a" {\n  tags = ["${REPO}:${TAG}"]\n  entitlements = ["${E}"]\n}\n'
                                         'target "b" {\n  entitlements = [\n')
    o = cli(tmp_path, "--jobs", "1", "bad", "real")
    assert_sane(o)
    rules = {(str(f["path"]), str(f["rule"])) for f in o.findings}
    assert ("real/docker-compose.yml", "CAP101") in rules
    assert ("bad/README.md", "CAP101") in rules and ("bad/README.md", "CAP001") not in rules
    assert ("bad/empty.container", "CAP001") in rules
    assert ("bad/web.service", "CAP305") in rules and ("bad/web.service", "CAP001") not in rules
    assert {("bad/Makefile", "CAP001"), ("bad/Makefile", "CAP307")} <= rules
    assert ("bad/session.md", "CAP101") not in rules and ("bad/session.md", "CAP201") not in rules
    assert ("bad/docker-bake.hcl", "CAP001") in rules and ("bad/docker-bake.hcl", "CAP102") not in rules
