"""Fixes, format by format: the exact text each fix writes, nothing else in the
file touched, the fixed findings gone and none added, and a second run idle."""
from __future__ import annotations

from pathlib import Path

import pytest

from caplint import engine
from caplint.fixing.run import Outcome, fix_text
from caplint.fixing.splice import normalised

ENTRYPOINT = """\
#!/bin/sh
set -e
if [ "$(id -u)" = "0" ]; then
  chown -R app:app /var/lib/app
  exec gosu app "$0" "$@"
fi
exec "$@"
"""
DOCKERFILE = """\
FROM debian:bookworm-slim
RUN useradd --system app
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["app"]
"""


def fix(tmp_path: Path, name: str, text: str, *, unsafe: bool = True, kind: str | None = None,
        files: dict[str, str] | None = None) -> Outcome:
    """Fix `text` as the file `name` in a project of `files`; then check what
    every fix must keep: a fixed point, and no finding the original lacked."""
    for other, content in (files or {}).items():
        (tmp_path / other).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / other).write_text(content, encoding="utf-8")
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    settings = engine.Settings()
    outcome = fix_text(str(path), text, kind, settings, unsafe)
    again = fix_text(str(path), outcome.after, kind, settings, unsafe)
    assert again.after == outcome.after, "a second --fix changed the text again"
    before = {(f.rule_id, f.container, f.message) for f in engine.lint_text(str(path), normalised(text), kind)}
    after = {(f.rule_id, f.container, f.message) for f in outcome.findings}
    added = after - before
    assert all(r in ("CAP206", "CAP208") for r, _, _ in added), added  # only a corrected name that is redundant
    for f in outcome.fixed:
        assert (f.rule_id, f.container, f.message) not in after or f.rule_id == "CAP206"
    return outcome


def rules(outcome: Outcome) -> list[str]:
    return sorted(f.rule_id for f in outcome.fixed)


# --- Compose ------------------------------------------------------------------

def test_least_privilege_from_evidence_in_the_services_flow_style(tmp_path: Path) -> None:
    text = ("services:\n"
            "  app:\n"
            "    build: .\n"
            "    ports: [\"8080:8080\"]\n"
            "    volumes:\n"
            "      - data:/var/lib/app   # owned by root\n"
            "\n"
            "  # the cache\n"
            "  cache:\n"
            "    image: redis:7\n"
            "    cap_drop: [ALL]\n"
            "    security_opt: ['no-new-privileges:true']\n"
            "volumes:\n  data:\n")
    out = fix(tmp_path, "compose.yaml", text, files={"Dockerfile": DOCKERFILE, "docker-entrypoint.sh": ENTRYPOINT})
    assert out.after == text.replace(
        "      - data:/var/lib/app   # owned by root\n",
        "      - data:/var/lib/app   # owned by root\n"
        "    cap_drop: [ALL]\n"
        "    cap_add: [CHOWN, SETGID, SETUID]\n"
        "    security_opt: ['no-new-privileges:true']\n")  # quoted as the file quotes its options
    assert rules(out) == ["CAP204", "CAP304"]
    assert not out.findings


def test_block_lists_keep_their_dashes_quotes_and_comments(tmp_path: Path) -> None:
    text = ("services:\n"
            "  app:\n"
            "    build: .\n"
            "    cap_add:\n"
            "    - 'SETUID'   # for gosu\n"
            "    security_opt:\n"
            "    - label=type:app_t\n"
            "    environment:\n"
            "      A: 1\n")
    out = fix(tmp_path, "compose.yaml", text, files={"Dockerfile": DOCKERFILE, "docker-entrypoint.sh": ENTRYPOINT})
    assert out.after == ("services:\n"
                         "  app:\n"
                         "    build: .\n"
                         "    cap_add:\n"
                         "    - 'SETUID'   # for gosu\n"
                         "    - 'CHOWN'\n"
                         "    - 'SETGID'\n"
                         "    security_opt:\n"
                         "    - label=type:app_t\n"
                         "    - no-new-privileges:true\n"
                         "    environment:\n"
                         "      A: 1\n"
                         "    cap_drop:\n"
                         "    - 'ALL'\n")


def test_an_existing_cap_drop_becomes_all(tmp_path: Path) -> None:
    text = ("services:\n  app:\n    build: .\n    cap_drop: [NET_RAW, MKNOD]\n"
            "    security_opt: [no-new-privileges]\n")
    out = fix(tmp_path, "compose.yaml", text, files={"Dockerfile": DOCKERFILE, "docker-entrypoint.sh": ENTRYPOINT})
    assert out.after == ("services:\n  app:\n    build: .\n    cap_drop: [ALL]\n"
                         "    security_opt: [no-new-privileges]\n    cap_add: [CHOWN, SETGID, SETUID]\n")


