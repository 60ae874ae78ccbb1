"""Every finding says what to write instead, for the case at hand, in the
container's own format — or why no exact fix can be given."""
from __future__ import annotations

from pathlib import Path

import pytest

from caplint import advice
from caplint.engine import detect_kind, lint_text, parse_assembled, parser_for
from caplint.model import Container, Finding
from caplint.reading import read_file
from caplint.registry import all_rules
from conftest import FIXTURES
from expectations import fixture_files

FIXTURE_FILES = [p for p in fixture_files(FIXTURES)]


def fixture_hits() -> dict[str, list[str]]:
    """Rule id → the advice of each hit it gives on any fixture (None kept, to fail on)."""
    found: dict[str, list[str]] = {}
    for path in FIXTURE_FILES:
        text = read_file(str(path))
        kind = detect_kind(str(path), text)
        if kind is None:
            continue
        # As the engine reads it: a Compose file with its stack and the images it builds.
        result = parse_assembled(str(path), text, kind)
        for rule in all_rules():
            for subject in [*result.containers, *result.images]:
                if isinstance(subject, rule.subjects):
                    for hit in rule.check(subject):
                        found.setdefault(rule.id, []).append(hit.advice or "")
    return found


def test_every_rule_gives_fix_text_on_the_fixtures() -> None:
    """A rule added without fix text (or without a fixture that shows it) fails here."""
    hits = fixture_hits()
    checked = [r for r in all_rules() if r.subjects]
    missing = [r.id for r in checked if r.id not in hits]
    assert not missing, f"no fixture shows these rules, so their fix text is untested: {missing}"
    silent = sorted({rule_id for rule_id, texts in hits.items() for t in texts if not t.strip()})
    assert not silent, f"these rules yield hits without fix text (Hit.advice): {silent}"


def test_engine_findings_all_carry_fix_text() -> None:
    pseudo = {r.id for r in all_rules() if not r.subjects}
    assert pseudo and all(r.advice for r in all_rules() if not r.subjects)
    seen: set[str] = set()
    for path in FIXTURE_FILES:
        for f in lint_text(str(path), read_file(str(path))):
            assert f.advice.strip(), f"{f.rule_id} at {path}:{f.span.line} has no fix text"
            seen.add(f.rule_id)
    # Suppressions that suppress nothing, in each of their shapes.
    unused = ("services:\n  web:  # caplint: ignore[CAP101, CAP999]\n    image: nginx\n"
              "    cap_drop: [ALL]  # caplint: ignroe[CAP204]\n    security_opt: [no-new-privileges]  # caplint: ignore\n"
              "# caplint: ignore-file[CAP306]\n")
    for f in lint_text("compose.yaml", unused):
        assert f.advice.strip(), f"{f.rule_id}: {f.message} has no fix text"
        seen.add(f.rule_id)
    assert pseudo <= seen


def lint(text: str, name: str = "compose.yaml") -> list[Finding]:
    return lint_text(name, text)


def fix_of(findings: list[Finding], rule_id: str) -> str:
    (f,) = [f for f in findings if f.rule_id == rule_id]
    return f.advice


def containers(text: str, name: str = "compose.yaml") -> list[Container]:
    kind = detect_kind(name, text)
    assert kind is not None
    return parser_for(kind)(text, name).containers


VPN = "services:\n  vpn:\n    image: wg\n    cap_add: [NET_ADMIN, SYS_MODULE]\n"


def test_missing_drop_all_keeps_the_containers_own_additions() -> None:
    found = lint(VPN)
    text = fix_of(found, "CAP204")
    assert text.startswith("add cap_drop: [ALL] and keep cap_add: [NET_ADMIN, SYS_MODULE]")
    # One function of the Container decides it, so a computed set can replace it in one place.
    assert text == advice.least_privilege(containers(VPN)[0])


def test_missing_drop_all_on_a_command_line_gives_flags() -> None:
    script = "#!/bin/sh\ndocker run --cap-add=NET_ADMIN --cap-add net_raw alpine true\n"
    text = fix_of(lint(script, "run.sh"), "CAP204")
    assert text.startswith("add --cap-drop=ALL and keep --cap-add=NET_ADMIN --cap-add=NET_RAW")


def test_an_unset_variable_is_said_not_guessed() -> None:
    text = fix_of(lint("services:\n  app:\n    image: app\n    cap_add: [\"${EXTRA_CAPS}\"]\n"), "CAP204")
    assert "cannot list" in text and "${EXTRA_CAPS}" in text and "cap_add: [" not in text


def test_a_value_from_an_anchor_says_where_to_change_it() -> None:
    text = ("x-base: &base\n  image: app\n  privileged: true\nservices:\n  a:\n    <<: *base\n  b:\n    <<: *base\n")
    fixes = [f.advice for f in lint(text) if f.rule_id == "CAP101"]
    assert len(fixes) == 2
    assert all("written at line 3, outside service" in t and "its own value" in t for t in fixes)


def test_a_value_from_a_variable_default_names_the_variable() -> None:
    text = fix_of(lint("services:\n  app:\n    image: app\n    network_mode: ${NET:-host}\n"), "CAP306")
    assert "${NET:-host}" in text and "variable" in text


