"""GitHub Actions, GitLab CI and devcontainer.json: positions of embedded findings, and bad input."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from caplint.engine import lint_file, lint_text
from caplint.formats.devcontainer import parser as devcontainer
from caplint.formats.github import parser as github
from caplint.formats.gitlab import parser as gitlab
from caplint.model import Finding


def _at(findings: list[Finding], rule: str) -> list[tuple[int, int, int]]:
    return [(f.span.line, f.span.column, f.span.end_column) for f in findings if f.rule_id == rule]


def _written(text: str, line: int, column: int, end: int) -> str:
    return text.split("\n")[line - 1][column - 1:end - 1]


WORKFLOW = """\
jobs:
  e2e:
    runs-on: ubuntu-latest
    container:
      image: ghcr.io/x/ci:1
      options: >-
        --cap-add NET_ADMIN
        --security-opt "seccomp=unconfined"
      volumes:
        - /var/run/docker.sock:/var/run/docker.sock
    steps:
      - run: |
          set -e
          if [ -n "$CI" ]; then
            docker run --rm \\
              --privileged alpine true
          fi
      - run: "docker run --pid=\\"host\\" alpine"
      - run: docker run
          --ipc host alpine
"""


def test_workflow_findings_point_into_the_yaml() -> None:
    found = lint_text(".github/workflows/e2e.yml", WORKFLOW, "github")
    assert _at(found, "CAP203") == [(7, 19, 28)]
    assert _at(found, "CAP301") == [(8, 24, 44)]  # the word as written, quotes and all
    assert _at(found, "CAP312") == [(10, 11, 31)]
    assert _at(found, "CAP101") == [(16, 15, 27)]
    assert _at(found, "CAP305") == [(18, 34, 38)]
    assert _at(found, "CAP307") == [(20, 17, 21)]
    for rule, want in (("CAP203", "NET_ADMIN"), ("CAP301", "\"seccomp=unconfined\""), ("CAP101", "--privileged"),
                       ("CAP307", "host"), ("CAP312", "/var/run/docker.sock")):
        (where,) = _at(found, rule)
        assert _written(WORKFLOW, *where) == want


def test_expressions_are_unknown_never_guessed() -> None:
    text = ("jobs:\n  t:\n    runs-on: ubuntu-latest\n    container:\n      image: x\n"
            "      options: ${{ matrix.opts }} --cap-add ${{ matrix.cap }}\n"
            "    steps:\n      - run: docker run ${{ matrix.flags }} --cap-add=${{ matrix.cap }} alpine\n")
    result = github.parse(text, "w.yml")
    assert not result.problems
    job, step = result.containers
    (cap,) = job.cap_add
    assert (cap.raw, cap.resolved, cap.span.line, cap.span.column) == ("${{ matrix.cap }}", False, 6, 45)
    (cap,) = step.cap_add
    assert (cap.value, cap.resolved, cap.span.column) == ("${{ matrix.cap }}", False, 55)
    assert step.name == "docker run alpine"  # the expression before a known option is read as options
    assert not [f for f in lint_text("w.yml", text, "github") if f.rule_id in ("CAP001", "CAP205")]


def test_options_quotes_and_line_breaks() -> None:
    text = ('jobs:\n  t:\n    services:\n      db:\n        image: x\n        options: |\n'
            '          --health-cmd "pg_isready -U app"\n          --cap-add="SYS_ADMIN"\n'
            "          --label 'a b'\n")
    (service,) = github.parse(text, "w.yml").containers
    (cap,) = service.cap_add
    assert (cap.value, cap.span.line, cap.span.column) == ("SYS_ADMIN", 8, 22)


def test_anchors_and_merge_keys_are_followed_and_read_once() -> None:
    text = ("x-step: &step\n  run: docker run --privileged alpine\n"
            "x-job: &job\n  runs-on: ubuntu-latest\n  steps: [*step]\n"
            "jobs:\n  a:\n    <<: *job\n  b:\n    <<: *job\n    container: {image: x, options: --privileged}\n")
    found = lint_text("w.yml", text, "github")
    assert _at(found, "CAP101") == [(2, 19, 31), (11, 36, 48)]


def test_windows_and_other_shells_are_not_read() -> None:
    text = ("jobs:\n  w:\n    runs-on: [self-hosted, windows]\n    steps:\n      - run: docker run --privileged x\n"
            "  l:\n    runs-on: ubuntu-latest\n    steps:\n      - {shell: python, run: docker run --privileged x}\n"
            "      - {shell: 'bash -eo pipefail {0}', run: docker run --privileged x}\n")
    # a runs-on list is not read as Windows (labels vary); bash with options is bash
    assert [c.span.line for c in github.parse(text, "w.yml").containers] == [5, 10]


def test_gitlab_scripts_are_shell_at_their_lines() -> None:
    text = ("test:\n  script:\n    - echo start\n    - docker run\n      --cap-add SYS_ADMIN x\n"
            "  after_script: docker run -v /:/host x\n")
    found = lint_text(".gitlab-ci.yml", text, "gitlab")
    assert _at(found, "CAP202") == [(5, 17, 26)]
    assert _at(found, "CAP312") == [(6, 31, 32)]


def test_crlf_keeps_lines_and_columns(tmp_path: Path) -> None:
    workflow = tmp_path / "e2e.yml"
    workflow.write_bytes(WORKFLOW.replace("\n", "\r\n").encode())
    found = lint_file(str(workflow), "github")
    assert _at(found, "CAP101") == [(16, 15, 27)]
    assert not [f for f in found if f.rule_id == "CAP001"]
    dc = tmp_path / "devcontainer.json"
    dc.write_bytes(b'{\r\n  "privileged": true,\r\n  "runArgs": ["--cap-add=SYS_ADMIN"]\r\n}\r\n')
    found = lint_file(str(dc), "devcontainer")
    assert _at(found, "CAP101") == [(2, 17, 21)]
    assert _at(found, "CAP202") == [(3, 26, 35)]


@pytest.mark.parametrize("text", [
    "", "   ", "// only a comment\n", "[]", "null", '"x"', "{", '{"runArgs": [', '{"runArgs": ["--privileged"',
    '{"a": }', "{,,,}", '{"privileged": tru}', "\x00\x01", '{"mounts": [{"source": 1}, 2, null]}',
    '{"runArgs": "--privileged"}', '{"capAdd": [1, true, {"x": 2}]}', "{" * 5000, '{"a": "\\ud800"}',
])
def test_malformed_jsonc_never_raises(text: str) -> None:
    # The CLI refuses only a file whose root is not an object; so does caplint.
    result = devcontainer.parse(text, "devcontainer.json")
    refused = [p for p in result.problems if "must contain a JSON object" in p.message]
    assert bool(refused) == (not text.replace("// only a comment", "").strip().startswith("{"))


def test_unterminated_runargs_are_still_read() -> None:
    (c,) = devcontainer.parse('{"runArgs": ["--privileged", "--pid=host"', "devcontainer.json").containers
    assert c.privileged is not None and c.pid is not None


def test_compose_devcontainer_ignores_run_args() -> None:
    text = '{"dockerComposeFile": "compose.yml", "service": "app", "runArgs": ["--privileged"], "capAdd": ["SYS_ADMIN"]}'
    (c,) = devcontainer.parse(text, "devcontainer.json").containers
    assert c.privileged is None and not c.complete and [x.value for x in c.cap_add] == ["SYS_ADMIN"]
    assert c.name == "devcontainer service app"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(list('{}[]",:/*\\ \nabtrue0-') + ["runArgs", "${{", "}}", "run: |", "  - "]),
                max_size=80).map("".join))
def test_any_text_parses_without_raising(text: str) -> None:
    for parse in (devcontainer.parse, github.parse, gitlab.parse):
        parse(text, "f")


def test_deep_or_huge_input_does_not_hang() -> None:
    start = time.perf_counter()
    devcontainer.parse('{"runArgs": [' + '"--privileged",' * 20000 + "]}", "devcontainer.json")
    github.parse("jobs:\n  a:\n    steps:\n" + "      - run: docker run --privileged x\n" * 2000, "w.yml")
    github.parse("jobs:\n  a:\n    container:\n      image: x\n      options: " + '"' * 5001 + "\n", "w.yml")
    assert time.perf_counter() - start < 30


def test_caps_reads_devcontainers_and_workflows(tmp_path: Path) -> None:
    from caplint.effective import describe_paths

    (tmp_path / ".devcontainer").mkdir()
    (tmp_path / ".devcontainer" / "devcontainer.json").write_text(
        '{\n  // dev\n  "image": "x",\n  "runArgs": ["--cap-drop=ALL", "--cap-add=NET_ADMIN"],\n}\n')
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        "jobs:\n  t:\n    container:\n      image: x\n      options: --privileged\n")
    out = describe_paths([str(tmp_path)])
    assert "devcontainer.json:3: devcontainer (docker)\n  1 of 41 capabilities\n    NET_ADMIN" in out
    assert "ci.yml:3: job t container (docker)\n  41 of 41 capabilities" in out
    assert "privileged (" in out and "ci.yml:5)" in out
