"""The JSON report: schema version 2, valid against the schema caplint ships,
every finding with its fix text and rule page."""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from caplint.engine import lint_paths
from caplint.registry import all_rules
from caplint.report import Context
from caplint.report.json import SCHEMA_VERSION, render
from conftest import ROOT


def schema() -> dict[str, Any]:
    text = resources.files("caplint.report").joinpath("caplint-report.schema.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def validate(doc: dict[str, Any]) -> None:
    cls = jsonschema.validators.validator_for(schema())
    cls.check_schema(schema())
    cls(schema(), format_checker=cls.FORMAT_CHECKER).validate(doc)


@pytest.fixture(scope="module")
def examples_report() -> dict[str, Any]:
    findings = lint_paths([str(ROOT / "examples")])
    return json.loads(render(findings, Context(rules=all_rules(), files=4)))  # type: ignore[no-any-return]


def test_the_examples_report_is_valid(examples_report: dict[str, Any]) -> None:
    assert examples_report["version"] == SCHEMA_VERSION == 2
    validate(examples_report)


def test_every_finding_has_a_fix_and_its_rule_page(examples_report: dict[str, Any]) -> None:
    for f in examples_report["findings"]:
        assert f["fix"].strip()
        assert f["help_uri"] == f"https://github.com/caplint/caplint/blob/main/rules/{f['rule']}.md"


def test_the_schema_check_is_not_vacuous(examples_report: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(examples_report))
    del broken["findings"][0]["fix"]
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


def test_the_readme_documents_the_fields() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"schema version {SCHEMA_VERSION}" in readme
    for field in schema()["$defs"]["finding"]["required"]:
        assert f'"{field}"' in readme, field
