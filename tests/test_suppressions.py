"""Inline `# caplint: ignore[...]` comments in all three formats, and CAP002."""
from __future__ import annotations

import pytest

from caplint.engine import Settings, lint_text
from caplint.suppressions import comment_start, logical_lines, scan

COMPOSE = """\
services:
  avahi:
    image: ydkn/avahi:latest
    network_mode: host{comment}
    cap_drop: [ALL]
    security_opt: [no-new-privileges:true]
"""


def found(path: str, text: str, settings: Settings | None = None) -> set[tuple[int, str]]:
    return {(f.span.line, f.rule_id) for f in lint_text(path, text, None, settings)}


def test_compose_without_suppression_reports_host_network() -> None:
    assert found("compose.yml", COMPOSE.format(comment="")) == {(4, "CAP306")}


def test_compose_trailing_comment_suppresses_its_line() -> None:
    text = COMPOSE.format(comment="  # caplint: ignore[CAP306] mDNS needs the host network")
    assert found("compose.yml", text) == set()


def test_compose_comment_line_above_suppresses_the_next_line() -> None:
    text = COMPOSE.format(comment="").replace("    network_mode:", "    # caplint: ignore[cap306] mDNS\n    network_mode:")
    assert found("compose.yml", text) == set()


def test_a_suppression_for_another_rule_leaves_the_finding_and_is_unused() -> None:
    text = COMPOSE.format(comment="  # caplint: ignore[CAP305]")
    assert found("compose.yml", text) == {(4, "CAP306"), (4, "CAP002")}


def test_suppression_two_lines_above_does_not_reach() -> None:
    text = COMPOSE.format(comment="").replace("    image:", "    # caplint: ignore[CAP306]\n    image:")
    assert found("compose.yml", text) == {(5, "CAP306"), (3, "CAP002")}


def test_quoted_marker_in_yaml_is_not_a_comment() -> None:
    text = COMPOSE.format(comment="").replace("    image: ydkn/avahi:latest", "    image: ydkn/avahi:latest\n"
                           "    command: \"sh -c 'run # caplint: ignore[CAP306]'\"")
    assert found("compose.yml", text) == {(5, "CAP306")}


DIND = """\
#!/usr/bin/env bash
set -euo pipefail

# caplint: ignore[CAP101] the CI runner needs Docker-in-Docker
docker run -d --name dind \\
  --privileged \\
  -v dind-certs:/certs \\
  docker:27-dind

docker run --rm --privileged alpine:3.20 true
"""


def test_shell_comment_above_a_continued_command_reaches_every_line() -> None:
    # The flag is two lines below the comment's target; the second command is not covered.
    assert found("ci/start-dind.sh", DIND) == {(10, "CAP101")}


def test_shell_trailing_comment_on_the_last_line_covers_the_command() -> None:
    text = DIND.replace("# caplint: ignore[CAP101] the CI runner needs Docker-in-Docker\n", "").replace(
        "docker:27-dind", "docker:27-dind  # caplint: ignore[CAP101]")
    assert found("ci/start-dind.sh", text) == {(9, "CAP101")}


def test_echoed_marker_is_not_a_suppression() -> None:
    text = 'echo "# caplint: ignore[CAP101]"\ndocker run --privileged --cap-drop ALL alpine true\n'
    assert found("x.sh", text) == {(2, "CAP101")}


def test_stacked_comments_share_the_next_command() -> None:
    text = (
        "# caplint: ignore[CAP101] dind\n"
        "# the socket is needed by the runner itself\n"
        "# caplint: ignore[CAP312]\n"
        "docker run --privileged -v /var/run/docker.sock:/var/run/docker.sock docker:27 info\n"
    )
    assert found("run.sh", text) == set()


DOCKERFILE = """\
FROM debian:12-slim
# caplint: ignore[CAP402] ping must work for the health check
RUN apt-get update && \\
    # ping lives in iputils
    apt-get install -y --no-install-recommends iputils-ping && \\
    chmod u+s /usr/bin/ping
USER nobody
"""


def test_dockerfile_comment_above_the_instruction_covers_its_continued_lines() -> None:
    assert found("Dockerfile", DOCKERFILE) == set()


