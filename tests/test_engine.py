"""The engine's safety nets: a broken rule or parser costs its own findings only."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from caplint import engine
from caplint.model import Container, Hit, Severity
from caplint.registry import all_rules
from caplint.rules import rule

COMPOSE = "services:\n  web:\n    image: nginx\n    privileged: true\n"


@rule("CAP990", "always-broken", Severity.LOW, (Container,))
def broken(c: Container) -> Iterator[Hit]:
    """
    Raises, like a buggy plugin.

    ## What it does
    x
    ## Why is this bad?
    x
    ## Example
    x
    ## Use instead
    x
    """
    raise RuntimeError("plugin bug")
    yield  # pragma: no cover


def test_a_failing_rule_is_reported_and_the_others_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "all_rules", lambda: (*all_rules(), broken))
    findings = engine.lint_text("compose.yaml", COMPOSE)
    by_rule = {f.rule_id: f for f in findings}
    assert "CAP101" in by_rule
    assert "rule CAP990 failed" in by_rule["CAP990"].message and "plugin bug" in by_rule["CAP990"].message
    assert by_rule["CAP990"].span.line == 2  # the service it failed on


def test_a_failing_parser_is_cap001(monkeypatch: pytest.MonkeyPatch) -> None:
    from caplint.formats.compose import parser as compose

    def boom(text: str, path: str, **_: object) -> object:
        raise KeyError("parser bug")

    monkeypatch.setattr(compose, "parse", boom)
    (finding,) = engine.lint_text("compose.yaml", COMPOSE)
    assert finding.rule_id == "CAP001" and "parser bug" in finding.message


def test_yaml_that_is_not_compose_yields_nothing() -> None:
    assert engine.lint_text("k8s.yaml", "apiVersion: v1\nkind: Pod\n") == []
    assert engine.lint_text("template.yaml", "{{ if }}\n") == []
