"""Compose parsing details and bad input, through the engine and the CLI."""
from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from caplint.engine import lint_file, lint_paths
from caplint.formats.compose.parser import parse
from caplint.formats.compose.interpolation import interpolate, load_dotenv
from conftest import run_caplint

ENV = {"SET": "value", "EMPTY": ""}


@pytest.mark.parametrize(("text", "value", "resolved"), [
    ("plain", "plain", True), ("${SET}", "value", True), ("$SET/x", "value/x", True),
    ("${UNSET}", "${UNSET}", False), ("$UNSET", "$UNSET", False),
    ("${UNSET:-d}", "d", True), ("${EMPTY:-d}", "d", True), ("${EMPTY-d}", "", True),
    ("${UNSET-d}", "d", True), ("${UNSET:?need it}", "${UNSET:?need it}", False),
    ("${SET:?need it}", "value", True), ("${SET:+alt}", "alt", True), ("${UNSET:+alt}", "", True),
    ("${UNSET:-${SET}}", "value", True), ("$$SET", "$SET", True), ("${broken", "${broken", False),
])
def test_interpolation(text: str, value: str, resolved: bool) -> None:
    assert interpolate(text, ENV) == (value, resolved)


def test_dotenv(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text('# comment\nA=1\nexport B="two words"\nC=\'x\'\nD=3 # note\nnot a line\n', encoding="utf-8")
    assert load_dotenv(str(env)) == {"A": "1", "B": "two words", "C": "x", "D": "3"}


def test_environment_overrides_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("CAPLINT_TEST_CAP=NET_ADMIN\n", encoding="utf-8")
    compose = tmp_path / "compose.yaml"
    compose.write_text('services:\n  a:\n    image: x\n    cap_add: ["${CAPLINT_TEST_CAP}"]\n', encoding="utf-8")
    monkeypatch.setenv("CAPLINT_TEST_CAP", "SYS_ADMIN")
    assert {f.rule_id for f in lint_file(str(compose), "compose")} >= {"CAP202"}


def test_merge_list_first_wins_and_spans_point_into_anchor() -> None:
    text = (
        "x-a: &a\n  privileged: true\n"
        "x-b: &b\n  privileged: false\n  user: root\n"
        "services:\n  s:\n    <<: [*a, *b]\n    image: x\n"
    )
    (c,) = parse(text, "compose.yaml").containers
    assert c.privileged is not None and c.privileged.value is True and c.privileged.span.line == 2
    assert c.user is not None and c.user.span.line == 5


def test_recursive_anchor_does_not_loop() -> None:
    text = "x: &x\n  <<: *x\n  a: 1\nservices:\n  s:\n    <<: *x\n    image: y\n"
    result = parse(text, "compose.yaml")
    assert [c.name for c in result.containers] == ["service 's'"]


def test_alias_bomb_is_linear() -> None:
    lines = ['a0: &a0 ["lol"]'] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    text = "\n".join(lines) + "\nservices:\n  s:\n    image: x\n    cap_add: *a11\n"
    result = parse(text, "compose.yaml")
    assert len(result.containers) == 1


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("name", "data", "line", "words"), [
    ("binary/docker-compose.yml", b"\x7fELF\x02\x01\x01\x00\x00\x00", 1, "binary"),
    ("badutf8/compose.yaml", b"services:\n  a:\n    image: \xff\xfe\xfa\n", 3, "UTF-8"),
    ("tabs/compose.yaml", b"services:\n\ta:\n\t\timage: x\n", 2, "invalid YAML"),
    ("invalid/compose.yaml", b"services:\n  a: [\n", 3, "invalid YAML"),
])
def test_unreadable_compose_is_cap001(tmp_path: Path, name: str, data: bytes, line: int, words: str) -> None:
    path = _write(tmp_path, name, data)
    findings = lint_file(str(path), "compose")
    assert [(f.rule_id, f.span.line) for f in findings] == [("CAP001", line)]
    assert words in findings[0].message