def test_dockerfile_without_the_comment_reports_the_chmod() -> None:
    text = DOCKERFILE.replace("# caplint: ignore[CAP402] ping must work for the health check\n", "")
    assert found("Dockerfile", text) == {(5, "CAP402")}


def test_dockerfile_backtick_escape_continues_lines() -> None:
    text = ("# escape=`\nFROM debian:12-slim\n# caplint: ignore[CAP402]\nRUN apt-get install -y iputils-ping && `\n"
            "    chmod u+s /usr/bin/ping\nUSER nobody\n")
    assert found("Dockerfile", text) == set()


@pytest.mark.parametrize("directives", ["# syntax=docker/dockerfile:1\n# escape=`\n",
                                        "# check=skip=JSONArgsRecommended\n# syntax=docker/dockerfile:1\n# escape=`\n"])
def test_dockerfile_escape_directive_after_other_directives(directives: str) -> None:
    # The parser honours directives in any order; the suppression must span the same lines.
    text = (directives + "FROM alpine:3.20\n# caplint: ignore[CAP402] needed by the helper\n"
            "RUN apk add foo && `\n    chmod u+s /usr/bin/foo\nUSER app\n")
    assert found("Dockerfile", text) == set()


def test_escape_directive_after_a_comment_does_not_count_for_suppressions_either() -> None:
    # `# hello` ends the directives, so `\` still continues the RUN, as in the parser.
    text = ("# hello\n# escape=`\nFROM alpine:3.20\n# caplint: ignore[CAP402]\nRUN apk add foo && \\\n"
            "    chmod u+s /usr/bin/foo\nUSER app\n")
    assert found("Dockerfile", text) == set()


def test_ignore_file_with_a_list_covers_those_rules_everywhere() -> None:
    text = ("# caplint: ignore-file[CAP204, CAP304] a throwaway debugging script\n" + DIND
            + 'docker run --rm -v "$PWD:/src" alpine:3.20 ls /src\n')
    assert found("debug.sh", text) == {(11, "CAP101")}


def test_bare_ignore_file_covers_every_rule() -> None:
    assert found("debug.sh", "# caplint: ignore-file\n" + DIND) == set()


def test_bare_ignore_covers_every_rule_on_its_line() -> None:
    text = "docker run --privileged --network host alpine true  # caplint: ignore\n"
    assert found("x.sh", text) == set()


def test_unused_suppression_is_reported_on_the_comment() -> None:
    text = "docker run --rm --cap-drop ALL --security-opt no-new-privileges alpine true  # caplint: ignore[CAP101]\n"
    findings = lint_text("x.sh", text)
    assert [(f.rule_id, f.span.line, f.span.column) for f in findings] == [("CAP002", 1, 78)]
    assert "no CAP101 finding here" in findings[0].message
    assert findings[0].severity.label == "low"


def test_unused_is_not_reported_for_a_rule_that_did_not_run() -> None:
    text = "docker run --rm --cap-drop ALL alpine true  # caplint: ignore[CAP101]\n"
    assert found("x.sh", text, Settings(select=frozenset({"CAP3", "CAP002"}))) == {(1, "CAP304")}


def test_bare_ignore_is_unused_only_when_every_rule_ran() -> None:
    text = "docker run --rm --cap-drop ALL --security-opt no-new-privileges alpine true  # caplint: ignore\n"
    assert found("x.sh", text) == {(1, "CAP002")}
    assert found("x.sh", text, Settings(ignore=frozenset({"CAP101"}))) == set()


def test_unknown_ids_and_misspelt_directives_are_reported() -> None:
    text = ("# caplint: ignroe[CAP101]\n"
            "docker run --rm --privileged alpine true  # caplint: ignore[CAP101, NET_ADMIN]\n"
            "# caplint: ignore[]\n")
    messages = {f.span.line: f.message for f in lint_text("x.sh", text) if f.rule_id == "CAP002"}
    assert messages == {
        1: "`# caplint: ignroe[CAP101]` is not a caplint suppression: write `caplint: ignore[CAPnnn]` "
           "or `caplint: ignore-file`",
        2: "`# caplint: ignore[CAP101, NET_ADMIN]` names NET_ADMIN, which is not a caplint rule (see 'caplint rules')",
        3: "`# caplint: ignore[]` names no rule; write `ignore[CAPnnn]`, or `ignore` for every rule",
    }


