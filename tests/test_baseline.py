"""Baselines: record today's findings, then report only new ones, robust to line shifts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from caplint.baseline import BaselineError, apply, dumps, load
from caplint.engine import lint_text
from conftest import run_caplint

COMPOSE = """\
services:
  dind:
    image: docker:27-dind
    privileged: true
  avahi:
    image: ydkn/avahi
    network_mode: host
    cap_drop: [ALL]
    security_opt: [no-new-privileges:true]
"""


def rules_of(out: str) -> list[str]:
    return [line.rsplit(" ", 1)[-1] for line in out.splitlines()]


def test_file_is_sorted_stable_json(tmp_path: Path) -> None:
    findings = lint_text("deploy/compose.yml", COMPOSE)
    text = dumps(findings)
    assert text == dumps(list(reversed(findings)))
    data = json.loads(text)
    assert data["format"] == "caplint-baseline" and data["version"] == 1
    entries = data["findings"]
    assert [(e["path"], e["rule"]) for e in entries] == [("deploy/compose.yml", "CAP101"),
                                                           ("deploy/compose.yml", "CAP306")]
    assert set(entries[0]) == {"path", "rule", "fingerprint", "message"}


def test_line_shifts_keep_findings_baselined_and_edits_make_them_new() -> None:
    recorded = frozenset((f.span.path, f.fingerprint) for f in lint_text("compose.yml", COMPOSE))
    shifted = COMPOSE.replace("services:\n", "# Local development stack\nx-logging: &logging\n  driver: local\nservices:\n")
    result = apply(lint_text("compose.yml", shifted), recorded, ["compose.yml"])
    assert (result.new, result.known, result.stale) == ([], 2, 0)

    edited = shifted.replace("network_mode: host", "network_mode: 'host'")
    result = apply(lint_text("compose.yml", edited), recorded, ["compose.yml"])
    assert [(f.rule_id, f.span.line) for f in result.new] == [("CAP306", 10)]
    assert (result.known, result.stale) == (1, 1)


def test_entries_for_files_not_linted_are_not_stale() -> None:
    recorded = frozenset((f.span.path, f.fingerprint) for f in lint_text("compose.yml", COMPOSE))
    assert apply([], recorded, ["Dockerfile"]).stale == 0


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "is not a caplint baseline (invalid JSON"),
    ('{"findings": []}', "is not a caplint baseline (write one with --write-baseline)"),
    ('{"format": "caplint-baseline", "version": 9, "findings": []}', "baseline version 9 is not supported"),
    ('{"format": "caplint-baseline", "version": 1, "findings": [{"path": "x"}]}', "needs a path and a fingerprint"),
])
def test_bad_baselines_are_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError) as err:
        load(str(path))
    assert message in str(err.value)


def test_adoption_story_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text(COMPOSE, encoding="utf-8")
    wrote = run_caplint("check", "--write-baseline", "caplint-baseline.json", ".", cwd=tmp_path)
    assert wrote.returncode == 0
    assert wrote.stdout == ""
    assert wrote.stderr == "caplint: recorded 2 findings in caplint-baseline.json\n"
    first = (tmp_path / "caplint-baseline.json").read_text(encoding="utf-8")
    run_caplint("check", "--write-baseline", "caplint-baseline.json", ".", cwd=tmp_path)
    assert (tmp_path / "caplint-baseline.json").read_text(encoding="utf-8") == first  # byte-stable

    clean = run_caplint("check", "-f", "text", "--baseline", "caplint-baseline.json", ".", cwd=tmp_path)
    assert clean.returncode == 0
    assert clean.stdout == "No findings in 1 file.\n"
    assert "2 known findings hidden by the baseline caplint-baseline.json" in clean.stderr

    (tmp_path / "compose.yml").write_text(
        "# moved down\n" + COMPOSE + "  tools:\n    image: busybox\n    cap_add: [SYS_ADMIN]\n"
        "    cap_drop: [ALL]\n    security_opt: [no-new-privileges:true]\n", encoding="utf-8")
    new = run_caplint("check", "-f", "gnu", "--baseline", "caplint-baseline.json", ".", cwd=tmp_path)
    assert new.returncode == 1
    assert rules_of(new.stdout) == ["[CAP202]"]


def test_missing_baseline_exits_2(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text(COMPOSE, encoding="utf-8")
    run = run_caplint("check", "--baseline", "nope.json", ".", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith("caplint: error: cannot read baseline nope.json: ")