def test_no_cap_drop_without_a_complete_suggestion(tmp_path: Path) -> None:
    text = "services:\n  web:\n    image: nginx:1.27\n    security_opt: [\"no-new-privileges:true\"]\n"
    out = fix(tmp_path, "compose.yaml", text)
    assert out.after == text
    [f] = out.findings
    assert f.rule_id == "CAP204" and f.fix is None


def test_safe_fixes_only_without_unsafe(tmp_path: Path) -> None:
    text = ("services:\n  proxy:\n    image: traefik:v3.1\n    cap_drop: [ALL]\n"
            "    cap_add: [\"NET_BIND_SERVCE\", CHOWN, CHOWN]\n")
    out = fix(tmp_path, "compose.yaml", text, unsafe=False)
    # The typo corrected (inside its quotes), the second CHOWN gone; no-new-privileges is unsafe.
    assert out.after == ("services:\n  proxy:\n    image: traefik:v3.1\n    cap_drop: [ALL]\n"
                         "    cap_add: [\"NET_BIND_SERVICE\", CHOWN]\n")
    assert rules(out) == ["CAP205", "CAP206"]
    assert {f.rule_id for f in out.findings} == {"CAP208", "CAP304"}  # revealed, and left for --unsafe-fixes
    assert all(f.fix is not None and not f.fix.safe for f in out.findings)


def test_redundant_entries_go_with_their_line_or_their_comma(tmp_path: Path) -> None:
    text = ("services:\n  a:\n    image: x:1\n    cap_drop: [ALL]\n    cap_add:\n      - NET_ADMIN\n      - CAP_NET_ADMIN  # again\n"
            "    security_opt: [\"no-new-privileges:true\"]\n"
            "  b:\n    image: x:1\n    cap_add:\n      - CHOWN\n    cap_drop: [NET_RAW, SYS_ADMIN]\n"
            "    security_opt: [\"no-new-privileges:true\"]\n")
    out = fix(tmp_path, "compose.yaml", text, unsafe=False)
    assert out.after == ("services:\n  a:\n    image: x:1\n    cap_drop: [ALL]\n    cap_add:\n      - NET_ADMIN\n"
                         "    security_opt: [\"no-new-privileges:true\"]\n"
                         "  b:\n    image: x:1\n    cap_drop: [NET_RAW]\n"
                         "    security_opt: [\"no-new-privileges:true\"]\n")


def test_crlf_and_no_final_newline_are_kept(tmp_path: Path) -> None:
    text = "services:\r\n  web:\r\n    image: nginx:1.27\r\n    cap_drop: [ALL]\r\n    cap_add: [CHOWN, CHOWN]"
    out = fix(tmp_path, "compose.yaml", text)
    assert out.after == ("services:\r\n  web:\r\n    image: nginx:1.27\r\n    cap_drop: [ALL]\r\n    cap_add: [CHOWN]\r\n"
                         "    security_opt: [\"no-new-privileges:true\"]")


def test_whole_lines_off_the_end_keep_the_missing_final_newline(tmp_path: Path) -> None:
    text = "services:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n    cap_add:\n      - NET_BIND_SERVICE"
    out = fix(tmp_path, "compose.yaml", text)
    assert out.after == ("services:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n"
                         "    security_opt: [\"no-new-privileges:true\"]")


@pytest.mark.parametrize("text, why", [
    ("x-base: &base\n  image: nginx:1.27\nservices:\n  web: *base\n", "is an alias"),
    ("services:\n  web: &web\n    image: nginx:1.27\n  api: *web\n", "carries an anchor"),
    ("x-opts: &opts\n  security_opt: [label=type:x]\nservices:\n  web:\n    <<: *opts\n    image: nginx:1.27\n",
     "comes from elsewhere"),
    ("x-more: &more\n  security_opt: []\nservices:\n  web:\n    <<: *more\n    image: nginx:1.27\n",
     "takes security_opt from a merge key"),
    ("services:\n  web: {image: nginx:1.27}\n", "flow mapping"),
    ("services:\n  web:\n    image: nginx:1.27\n    command: |+\n      run\n\n", "keeps its trailing blank lines"),
])
def test_refused_where_an_edit_could_reach_others_or_a_variable(tmp_path: Path, text: str, why: str) -> None:
    out = fix(tmp_path, "compose.yaml", text)
    assert out.after == text
    f = next(f for f in out.findings if f.rule_id == "CAP304")  # (the anchored service's own)
    assert f.fix is None and why in f.unfixable