@pytest.mark.parametrize(("text", "name", "rule", "want"), [
    ("services:\n  a:\n    image: x\n", "compose.yaml", "CAP304", 'add security_opt: ["no-new-privileges:true"]'),
    ("services:\n  a:\n    image: x\n    security_opt: [label:disable]\n", "compose.yaml", "CAP304",
     'add "no-new-privileges:true" to its security_opt'),
    ("#!/bin/sh\ndocker run alpine true\n", "run.sh", "CAP304", "add --security-opt=no-new-privileges"),
    ("services:\n  a:\n    image: x\n    security_opt: [no-new-privileges=false]\n", "compose.yaml", "CAP304",
     "write no-new-privileges=true instead of no-new-privileges=false"),
    ("#!/bin/sh\ndocker run --privileged alpine true\n", "run.sh", "CAP101", "remove `--privileged`"),
    ("services:\n  a:\n    image: x\n    privileged: yes\n", "compose.yaml", "CAP101", "remove `privileged: yes`"),
    ("services:\n  a:\n    image: x\n    cgroup: host\n", "compose.yaml", "CAP310", "cgroup: private"),
    ("#!/bin/sh\ndocker run --pid=host alpine true\n", "run.sh", "CAP305", "--pid=container:NAME"),
    ("services:\n  a:\n    image: x\n    user: \"0:0\"\n", "compose.yaml", "CAP401", 'write user: "10001:10001"'),
    ("FROM alpine\nUSER root\n", "Dockerfile", "CAP401", "`USER 10001`"),
    ("FROM alpine\nRUN chmod 4755 /usr/bin/x\n", "Dockerfile", "CAP402", "`chmod 0755`"),
    ("FROM alpine\nRUN install -m 6755 a /usr/bin/a\n", "Dockerfile", "CAP402", "`install -m 0755`"),
    ("FROM alpine\nRUN setcap cap_net_raw,cap_net_admin+ep /bin/x\n", "Dockerfile", "CAP207",
     "`setcap cap_net_raw+ep /bin/x`"),
    ("FROM alpine\nRUN --security=insecure make\n", "Dockerfile", "CAP102", "remove `--security=insecure`"),
    ("services:\n  a:\n    image: x\n    cap_add: [NET_BIND_SERVCE]\n", "compose.yaml", "CAP205", "write NET_BIND_SERVICE"),
    ("services:\n  a:\n    image: x\n    cap_add: [ALL]\n", "compose.yaml", "CAP201", "cap_drop: [ALL]"),
    ("services:\n  a:\n    image: x\n    volumes: [\"/etc:/host/etc\"]\n", "compose.yaml", "CAP313",
     "- /etc:/host/etc:ro"),
    ("services:\n  a:\n    image: x\n    security_opt: [label=disable]\n    volumes: [\"/srv:/srv\"]\n",
     "compose.yaml", "CAP303", "/srv:/srv:Z"),
    ("#!/bin/sh\ndocker run -v /var/run/docker.sock:/var/run/docker.sock alpine true\n", "run.sh", "CAP312",
     "-e DOCKER_HOST=tcp://socket-proxy:2375"),
])
def test_fix_text_is_specific(text: str, name: str, rule: str, want: str) -> None:
    assert want in fix_of(lint(text, name), rule)


def test_exact_edits_only_where_the_span_is_the_value() -> None:
    found = lint("services:\n  a:\n    image: x\n    cgroup: host\n    security_opt: [\"no-new-privileges:false\"]\n")
    edits = {f.rule_id: f.fix for f in found if f.fix}
    assert edits["CAP310"] is not None and edits["CAP310"].replacement == "private"
    assert edits["CAP304"] is not None and edits["CAP304"].replacement == "no-new-privileges:true"
    # A mode inside `-Dm4755` is not the word alone: the text says it, no edit is made.
    (f,) = [f for f in lint("FROM alpine\nRUN install -Dm4755 a /usr/bin/a\n", "Dockerfile") if f.rule_id == "CAP402"]
    assert f.fix is None and "install -m 0755" in f.advice


def test_plugin_rule_without_advice_falls_back_to_its_docs() -> None:
    rule = next(r for r in all_rules() if r.id == "CAP306")
    assert rule.default_advice == "Publish just the ports needed"




def test_a_misspelt_name_in_a_variable_default_is_named_not_edited() -> None:
    (f,) = [f for f in lint("services:\n  a:\n    image: x\n    cap_drop: [ALL]\n    cap_add: [\"${CAPS:-NET_ADMN}\"]\n")
            if f.rule_id == "CAP205"]
    assert f.fix is None
    assert f.advice.startswith("write NET_ADMIN (the value comes from ${CAPS:-NET_ADMN}")


def test_a_value_from_another_file_is_changed_there(tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text("services:\n  base:\n    image: x\n    pid: host\n", encoding="utf-8")
    top = tmp_path / "compose.yaml"
    top.write_text("services:\n  app:\n    extends:\n      file: base.yml\n      service: base\n", encoding="utf-8")
    text = fix_of(lint_text(str(top), top.read_text(encoding="utf-8")), "CAP305")
    assert "written in base.yml:4" in text and "change it there" in text
