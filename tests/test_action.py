"""action.yml: a composite action whose steps install caplint from the action's
own checkout, write SARIF and upload it to code scanning even when findings fail
the step."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
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


def test_installs_from_the_actions_own_checkout_into_its_own_virtualenv() -> None:
    # actions/setup-python would change the Python (and PATH) of the caller's later steps.
    assert not any("setup-python" in s.get("uses", "") for s in steps())
    install = next(s for s in steps() if "pip install" in s.get("run", ""))
    assert install["env"]["CAPLINT_SOURCE"] == "${{ github.action_path }}"
    assert "CAPLINT_VERSION" in install["env"]
    assert '-m venv "$venv"' in install["run"] and 'venv="$RUNNER_TEMP/' in install["run"]
    assert "GITHUB_ENV" not in install["run"] and "GITHUB_PATH" not in install["run"]


def run_steps(tmp_path: Path, python: str, project: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """The action's install and run steps, executed by bash as the runner would."""
    work = tmp_path / "work"
    work.mkdir()
    for name, text in project.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text, encoding="utf-8")
    output = tmp_path / "github_output"
    output.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env.update(RUNNER_TEMP=str(tmp_path / "runner-temp"), GITHUB_OUTPUT=str(output), CAPLINT_VERSION="",
               CAPLINT_SOURCE=str(ROOT), CAPLINT_PYTHON=python, CAPLINT_PATHS=".", CAPLINT_FORMAT="sarif",
               CAPLINT_SARIF_FILE="caplint.sarif", CAPLINT_FAIL_ON="medium")
    (tmp_path / "runner-temp").mkdir()
    install = next(s for s in steps() if s.get("id") == "install")
    done = subprocess.run(["bash", "-c", install["run"]], cwd=work, env=env, capture_output=True, text=True,
                          timeout=900)
    outputs = dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines())
    if done.returncode != 0:
        return done, outputs
    run = next(s for s in steps() if s.get("id") == "caplint")
    done = subprocess.run(["bash", "-c", run["run"]], cwd=work, env={**env, "CAPLINT": outputs["caplint"]},
                          capture_output=True, text=True, timeout=300)
    outputs = dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines())
    return done, outputs


def test_the_steps_install_and_run_caplint_and_say_what_they_found(tmp_path: Path) -> None:
    done, outputs = run_steps(tmp_path, sys.executable,
                              {"compose.yml": "services:\n  dind:\n    image: docker:27-dind\n    privileged: true\n"})
    assert outputs.get("exit-code") == "1", done.stdout + done.stderr
    assert outputs["caplint"].startswith(str(tmp_path / "runner-temp" / "caplint-venv"))
    # The report is in the SARIF file; the log still says what happened.
    assert "caplint: 1 finding (1 critical) in 1 file. Report written to caplint.sarif." in done.stderr
    assert json.loads((tmp_path / "work" / "caplint.sarif").read_text(encoding="utf-8"))["runs"][0]["results"]


def test_a_python_too_old_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "python2"
    fake.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    done, _ = run_steps(tmp_path, str(fake), {})
    assert done.returncode == 2
    assert "is not Python 3.10 or later; run actions/setup-python before caplint" in done.stdout


def test_runs_caplint_and_uploads_always() -> None:
    names = [s.get("id") or s.get("uses", "").split("@")[0] for s in steps()]
    run = next(s for s in steps() if s.get("id") == "caplint")
    # caplint from the action's own virtualenv, never the job's `python`.
    assert run["env"]["CAPLINT"] == "${{ steps.install.outputs.caplint }}" and "python" not in run["run"]
    assert '"$CAPLINT" ' in run["run"] and "--output" in run["run"] and "--format" in run["run"]
    assert "GITHUB_OUTPUT" in run["run"]
    upload = step_using("github/codeql-action/upload-sarif@")
    # v4 is current; v3 is deprecated in December 2026 (github.blog changelog 2025-10-28).
    assert upload["uses"].endswith("@v4")
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
