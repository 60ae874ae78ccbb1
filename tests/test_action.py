"""action.yml: a composite action whose steps install caplint from the action's
own checkout, write SARIF and upload it to code scanning even when findings fail
the step."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from conftest import ROOT
from ruamel.yaml import YAML


@lru_cache(maxsize=1)
def action() -> dict[str, Any]:
    return YAML(typ="safe").load((ROOT / "action.yml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def steps() -> list[dict[str, Any]]:
    return action()["runs"]["steps"]  # type: ignore[no-any-return]


def step_using(prefix: str) -> dict[str, Any]:
    return next(s for s in steps() if s.get("uses", "").startswith(prefix))


def test_inputs_and_defaults() -> None:
    inputs = action()["inputs"]
    assert {"paths", "format", "sarif-file", "fail-on", "category", "version"} <= set(inputs)
    assert inputs["format"]["default"] == "sarif"
    assert inputs["sarif-file"]["default"] == "caplint.sarif"
    assert inputs["fail-on"]["default"] in ("low", "medium", "high", "critical")
    assert all(spec.get("description") for spec in inputs.values())
    assert not any(spec.get("required") for spec in inputs.values())


def test_is_a_composite_action_with_shells() -> None:
    assert action()["name"] and action()["description"]
    assert action()["runs"]["using"] == "composite"
    for step in steps():
        assert ("run" in step) != ("uses" in step)
        if "run" in step:
            # A composite step must say its shell.
            assert step["shell"] == "bash"


def test_installs_from_the_actions_own_checkout() -> None:
    assert step_using("actions/setup-python@")["with"]["python-version"] == "${{ inputs.python-version }}"
    install = next(s for s in steps() if "pip install" in s.get("run", ""))
    assert install["env"]["CAPLINT_SOURCE"] == "${{ github.action_path }}"
    assert "CAPLINT_VERSION" in install["env"]


def test_runs_caplint_and_uploads_always() -> None:
    names = [s.get("id") or s.get("uses", "").split("@")[0] for s in steps()]
    run = next(s for s in steps() if s.get("id") == "caplint")
    assert "python -m caplint" in run["run"] and "--output" in run["run"] and "--format" in run["run"]
    assert "GITHUB_OUTPUT" in run["run"]
    upload = step_using("github/codeql-action/upload-sarif@")
    assert upload["uses"].endswith("@v3")
    assert names.index("caplint") < names.index("github/codeql-action/upload-sarif")
    assert upload["with"] == {"sarif_file": "${{ inputs.sarif-file }}", "category": "${{ inputs.category }}"}
    assert upload["if"].startswith("always()") and "inputs.format == 'sarif'" in upload["if"]


def test_inputs_reach_scripts_only_through_the_environment() -> None:
    declared = set(action()["inputs"])
    for step in steps():
        # Interpolating ${{ inputs.* }} into script text would let a value inject shell code.
        assert "${{" not in step.get("run", "")
        for value in [*step.get("env", {}).values(), *step.get("with", {}).values(), step.get("if", "")]:
            for name in re.findall(r"inputs\.([\w-]+)", str(value)):
                assert name in declared
