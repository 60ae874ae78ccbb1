"""The language server's re-lint reuses what an edit left unchanged
(`engine.CheckMemo`): its findings must equal a lint from scratch after every
edit, whatever the edits. Each example is a document (a fixture, kept at its
own path so `build:`, `extends` and stacks read the files beside it) and a
run of line edits — replace, insert, delete, with lines taken from every
fixture and a few that add findings or suppressions — linted after each edit
with one memo kept across them, as the server keeps one per document."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caplint import engine, values
from caplint.lsp import lint_document
from caplint.model import Container, Hit
from caplint.registry import all_rules, check_module
from conftest import FIXTURES
from test_yamledit import apply_edit, edit as yamledit_edit

DOCUMENTS = sorted(
    [p for p in (FIXTURES / "compose").rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml")]
    + [FIXTURES / "dockerfile" / name for name in ("Dockerfile", "Dockerfile.wrappers", "api.Dockerfile")]
)
POOL = sorted({line for p in DOCUMENTS for line in p.read_text(encoding="utf-8").split("\n")} | {
    "    privileged: true", "    cap_add: [SYS_ADMIN]", "    cap_drop: [ALL]", "  extra:", "    image: alpine:3.20",
    "    network_mode: host", "      - /var/run/docker.sock:/var/run/docker.sock",
    "    privileged: true  # caplint: ignore[CAP101] a test rig", "# caplint: ignore-file[CAP204]",
    "    <<: *base", "x-base: &base", "    pid: host", "USER root", "RUN chmod u+s /bin/ping", "",
})

edit = st.tuples(st.sampled_from(("replace", "insert", "delete")), st.integers(0, 400), st.sampled_from(POOL))


def _apply(lines: list[str], op: str, at: int, line: str) -> None:
    at %= len(lines) + 1
    if op == "insert" or not lines or at == len(lines):
        lines.insert(at, line)
    elif op == "replace":
        lines[at] = line
    else:
        del lines[at]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(DOCUMENTS), st.lists(edit, min_size=1, max_size=8), st.booleans())
def test_relint_with_the_memo_equals_a_lint_from_scratch(document: Path, edits: list[tuple[str, int, str]],
                                                          fixes: bool) -> None:
    path = str(document)
    lines = document.read_text(encoding="utf-8").split("\n")
    memo = engine.CheckMemo()
    assert lint_document(path, "\n".join(lines), memo=memo) == lint_document(path, "\n".join(lines))
    for op, at, line in edits:
        before = "\n".join(lines)
        _apply(lines, op, at, line)
        text = "\n".join(lines)
        assert lint_document(path, text, memo=memo, fixes=fixes) == lint_document(path, text, fixes=fixes)
        # Undo: the memo's previous generation is what a flip back reuses.
        assert lint_document(path, before, memo=memo) == lint_document(path, before)
        assert lint_document(path, text, memo=memo) == lint_document(path, text)


SIX_SERVICES = "".join(f"  app{n}:\n    image: example/app{n}:1\n    cap_add: [NET_ADMIN]\n" for n in range(6))


def _services_built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the Compose services built from here on, in order (each lint appends its own)."""
    from caplint.formats.compose import parser

    built: list[str] = []
    service = parser._service

    def counting(doc: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        built.append(name)
        return service(doc, name, *args, **kwargs)

    monkeypatch.setattr(parser, "_service", counting)
    return built


def test_the_memo_runs_only_the_checks_of_what_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-line edit in one service of many re-runs the rules on that service only."""
    services = SIX_SERVICES
    text = "services:\n" + services
    edited = text.replace("example/app3:1", "example/app3:2")
    memo = engine.CheckMemo()
    ran: list[str] = []
    expected = lint_document("/nowhere/compose.yaml", edited)
    for rule in all_rules():
        if rule.subjects:
            monkeypatch.setattr(rule, "check", _counting(rule.check, ran))
    first = lint_document("/nowhere/compose.yaml", text, memo=memo)
    assert set(ran) == {f"service 'app{n}'" for n in range(6)}
    ran.clear()
    assert lint_document("/nowhere/compose.yaml", edited, memo=memo) == expected
    assert set(ran) == {"service 'app3'"}
    ran.clear()
    assert lint_document("/nowhere/compose.yaml", text, memo=memo) == first
    assert set(ran) == {"service 'app3'"}  # only the last lint is kept: app3 as it was is gone


def _counting(check: Callable[[Any], Iterable[Hit]], ran: list[str]) -> Callable[[Any], Iterable[Hit]]:
    def counted(subject: Any) -> Iterable[Hit]:
        ran.append(subject.name if isinstance(subject, Container) else subject.path)
        return check(subject)

    counted.__module__ = check_module(check)  # still a built-in rule's check (perhaps one deferred by the registry)
    return counted


def test_a_plugin_rule_is_run_on_every_lint(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin's check might read more than its subject, so its hits are never reused."""
    from caplint.model import Severity
    from caplint.rules import rule

    calls: list[str] = []

    @rule("X900", "plugin-rule", Severity.LOW, (Container,))
    def plugin(c: Container) -> Iterable[Hit]:
        """A plugin rule."""
        calls.append(c.name)
        return ()

    monkeypatch.setattr(engine, "all_rules", lambda: (*all_rules(), plugin))
    memo = engine.CheckMemo()
    text = "services:\n  web:\n    image: nginx\n"
    for _ in range(3):
        lint_document("/nowhere/compose.yaml", text, memo=memo)
    assert calls == ["service 'web'"] * 3


def test_checks_the_registry_imports_on_first_use_are_reused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a registry cache hit a rule's check is a stand-in that imports its
    module when first called; it is still a built-in rule's, and a plugin's is not."""
    from caplint.registry import _Deferred

    own = next(r for r in all_rules() if r.id == "CAP101")
    assert engine._built_in(values.replace(own, check=_Deferred(("CAP101", "caplint.rules.privileges:privileged_container"))))
    assert not engine._built_in(values.replace(own, check=_Deferred(("X101", "acme_rules.checks:privileged"))))


COMPOSE_DOCUMENTS = [p for p in DOCUMENTS if p.suffix in (".yml", ".yaml")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(COMPOSE_DOCUMENTS), st.lists(yamledit_edit, min_size=1, max_size=10), st.booleans())
def test_typing_in_a_compose_file_relints_as_a_lint_from_scratch(document: Path, edits: list[Any], fixes: bool) -> None:
    """Keystrokes keep the number of lines: the parse then re-reads and
    re-builds only the service typed in (`parser.Reuse`); its model and the
    findings must be those of a parse and lint from scratch after every one."""
    from caplint.formats.compose import parser

    path = str(document)
    text = document.read_text(encoding="utf-8")
    memo = engine.CheckMemo()
    reuse = parser.Reuse()
    for op, line, column, what in [("insert", 0, 0, ""), *edits]:
        text = apply_edit(text, op, line, column, what)
        assert lint_document(path, text, memo=memo, fixes=fixes) == lint_document(path, text, fixes=fixes)
        again, fresh = parser.parse(text, path, reuse=reuse), parser.parse(text, path)
        assert again.containers == fresh.containers
        assert sorted(again.problems, key=_problem_key) == sorted(fresh.problems, key=_problem_key)


def _problem_key(p: Any) -> tuple[int, int, int, int, str]:
    s = p.span
    return (s.line, s.column, s.end_line, s.end_column, p.message)


def test_a_keystroke_in_one_service_rebuilds_that_service_only(monkeypatch: pytest.MonkeyPatch) -> None:
    services = SIX_SERVICES
    text = "services:\n" + services + "volumes:\n  data: {}\n"
    built = _services_built(monkeypatch)
    memo = engine.CheckMemo()
    lint_document("/nowhere/compose.yaml", text, memo=memo)
    assert built == [f"app{n}" for n in range(6)]
    for typed in ("example/app3:12", "example/app3:1"):
        built.clear()
        edited = text.replace("example/app3:1", typed)
        assert lint_document("/nowhere/compose.yaml", edited, memo=memo) == lint_document("/nowhere/compose.yaml", edited)
        assert built == ["app3", *(f"app{n}" for n in range(6))]  # the memo's lint, then the lint from scratch's
    # A new line moves every service below it, and the top-level volumes after them,
    # which a service's named volumes are read from: all are built again.
    built.clear()
    moved = text.replace("  app3:\n", "  app3:\n    user: '1000'\n")
    lint_document("/nowhere/compose.yaml", moved, memo=memo)
    assert built == [f"app{n}" for n in range(6)]
    # Without top-level volumes after them, the services above the new line are kept.
    memo = engine.CheckMemo()
    lint_document("/nowhere/compose.yaml", "services:\n" + services, memo=memo)
    built.clear()
    moved = "services:\n" + services.replace("  app3:\n", "  app3:\n    user: '1000'\n")
    assert lint_document("/nowhere/compose.yaml", moved, memo=memo) == lint_document("/nowhere/compose.yaml", moved)
    assert built == ["app3", "app4", "app5", *(f"app{n}" for n in range(6))]  # the memo's lint, then from scratch


def test_a_changed_env_file_rebuilds_every_service(tmp_path: Path) -> None:
    """What `${…}` interpolates with is part of every service: `.env` edited
    between two keystrokes means nothing built before is reused."""
    compose = tmp_path / "compose.yaml"
    text = "services:\n  web:\n    image: nginx\n    privileged: ${PRIV}\n  db:\n    image: postgres:16\n"
    compose.write_text(text, encoding="utf-8")
    (tmp_path / ".env").write_text("PRIV=false\n", encoding="utf-8")
    memo = engine.CheckMemo()
    assert not [f for f in lint_document(str(compose), text, memo=memo) if f.rule_id == "CAP101"]
    (tmp_path / ".env").write_text("PRIV=true\n", encoding="utf-8")
    edited = text.replace("postgres:16", "postgres:17")
    found = lint_document(str(compose), edited, memo=memo)
    assert found == lint_document(str(compose), edited)
    assert [f.span.line for f in found if f.rule_id == "CAP101"] == [4]


def test_a_built_service_is_linked_again_when_a_file_its_image_runs_changes(tmp_path: Path) -> None:
    """A service's link to its Dockerfile and the scripts its image runs is
    kept while those files are as they were (assemble.link, for the language
    server's keystrokes), and made again as soon as one changes or appears."""
    (tmp_path / "Dockerfile").write_text('FROM debian:12\nCOPY start.sh /start.sh\nENTRYPOINT ["/start.sh"]\n',
                                         encoding="utf-8")
    text = ("services:\n  vpn:\n    build: .\n    cap_drop: [ALL]\n    cap_add: [NET_ADMIN]\n"
            "  web:\n    image: nginx:1.27\n")
    compose = str(tmp_path / "compose.yaml")
    (tmp_path / "compose.yaml").write_text(text, encoding="utf-8")
    memo = engine.CheckMemo()
    scripts = []
    for script in (None, "#!/bin/sh\necho starting\nexec sleep infinity\n",
                   "#!/bin/sh\nip link set dev wg0 up\nexec sleep infinity\n"):
        if script is not None:
            (tmp_path / "start.sh").write_text(script, encoding="utf-8")
        for typed in ("nginx:1.27", "nginx:1.28"):  # a keystroke elsewhere: the vpn service is the same object
            edited = text.replace("nginx:1.27", typed)
            assert lint_document(compose, edited, memo=memo) == lint_document(compose, edited)
            vpn = engine.parse_assembled(compose, edited, "compose", memo=memo).containers[0]
            assert vpn == engine.parse_assembled(compose, edited, "compose").containers[0]
        assert vpn.build is not None
        scripts.append(vpn.build.scripts)
    # No script, then one that runs echo, then one that runs ip: each was read.
    assert len(set(scripts)) == 3, scripts


def test_a_keystroke_after_one_that_broke_the_yaml_reuses_the_last_good_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """Half-typed YAML (`cap_add: [NET_ADMIN]x`) is a parse error for a moment;
    the keystroke after it is read against the last text that parsed."""
    services = SIX_SERVICES
    text = "services:\n" + services
    built = _services_built(monkeypatch)
    memo = engine.CheckMemo()
    lint_document("/nowhere/compose.yaml", text, memo=memo)
    broken = text.replace("    cap_add: [NET_ADMIN]\n  app3:", "    cap_add: [NET_ADMIN]x\n  app3:")
    assert [f.rule_id for f in lint_document("/nowhere/compose.yaml", broken, memo=memo)] == ["CAP001"]
    built.clear()
    fixed = text.replace("    cap_add: [NET_ADMIN]\n  app3:", "    cap_add: [NET_ADMIN, SYS_TIME]\n  app3:")
    assert lint_document("/nowhere/compose.yaml", fixed, memo=memo) == lint_document("/nowhere/compose.yaml", fixed)
    assert built == ["app2", *(f"app{n}" for n in range(6))]  # the memo's lint, then the lint from scratch's