def test_a_merge_key_that_brings_other_keys_does_not_stop_a_new_one(tmp_path: Path) -> None:
    text = "x-more: &more\n  restart: always\nservices:\n  web:\n    <<: *more\n    image: nginx:1.27\n"
    out = fix(tmp_path, "compose.yaml", text)
    assert out.after == text + "    security_opt: [\"no-new-privileges:true\"]\n"


def test_a_variable_in_the_list_to_extend_is_refused(tmp_path: Path) -> None:
    text = "services:\n  app:\n    build: .\n    cap_add: [\"${EXTRA}\"]\n    security_opt: [no-new-privileges]\n"
    out = fix(tmp_path, "compose.yaml", text, files={"Dockerfile": DOCKERFILE, "docker-entrypoint.sh": ENTRYPOINT})
    assert out.after == text
    [f] = [f for f in out.findings if f.rule_id == "CAP204"]
    assert f.fix is None and "${VAR}" in f.unfixable


def test_a_misspelt_name_in_a_shared_anchor_is_not_edited_from_the_service(tmp_path: Path) -> None:
    text = ("x-caps: &caps [NET_BIND_SERVCE]\nservices:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n"
            "    cap_add: *caps\n    security_opt: [\"no-new-privileges:true\"]\n")
    out = fix(tmp_path, "compose.yaml", text)
    assert out.after == text
    [f] = [f for f in out.findings if f.rule_id == "CAP205"]
    assert f.fix is None and "outside service 'web'" in f.unfixable


# --- command lines ------------------------------------------------------------

SCRIPT = """\
#!/usr/bin/env bash
# Starts the proxy.
set -euo pipefail
docker run -d --name proxy \\
  --cap-add=NET_BIND_SERVICE \\
  --cap-add CHOWN \\
  -p 80:80 "nginx:1.27"   # the proxy
"""


def test_shell_options_after_the_subcommand_continuations_kept(tmp_path: Path) -> None:
    out = fix(tmp_path, "start.sh", SCRIPT)
    assert out.after == SCRIPT.replace(
        "docker run -d --name proxy \\\n  --cap-add=NET_BIND_SERVICE \\\n  --cap-add CHOWN \\\n",
        "docker run --security-opt=no-new-privileges -d --name proxy \\\n")
    assert rules(out) == ["CAP206", "CAP206", "CAP304"]  # both are defaults Docker grants
    assert [f.rule_id for f in out.findings] == ["CAP204"]  # the image is pulled: no computed set


def test_shell_safe_only(tmp_path: Path) -> None:
    out = fix(tmp_path, "start.sh", SCRIPT, unsafe=False)
    assert out.after == SCRIPT.replace("  --cap-add=NET_BIND_SERVICE \\\n  --cap-add CHOWN \\\n", "")


def test_an_option_inside_a_word_list_is_left(tmp_path: Path) -> None:
    text = "#!/bin/sh\npodman run --rm --cap-add=CHOWN,NET_RAW --security-opt=no-new-privileges alpine:3.20 true\n"
    out = fix(tmp_path, "run.sh", text)
    assert out.after == text
    assert any(f.rule_id == "CAP206" and "alone" in f.unfixable for f in out.findings)


@pytest.mark.parametrize("name, text, expected", [
    ("app.service",
     "[Service]\nExecStartPre=-/usr/bin/docker rm -f app\nExecStart=/usr/bin/docker run --name app \\\n"
     "    --cap-add=NET_BIND_SERVICE \\\n    -p 80:80 nginx:1.27\n",
     "[Service]\nExecStartPre=-/usr/bin/docker rm -f app\nExecStart=/usr/bin/docker run "
     "--security-opt=no-new-privileges --name app \\\n    -p 80:80 nginx:1.27\n"),
    ("README.md",
     "# Run it\n\n```console\n$ docker run --rm -p 80:80 \\\n    nginx:1.27\n```\n\nText `docker run x` stays.\n",
     "# Run it\n\n```console\n$ docker run --security-opt=no-new-privileges --rm -p 80:80 \\\n    nginx:1.27\n```\n\n"
     "Text `docker run x` stays.\n"),
    ("Makefile", "run:\n\t@docker run --rm --cap-add=CHOWN -p 80:80 nginx:1.27\n",
     "run:\n\t@docker run --security-opt=no-new-privileges --rm -p 80:80 nginx:1.27\n"),
    (".github/workflows/ci.yml",
     "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: docker run --rm alpine:3.20 true\n"
     "      - run: |\n          docker run --rm \\\n            --cap-add=NET_RAW --cap-add=NET_RAW alpine:3.20 ping x\n",
     "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
     "      - run: docker run --security-opt=no-new-privileges --rm alpine:3.20 true\n"
     "      - run: |\n          docker run --security-opt=no-new-privileges --rm \\\n            alpine:3.20 ping x\n"),
    (".gitlab-ci.yml", "test:\n  image: docker:27\n  script:\n    - docker run --rm alpine:3.20 true\n",
     "test:\n  image: docker:27\n  script:\n    - docker run --security-opt=no-new-privileges --rm alpine:3.20 true\n"),
    ("test.bats", "@test \"runs\" {\n  run docker run --rm alpine:3.20 true\n  [ \"$status\" -eq 0 ]\n}\n",
     "@test \"runs\" {\n  run docker run --security-opt=no-new-privileges --rm alpine:3.20 true\n  [ \"$status\" -eq 0 ]\n}\n"),
    ("app.container",
     "[Container]\nImage=docker.io/library/nginx:1.27\nAddCapability=CHOWN NET_ADMIN\nPublishPort=8080:80\n\n"
     "[Install]\nWantedBy=default.target\n",
     "[Container]\nImage=docker.io/library/nginx:1.27\nAddCapability=NET_ADMIN\nPublishPort=8080:80\n"
     "NoNewPrivileges=true\n\n[Install]\nWantedBy=default.target\n"),
])
def test_each_format_with_a_command_line_or_keys(tmp_path: Path, name: str, text: str, expected: str) -> None:
    out = fix(tmp_path, name, text)
    assert out.after == expected
    assert not {f.rule_id for f in out.findings} & {"CAP206", "CAP208", "CAP304"}


