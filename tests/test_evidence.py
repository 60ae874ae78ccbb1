"""Least privilege, computed: evidence → the needed set, and `caplint caps --format json`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from caplint.effective import containers, json_paths
from caplint.evidence import TABLE, suggest

# The structure DESIGN.md ("Least privilege, computed") and the README document.
# `image`: the facts of a saved image a container was judged with (`caps --image`).
IMAGE_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["reference", "platform", "path", "user", "user_from", "root", "no_new_privileges", "files"],
    "properties": {
        "reference": {"type": "string"}, "platform": {"type": ["string", "null"]}, "path": {"type": "string"},
        "user": {"type": ["string", "null"]}, "user_from": {"type": ["string", "null"]}, "root": {"type": "boolean"},
        "no_new_privileges": {"type": "boolean"},
        "files": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["path", "mode", "owner", "group", "uid", "gid", "setuid", "setgid", "capabilities", "verdict"],
            "properties": {
                "path": {"type": "string"}, "mode": {"type": "string", "pattern": "^[0-7]{4}$"},
                "owner": {"type": "string"}, "group": {"type": "string"},
                "uid": {"type": "integer"}, "gid": {"type": "integer"},
                "setuid": {"type": "boolean"}, "setgid": {"type": "boolean"}, "verdict": {"type": "string"},
                "capabilities": {"oneOf": [{"type": "null"}, {
                    "type": "object", "additionalProperties": False,
                    "required": ["text", "permitted", "inheritable", "effective", "version", "rootid"],
                    "properties": {"text": {"type": "string"},
                                   "permitted": {"type": "array", "items": {"type": "string"}},
                                   "inheritable": {"type": "array", "items": {"type": "string"}},
                                   "effective": {"type": "boolean"}, "version": {"enum": [1, 2, 3]},
                                   "rootid": {"type": ["integer", "null"]}}}]},
            }}},
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["containers"],
    "additionalProperties": False,
    "properties": {"problems": {"type": "array", "items": {"type": "string"}},
                   "containers": {"type": "array", "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "path", "line", "runtime", "effective", "sources", "suggested", "image"],
        "properties": {
            "name": {"type": "string"},
            "path": {"type": "string"},
            "line": {"type": "integer", "minimum": 1},
            "runtime": {"enum": ["docker", "podman", "nerdctl"]},
            "effective": {"oneOf": [{"type": "null"}, {"type": "array", "items": {"type": "string"}}]},
            "sources": {"type": "object", "additionalProperties": {"type": "string"}},
            "suggested": {
                "type": "object",
                "additionalProperties": False,
                "required": ["cap_add", "evidence", "complete", "unknown"],
                "properties": {
                    "cap_add": {"type": "array", "items": {"type": "string"}},
                    "evidence": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False,
                        "required": ["capability", "path", "line", "reason"],
                        "properties": {"capability": {"type": "string"}, "path": {"type": "string"},
                                       "line": {"type": "integer", "minimum": 1}, "reason": {"type": "string"}}}},
                    "complete": {"type": "boolean"},
                    "unknown": {"type": ["string", "null"]},
                },
            },
            "image": {"oneOf": [{"type": "null"}, IMAGE_SCHEMA]},
        },
    }}},
}

DOCKERFILE = """FROM alpine:3.20
COPY entrypoint.sh /entrypoint.sh
{extra}ENTRYPOINT ["/entrypoint.sh"]
CMD ["server"]
"""


def project(tmp_path: Path, script: str, compose_extra: str = "", dockerfile_extra: str = "") -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(DOCKERFILE.format(extra=dockerfile_extra))
    (tmp_path / "app" / "entrypoint.sh").write_text("#!/bin/sh\nset -e\n" + script + "\nexec \"$@\"\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    build: ./app\n    cap_drop: [ALL]\n" + compose_extra)
    return tmp_path / "compose.yaml"


def needs(tmp_path: Path, script: str, **kw: str) -> tuple[list[str], bool, list[int]]:
    found, _ = containers([str(project(tmp_path, script, **kw))])
    s = suggest(found[0])
    return list(s.cap_add), s.complete, [e.span.line for e in s.evidence]


@pytest.mark.parametrize(("script", "wanted"), [
    ("gosu app true", ["SETGID", "SETUID"]),
    ("su-exec app true", ["SETGID", "SETUID"]),
    ("setpriv --reuid=1000 --regid=1000 --init-groups true", ["SETGID", "SETUID"]),
    ("setpriv --dump", []),
    ("su app -c true", ["SETGID", "SETUID"]),
    ("runuser -u app -- true", ["SETGID", "SETUID"]),
    ("chroot /jail /bin/true", ["SYS_CHROOT"]),
    ("chown app /data", ["CHOWN"]),
    ("chgrp app /data", ["CHOWN"]),
    ("find /data \\! -user app -exec chown app '{}' +", ["CHOWN"]),
    ("ip link set eth0 up", ["NET_ADMIN"]),
    ("ip addr show", []),
    ("iptables -A INPUT -j DROP", ["NET_ADMIN"]),
    ("nft add table inet filter", ["NET_ADMIN"]),
    ("wg-quick up wg0", ["NET_ADMIN"]),
    ("openvpn --config /etc/openvpn/client.conf &", ["NET_ADMIN"]),
    ("mount -t tmpfs tmpfs /mnt", ["SYS_ADMIN"]),
    ("mount", []),
    ("sh -c 'chown app /data'", ["CHOWN"]),
    ("if [ -d /data ]; then chown -R app /data; fi", ["CHOWN"]),
    ("echo 'gosu app x'", []),
    ("exec nginx -g 'daemon off;'", ["CHOWN", "SETGID", "SETUID"]),
    ("exec apache2-foreground", ["SETGID", "SETUID"]),
    ("exec php-fpm -F", ["SETGID", "SETUID"]),
])
def test_each_row_of_the_table(tmp_path: Path, script: str, wanted: list[str]) -> None:
    cap_add, complete, lines = needs(tmp_path, script)
    assert (cap_add, complete) == (wanted, True)
    assert all(line == 3 for line in lines)  # the script's own line


def test_every_row_has_a_reason() -> None:
    assert all(row.reason and row.capabilities for row in TABLE)


def test_run_steps_are_not_evidence(tmp_path: Path) -> None:
    assert needs(tmp_path, "true", dockerfile_extra="RUN chown -R nobody /srv && gosu nobody true\n")[:2] == ([], True)


def test_low_port_needs_the_capability_only_where_the_runtime_does(tmp_path: Path) -> None:
    bridge, host = tmp_path / "bridge", tmp_path / "host"
    bridge.mkdir()
    host.mkdir()
    assert needs(bridge, "true", compose_extra="    ports: ['80:80']\n")[:2] == ([], True)
    assert needs(host, "true", compose_extra="    network_mode: host\n    expose: ['443']\n")[:2] == (["NET_BIND_SERVICE"], True)


def test_a_stack_file_alone_reports_what_a_scan_reports_for_it() -> None:
    from caplint.engine import lint_file, lint_paths

    root = Path(__file__).parent / "fixtures" / "compose" / "stack"
    for name in ("compose.yaml", "compose.override.yaml"):
        path = str(root / name)
        alone = [(f.span.line, f.rule_id) for f in lint_file(path, "compose")]
        scanned = [(f.span.line, f.rule_id) for f in lint_paths([str(root)]) if f.span.path == path]
        assert alone == scanned and alone


def test_a_setcap_file_the_container_runs(tmp_path: Path) -> None:
    cap_add, complete, _ = needs(tmp_path, "ping -c1 localhost",
                                 dockerfile_extra="RUN setcap cap_net_raw+ep /bin/ping\n")
    assert (cap_add, complete) == (["NET_RAW"], True)


def test_non_root_needs_nothing(tmp_path: Path) -> None:
    assert needs(tmp_path, "chown app /data", compose_extra="    user: '1000:1000'\n")[:2] == ([], True)


def test_unparseable_script_makes_it_incomplete_not_wrong(tmp_path: Path) -> None:
    cap_add, complete, _ = needs(tmp_path, "chown app /data\nif then fi (")
    assert "CHOWN" in cap_add and complete is False


def test_pulled_and_remote_images_are_not_known(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    image: nginx\n  b:\n    build: https://github.com/example/app.git#main\n")
    found, _ = containers([str(tmp_path)])
    for c in found:
        s = suggest(c)
        assert (s.cap_add, s.complete) == ((), False) and s.unknown


def test_caps_json_has_the_documented_shape(tmp_path: Path) -> None:
    compose = project(tmp_path, "chown app /data\nexec gosu app \"$@\"")
    out = json.loads(json_paths([str(compose)]))
    jsonschema.validate(out, SCHEMA)
    (app,) = out["containers"]
    assert app["effective"] == [] and app["suggested"]["complete"] is True
    assert app["suggested"]["cap_add"] == ["CHOWN", "SETGID", "SETUID"]
    assert {e["path"] for e in app["suggested"]["evidence"]} == {str(tmp_path / "app" / "entrypoint.sh")}


def test_caps_json_for_the_fixtures_is_valid() -> None:
    root = Path(__file__).parent / "fixtures"
    jsonschema.validate(json.loads(json_paths([str(root)])), SCHEMA)


def build_of(tmp_path: Path, service: str, files: dict[str, str]) -> Any:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n" + service)
    (found,), _ = containers([str(tmp_path / "compose.yaml")])
    return found


def test_target_stage_decides_user_and_commands(tmp_path: Path) -> None:
    dockerfile = ("FROM alpine:3.20 AS base\nENTRYPOINT [\"gosu\", \"app\"]\nCMD [\"server\"]\n"
                  "FROM base AS prod\nUSER 1000\n")
    base = build_of(tmp_path, "    build:\n      context: ./src\n      dockerfile: build/Containerfile\n"
                              "      target: base\n", {"src/build/Containerfile": dockerfile})
    assert suggest(base).cap_add == ("SETGID", "SETUID")
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    build:\n      context: ./src\n"
                                           "      dockerfile: build/Containerfile\n")
    (prod,), _ = containers([str(tmp_path / "compose.yaml")])
    s = suggest(prod)
    assert (s.cap_add, s.complete) == ((), True) and "not root" in s.note  # USER 1000 of the final stage


def test_compose_user_and_entrypoint_override_the_image(tmp_path: Path) -> None:
    c = build_of(tmp_path, "    build: .\n    user: root\n    entrypoint: [\"chroot\", \"/jail\"]\n",
                 {"Dockerfile": "FROM scratch\nUSER 1000\nENTRYPOINT [\"/server\"]\n"})
    assert (suggest(c).cap_add, suggest(c).complete) == (("SYS_CHROOT",), True)


def test_dockerfile_inline_is_linked(tmp_path: Path) -> None:
    c = build_of(tmp_path, "    build:\n      context: .\n      dockerfile_inline: |\n        FROM scratch\n"
                           "        ENTRYPOINT [\"/sbin/iptables\", \"-A\", \"INPUT\"]\n", {})
    s = suggest(c)
    assert (s.cap_add, s.complete) == (("NET_ADMIN",), True)
    assert [e.span.line for e in s.evidence] == [7]  # the inline Dockerfile's line in compose.yaml


@pytest.mark.parametrize(("service", "why"), [
    ("    build: ./missing\n", "cannot be read"),
    ("    build:\n      context: .\n      target: nope\n", "target 'nope'"),
    ("    build: git@github.com:example/app.git\n", "remote"),
    ("    build: ${CONTEXT}\n", "unset"),
])
def test_a_build_that_cannot_be_followed_is_unknown(tmp_path: Path, service: str, why: str) -> None:
    c = build_of(tmp_path, service, {"Dockerfile": "FROM scratch\nCMD [\"/x\"]\n"})
    s = suggest(c)
    assert s.complete is False and why in (s.unknown or "")


def test_a_script_not_copied_from_the_context_is_unknown(tmp_path: Path) -> None:
    c = build_of(tmp_path, "    build: .\n", {"Dockerfile": "FROM alpine:3.20\nENTRYPOINT [\"/entrypoint.sh\"]\n"})
    assert "not COPYed" in (suggest(c).unknown or "")