def test_naming_cap002_silences_the_suppressions_own_report() -> None:
    text = "docker run --rm --cap-drop ALL alpine true  # caplint: ignore[CAP101, CAP304, CAP002] sometimes privileged\n"
    assert found("x.sh", text) == set()


def test_cap002_can_be_turned_off() -> None:
    text = "docker run --rm --cap-drop ALL alpine true  # caplint: ignore[CAP101]\n"
    assert found("x.sh", text, Settings(ignore=frozenset({"CAP002", "CAP304"}))) == set()


def test_a_suppression_can_hide_a_parse_error() -> None:
    text = "# caplint: ignore-file[CAP001] a Jinja template rendered at deploy time\nservices: {{ services }}\n  x: [\n"
    assert found("compose.yml", text) == set()


@pytest.mark.parametrize(("line", "start"), [
    ("# caplint: ignore", 0),
    ("    --privileged  # caplint: ignore", 18),
    ('echo "# not a comment"', None),
    ("echo '# not' # yes", 13),
    ("curl http://x/#anchor", None),
    ("command: it's here # yes", 19),
    (r'echo "a \" # still quoted"', None),
    (r"echo \# not a comment", None),
])
def test_comment_start(line: str, start: int | None) -> None:
    assert comment_start(line) == start


def test_logical_lines_in_shell_end_at_a_comment() -> None:
    lines = ["docker run \\", "  --privileged \\", "  alpine", "# x", "echo"]
    assert logical_lines(lines, "shell") == [range(1, 4), range(4, 5), range(5, 6)]


def test_logical_lines_in_a_dockerfile_skip_comments_inside_an_instruction() -> None:
    lines = ["RUN a && \\", "    # comment", "", "    b", "USER x"]
    assert logical_lines(lines, "dockerfile") == [range(1, 5), range(5, 6)]


def test_scan_without_markers_is_empty() -> None:
    assert scan("services:\n  web:\n    image: caplint-demo\n", "compose.yml") == []


def test_a_suppression_above_a_yaml_block_covers_the_whole_block() -> None:
    text = ("jobs:\n  t:\n    services:\n      dind:\n        image: docker:dind\n"
            "        # caplint: ignore[CAP101] the dind service needs it\n"
            "        options: >-\n          --cap-drop ALL\n          --privileged\n\n"
            "        ports: [2375]\n")
    assert found(".github/workflows/ci.yml", text) == set()
    unsuppressed = text.replace("# caplint: ignore[CAP101] the dind service needs it", "# dind")
    assert (9, "CAP101") in found(".github/workflows/ci.yml", unsuppressed)


def test_a_shell_comment_in_a_run_block_covers_its_next_line() -> None:
    text = ("jobs:\n  t:\n    steps:\n      - run: |\n          echo hi\n"
            "          # caplint: ignore[CAP101] kind needs it\n          docker run --privileged --cap-drop ALL \\\n"
            "            --security-opt no-new-privileges kindest/node\n          docker run --pid host x\n")
    assert (7, "CAP101") not in found(".github/workflows/ci.yml", text)


@pytest.mark.parametrize("text", [
    '{\n  // caplint: ignore[CAP101] needs /dev/kvm\n  "privileged": true\n}\n',
    '{\n  "privileged": true // caplint: ignore[CAP101]\n}\n',
    '{\n  /* caplint: ignore[CAP101] */ "privileged": true\n}\n',
    '{\n  /* caplint: ignore[CAP101] */\n  "privileged": true\n}\n',
])
def test_jsonc_comments_suppress(text: str) -> None:
    assert (2, "CAP101") not in found(".devcontainer/devcontainer.json", text)
    assert (3, "CAP101") not in found(".devcontainer/devcontainer.json", text)
    assert not {r for _, r in found(".devcontainer/devcontainer.json", text)} & {"CAP002", "CAP101"}


def test_a_slash_in_a_json_string_is_no_comment() -> None:
    text = '{\n  "image": "x", "runArgs": ["-v", "/a//caplint: ignore:/b", "--privileged"]\n}\n'
    assert (2, "CAP101") in found(".devcontainer/devcontainer.json", text)