@pytest.mark.parametrize("text, expected", [
    ('{\n  // dev\n  "image": "mcr.microsoft.com/devcontainers/base:bookworm",\n'
     '  "runArgs": ["--cap-add=SYS_PTRACE", "--cap-add=CHOWN"]\n}\n',
     '{\n  // dev\n  "image": "mcr.microsoft.com/devcontainers/base:bookworm",\n'
     '  "runArgs": ["--cap-add=SYS_PTRACE", "--security-opt=no-new-privileges"]\n}\n'),
    ('{\n\t"image": "mcr.microsoft.com/devcontainers/base:bookworm",\n\t"capAdd": ["CHOWN", "SYS_PTRACE"],\n'
     '\t"securityOpt": [],\n}\n',
     '{\n\t"image": "mcr.microsoft.com/devcontainers/base:bookworm",\n\t"capAdd": ["SYS_PTRACE"],\n'
     '\t"securityOpt": ["no-new-privileges"],\n}\n'),
    ('{\n\t"image": "mcr.microsoft.com/devcontainers/base:bookworm",\n\t"customizations": {"vscode": {}} // editor\n}',
     '{\n\t"image": "mcr.microsoft.com/devcontainers/base:bookworm",\n\t"customizations": {"vscode": {}},\n'
     '\t"securityOpt": ["no-new-privileges"] // editor\n}'),
])
def test_devcontainer_arrays(tmp_path: Path, text: str, expected: str) -> None:
    out = fix(tmp_path, ".devcontainer/devcontainer.json", text)
    assert out.after == expected
    assert not {f.rule_id for f in out.findings} & {"CAP206", "CAP304"}


def test_a_dockerfile_mode_without_its_setuid_bit_is_unsafe(tmp_path: Path) -> None:
    text = "FROM debian:12\nRUN chmod 4755 /usr/local/bin/tool\nUSER 1000\n"
    assert fix(tmp_path, "Dockerfile", text, unsafe=False).after == text
    assert fix(tmp_path, "Dockerfile", text).after == text.replace("4755", "0755")


def test_a_value_in_a_flow_mapping_service_is_still_corrected_in_place(tmp_path: Path) -> None:
    text = ("services:\n  café: {image: \"traefik:v3.1\", cap_drop: [ALL], cap_add: [DAC_OVERIDE], "
            "security_opt: [no-new-privileges:true]}\n")
    out = fix(tmp_path, "compose.yaml", text)
    assert out.after == text.replace("DAC_OVERIDE", "DAC_OVERRIDE")


def test_an_edit_dropped_early_is_tried_again_after_another_one(tmp_path: Path) -> None:
    """drop ALL while NET_BIND_SERVICE is still added would add CAP208; once CAP206 has
    taken the redundant entry out, the same run makes it."""
    text = "services:\n  app:\n    build: .\n    cap_add: [NET_BIND_SERVICE]\n"
    out = fix(tmp_path, "compose.yaml", text, files={"Dockerfile": DOCKERFILE, "docker-entrypoint.sh": ENTRYPOINT})
    assert out.after == ("services:\n  app:\n    build: .\n    cap_add: [CHOWN, SETGID, SETUID]\n"
                         "    security_opt: [\"no-new-privileges:true\"]\n    cap_drop: [ALL]\n")
    assert rules(out) == ["CAP204", "CAP206", "CAP304"] and not out.dropped