def test_utf16_and_crlf_are_read(tmp_path: Path) -> None:
    text = "services:\r\n  a:\r\n    image: x\r\n    privileged: true\r\n"
    utf16 = tmp_path / "a" / "compose.yaml"
    utf16.parent.mkdir()
    utf16.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    crlf = tmp_path / "b" / "compose.yaml"
    crlf.parent.mkdir()
    crlf.write_bytes(text.encode())
    for path in (utf16, crlf):
        findings = lint_file(str(path), "compose")
        assert ("CAP101", 4, 17) in {(f.rule_id, f.span.line, f.span.column) for f in findings}
        assert not any(f.rule_id == "CAP001" for f in findings)


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    _write(tmp_path, "docker-compose.yml", b"\x00\x01binary")
    (tmp_path / "ok").mkdir()
    _write(tmp_path / "ok", "compose.yaml", b"services:\n  a:\n    image: x\n    privileged: true\n")
    rules = {(Path(f.span.path).name, f.rule_id) for f in lint_paths([str(tmp_path)])}
    assert ("docker-compose.yml", "CAP001") in rules and ("compose.yaml", "CAP101") in rules


def test_python_tags_are_inert(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = _write(tmp_path, "compose.yaml",
                  f'services:\n  a:\n    image: !!python/object/apply:os.system ["touch {marker}"]\n'.encode())
    lint_file(str(path), "compose")
    assert not marker.exists()


def test_cli_hardened_file_exits_0_and_examples_exit_1() -> None:
    clean = run_caplint("check", "tests/fixtures/compose/compose.hardened.yaml")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "No findings in 1 file." in clean.stdout
    dirty = run_caplint("check", "examples")
    assert dirty.returncode == 1, dirty.stdout + dirty.stderr
    assert "Traceback" not in dirty.stderr


def test_an_interpolated_bind_source_is_quoted_and_pointed_at_alone(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text('services:\n  tools:\n    image: alpine:3.20\n    volumes:\n'
                    '      - ${HOME}/.ssh:/root/.ssh\n      - "${HOME}/.aws:/root/.aws:ro"\n')
    found = [(f.span.line, f.span.column, f.span.end_column, f.message)
             for f in lint_file(str(path), "compose") if f.rule_id == "CAP313"]
    assert found == [
        (5, 9, 21, "service 'tools' mounts host ${HOME}/.ssh (= ~/.ssh) (writable): SSH private keys"),
        (6, 10, 22, "service 'tools' mounts host ${HOME}/.aws (= ~/.aws) (read-only): AWS credentials"),
    ]


@pytest.mark.parametrize("value", ["0", "1000", "1.5", "true"])
def test_a_number_where_compose_wants_a_string_is_reported_and_still_read(value: str) -> None:
    # Found by the Compose conformance test: `user: 0` is "services.a.user must be
    # a string" to Compose, so the file never runs; caplint said nothing.
    result = parse(f"services:\n  a:\n    image: x\n    user: {value}\n    pid: host\n", "compose.yaml")
    (problem,) = result.problems
    assert (problem.span.line, problem.span.column) == (4, 11)
    assert "requires a string" in problem.message and f'"{value}"' in problem.message
    (c,) = result.containers
    assert c.user is not None and c.user.value == value


def test_quoted_numbers_and_plain_words_are_strings() -> None:
    result = parse('services:\n  a:\n    image: x\n    user: "0"\n    ipc: host\n    uts: yes\n', "compose.yaml")
    assert result.problems == []


def test_extends_merges_build_key_by_key() -> None:
    # Found by the Compose conformance test: a base's build.privileged was lost
    # under the extending service's own `build: {context: .}`.
    text = ("services:\n  base:\n    image: x\n    build:\n      context: .\n      privileged: true\n"
            "      entitlements: [security.insecure]\n  web:\n    extends: base\n    build:\n      context: ./web\n")
    web = {c.name: c for c in parse(text, "compose.yaml").containers}["service 'web'"]
    assert web.build_privileged is not None and web.build_privileged.value is True
    assert [e.value for e in web.build_entitlements] == ["security.insecure"]


def test_one_volume_and_one_device_per_container_path_the_last_written() -> None:
    # Found by the Compose conformance test: Compose mounts only the last entry
    # for a container path, in one list and through extends alike.
    text = ("services:\n  base:\n    image: x\n    volumes: [\"/etc:/data\"]\n    devices: [\"/dev/sda:/dev/x\"]\n"
            "  web:\n    extends: base\n    volumes: [\"/proc:/data\", \"/srv:/srv\", \"/var:/srv\"]\n"
            "    devices: [\"/dev/fuse:/dev/x\"]\n")
    web = {c.name: c for c in parse(text, "compose.yaml").containers}["service 'web'"]
    assert [(m.source.value if m.source else None, m.target) for m in web.mounts] == [("/proc", "/data"), ("/var", "/srv")]
    assert [d.host.value for d in web.devices] == ["/dev/fuse"]


def test_an_item_written_twice_is_reported_as_compose_refuses_it() -> None:
    # Found by the Compose conformance test: "security_opt items at 0 and 1 are equal".
    # Not in cap_add (Compose accepts that; CAP206 reports it). Compose compares
    # the items once interpolated: `${X:-c 1:3 r}` with X unset equals "c 1:3 r".
    result = parse("services:\n  a:\n    image: x\n    security_opt: [label=disable, label=disable]\n"
                   "    cap_add: [NET_ADMIN, NET_ADMIN]\n    device_cgroup_rules: [\"c 1:3 r\", \"${X:-c 1:3 r}\"]\n",
                   "compose.yaml")
    first, second = result.problems
    assert first.span.line == 4 and "listed twice" in first.message
    assert second.span.line == 6 and "equals 'c 1:3 r' (line 6)" in second.message


def test_equal_items_through_extends_are_reported_in_the_extending_list(tmp_path: Path) -> None:
    # Found by the Compose conformance test: Compose appends the base's list to
    # the extending one and then refuses the equal items.
    (tmp_path / "base.yaml").write_text("services:\n  base:\n    image: x\n    security_opt: [label=disable]\n",
                                        encoding="utf-8")
    text = ("services:\n  web:\n    extends: {file: base.yaml, service: base}\n"
            "    security_opt: [seccomp=unconfined, label=disable]\n")
    (problem,) = parse(text, str(tmp_path / "compose.yaml")).problems
    assert problem.span.line == 4 and "'label=disable' equals 'label=disable (from base.yaml:4)'" in problem.message


def test_a_list_replaces_an_extended_services_lone_string(tmp_path: Path) -> None:
    # Found by the Compose conformance test: `docker compose config` accepts a
    # base service's `security_opt: "${V}"` (a string, where the schema wants a
    # list) when the extending service writes a list — the list replaces it, and
    # the base file is not validated on its own — but refuses the string alone.
    (tmp_path / "base.yaml").write_text("services:\n  base:\n    image: x\n    security_opt: \"${CAPLINT_TEST_V}\"\n"
                                        "    cap_add: NET_ADMIN\n", encoding="utf-8")
    (tmp_path / ".env").write_text("CAPLINT_TEST_V=no-new-privileges\n", encoding="utf-8")
    text = ("services:\n  web:\n    extends: {file: base.yaml, service: base}\n"
            "    security_opt: [no-new-privileges]\n    cap_add: [SYS_TIME]\n")
    result = parse(text, str(tmp_path / "compose.yaml"))
    assert result.problems == []
    (web,) = result.containers
    assert [(x.value, x.span.line) for x in web.security_opt] == [("no-new-privileges", 4)]
    assert [x.value for x in web.cap_add] == ["SYS_TIME"]
    alone = parse("services:\n  web:\n    extends: {file: base.yaml, service: base}\n", str(tmp_path / "compose.yaml"))
    assert len(alone.problems) == 2 and all("requires a list" in p.message for p in alone.problems)


def test_a_device_a_later_one_replaces_is_not_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Found by the Compose conformance test: `docker compose config` refuses
    # "/dev/fuse:/dev/inside:rwm:x" (four parts) — unless a later device of the
    # list has the same container path, which replaces it before it is split.
    monkeypatch.setenv("CAPLINT_TEST_V", "/dev/fuse:/dev/inside")
    later = parse('services:\n  a:\n    image: x\n    devices: ["/dev/fuse:/dev/inside:rwm:x", "${CAPLINT_TEST_V}"]\n',
                  "compose.yaml")
    assert later.problems == []
    for devices in ('["/dev/fuse:/dev/inside", "/dev/fuse:/dev/inside:rwm:x"]', '["/dev/fuse:/dev/inside:rwm:x", "/d:/e"]'):
        (problem,) = parse(f"services:\n  a:\n    image: x\n    devices: {devices}\n", "compose.yaml").problems
        assert "has more than three parts" in problem.message


def test_a_lone_string_where_compose_wants_a_list_is_reported_and_still_read() -> None:
    # Found by the Compose conformance test: "services.a.cap_add must be a array".
    result = parse("services:\n  a:\n    image: x\n    cap_add: NET_ADMIN\n    volumes: ./x:/y\n", "compose.yaml")
    caps, volumes = result.problems
    assert caps.span.line == 4 and "write [NET_ADMIN]" in caps.message
    assert volumes.span.line == 5 and "volumes is a string" in volumes.message
    assert [x.value for x in result.containers[0].cap_add] == ["NET_ADMIN"]


@pytest.mark.parametrize(("field", "env", "words"), [
    ('privileged: "${V}"', {"V": "1"}, "privileged: '${V}' (= '1') is not a boolean"),
    ('init: "t"', {}, "init: 't' is not a boolean"),
    ('volumes: [{type: bind, source: /a, target: /b, read_only: "1"}]', {}, "read_only: '1' is not a boolean"),
    ('cpus: "two"', {}, "cpus: 'two' is not a number"),
    ('pids_limit: "${V}"', {"V": "1.5"}, "is not a whole number"),
    ('volumes: ["/a::/b"]', {}, "has an empty part between colons"),
    ('volumes: ["/a:/b:ro:x"]', {}, "has too many colons"),
    ('devices: ["/dev/a:/dev/b:rwm:x"]', {}, "has more than three parts"),
    ('user: "${V"', {}, "'${V' is not a variable Compose can substitute"),
    ('x-note: "${V:x}"', {}, "'${V:x}' is not a variable"),
    ("deploy: {replicas: 1, replicas: 2}", {}, "duplicate key 'replicas'"),
])
def test_what_compose_refuses_while_loading_is_reported(monkeypatch: pytest.MonkeyPatch, field: str,
                                                         env: dict[str, str], words: str) -> None:
    # Found by the Compose conformance test (after interpolation, Compose casts
    # these fields, splits short volumes and devices, and checks every `${…}`).
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    (problem,) = parse(f"services:\n  a:\n    image: x\n    {field}\n", "compose.yaml").problems
    assert problem.span.line == 4 and words in problem.message and "Compose" in problem.message


@pytest.mark.parametrize("field", ['privileged: "${CAPLINT_TEST_UNSET}"', 'init: "yes"', "cpus: 1.5", 'cpus: "0.5"',
                                   'volumes: ["/a:/b:ro,z", "c:/d", "/e"]', 'user: "$$1 ${CAPLINT_TEST_UNSET:-x}"'])
def test_what_compose_loads_is_not_reported(field: str) -> None:
    assert parse(f"services:\n  a:\n    image: x\n    {field}\n", "compose.yaml").problems == []


def _extending(tmp_path: Path, base: str) -> list[str]:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base.yaml").write_text(base, encoding="utf-8")
    (tmp_path / "sub" / ".env").write_text("CAPLINT_TEST_V=yes\n", encoding="utf-8")  # not the project's
    (tmp_path / ".env").write_text("CAPLINT_TEST_V=1\n", encoding="utf-8")
    text = "services:\n  web:\n    extends:\n      file: sub/base.yaml\n      service: base\n"
    result = parse(text, str(tmp_path / "compose.yaml"))
    assert all(p.span.line == 4 for p in result.problems)
    return [p.message for p in result.problems]


def test_an_extended_value_compose_refuses_is_reported_at_the_extends_file(tmp_path: Path) -> None:
    # The open disagreement of issue 15: `privileged: "${V}"` with V=1 in a file
    # reached through `extends: file:` — "invalid boolean: 1" to Compose, nothing
    # to caplint. Compose interpolates it with the project's environment.
    (message,) = _extending(tmp_path, 'services:\n  base:\n    image: x\n    privileged: "${CAPLINT_TEST_V}"\n')
    assert message.startswith("extends file 'sub/base.yaml', line 4: service 'base': privileged: "
                              "'${CAPLINT_TEST_V}' (= '1') is not a boolean")


def test_every_service_of_an_extended_file_is_interpolated(tmp_path: Path) -> None:
    # Compose interpolates (and casts) the whole extended file, not only the
    # service extended; its schema it checks only on what is merged.
    (message,) = _extending(tmp_path, "services:\n  base:\n    image: x\n  other:\n    image: x\n    user: 0\n"
                                      '    tty: "${CAPLINT_TEST_V}"\n')
    assert "line 7: service 'other': tty:" in message


def test_a_volume_from_an_unset_variable_is_unknown() -> None:
    (c,) = parse("services:\n  a:\n    image: x\n    volumes: [\"${CAPLINT_TEST_UNSET_VOLUME}\"]\n", "compose.yaml").containers
    (m,) = c.mounts
    assert m.kind == "unknown" and m.source is not None and not m.source.resolved


@pytest.mark.parametrize("spelling", ["1", "0", '"1"', "t", "F"])
def test_booleans_compose_refuses_are_reported(spelling: str) -> None:
    # Found by the Compose conformance test: `privileged: 1` is "must be a boolean
    # or string" and `"t"` "invalid boolean" to Compose; caplint read them as booleans.
    result = parse(f"services:\n  a:\n    image: x\n    privileged: {spelling}\n", "compose.yaml")
    (problem,) = result.problems
    assert "not a boolean" in problem.message
    assert result.containers[0].privileged is None


@pytest.mark.parametrize(("spelling", "value"), [("y", True), ("On", True), ("N", False), ('"yes"', True)])
def test_booleans_compose_accepts(spelling: str, value: bool) -> None:
    result = parse(f"services:\n  a:\n    image: x\n    privileged: {spelling}\n", "compose.yaml")
    assert result.problems == []
    assert result.containers[0].privileged is not None and result.containers[0].privileged.value is value


def test_relative_bind_sources_of_an_extended_file_are_relative_to_its_folder(tmp_path: Path) -> None:
    # Found by the Compose conformance test: Compose resolves `./data` in
    # sub/base.yaml to sub/data; caplint read it as the linted file's ./data.
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base.yaml").write_text(
        'services:\n  base:\n    image: x\n    volumes: ["./data:/d", "../up:/u", {type: bind, source: ./l, target: /l}]\n',
        encoding="utf-8")
    text = "services:\n  web:\n    extends: {file: sub/base.yaml, service: base}\n"
    (web,) = parse(text, str(tmp_path / "compose.yaml")).containers
    assert [m.source.value for m in web.mounts if m.source] == ["./sub/data", "./up", "./sub/l"]


def test_a_value_a_later_file_of_the_stack_replaces_must_pass_the_schema_where_written() -> None:
    # Found by the Compose conformance test: Compose validates after merging
    # each file, so `privileged: 1` in compose.yaml is refused although the
    # override sets `privileged: true`.
    from caplint.formats.compose.parser import parse_stack

    result = parse_stack([("compose.yaml", "services:\n  a:\n    image: x\n    privileged: 1\n"),
                          ("compose.override.yaml", "services:\n  a:\n    privileged: true\n")])
    (problem,) = result.problems
    assert (problem.span.path, problem.span.line) == ("compose.yaml", 4) and "not a boolean" in problem.message
    assert result.containers[0].privileged is not None and result.containers[0].privileged.value is True


def test_equal_items_across_the_files_of_a_stack_are_reported_in_the_later_file() -> None:
    # Found by the Compose conformance test: Compose appends the override's
    # security_opt to the base file's, then refuses the equal items.
    from caplint.formats.compose.parser import parse_stack

    result = parse_stack([("compose.yaml", "services:\n  a:\n    image: x\n    security_opt: [label=disable]\n"),
                          ("compose.override.yaml", "services:\n  a:\n    security_opt: [label=disable]\n")])
    (problem,) = result.problems
    assert (problem.span.path, problem.span.line) == ("compose.override.yaml", 3)
    assert "equals 'label=disable' (line 4 of compose.yaml)" in problem.message
