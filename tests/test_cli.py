"""The command line, run as a user runs it: `python -m caplint …` in a folder."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_caplint

PRIVILEGED = "services:\n  dind:\n    image: docker:27-dind\n    privileged: true\n"
HOST_NET = ("services:\n  avahi:\n    image: ydkn/avahi\n    network_mode: host\n"
            "    cap_drop: [ALL]\n    security_opt: [no-new-privileges:true]\n")
CLEAN = ("services:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n    cap_add: [CHOWN]\n"
         "    security_opt: [no-new-privileges:true]\n")
DOCKERFILE = "FROM debian:12-slim\nRUN --security=insecure make install\nUSER root\n"
SCRIPT = ("#!/bin/sh\nset -e\ndocker run --rm \\\n  --cap-add SYS_ADMIN \\\n  --security-opt no-new-privileges \\\n"
          "  --cap-drop ALL alpine:3.20 true\n")


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def caplint(cwd: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """Like conftest's run_caplint, with control over the environment: a test
    run inside GitHub Actions must not switch to `github` annotations by accident."""
    environ = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR", "FORCE_COLOR")}
    return subprocess.run([sys.executable, "-m", "caplint", *args], input=stdin, capture_output=True,
                          text=True, cwd=cwd, env={**environ, **env}, timeout=120)


def rules_of(gnu: str) -> list[str]:
    return [line.rsplit(" ", 1)[-1].strip("[]") for line in gnu.splitlines()]


# --- exit codes -----------------------------------------------------------------


def test_exit_0_when_clean(tmp_path: Path) -> None:
    run = caplint(project(tmp_path, {"compose.yml": CLEAN}), "check")
    assert (run.returncode, run.stdout, run.stderr) == (0, "No findings in 1 file.\n", "")


def test_exit_1_on_findings_at_or_above_fail_on(tmp_path: Path) -> None:
    cwd = project(tmp_path, {"compose.yml": HOST_NET})
    assert caplint(cwd, "check").returncode == 1  # medium, default fail-on medium
    assert caplint(cwd, "check", "--fail-on", "high").returncode == 0
    assert caplint(cwd, "check", "--fail-on", "bogus").returncode == 2


def test_parse_error_is_a_finding_not_exit_2(tmp_path: Path) -> None:
    run = caplint(project(tmp_path, {"compose.yml": "services:\n  web: [\n"}), "check", "-f", "gnu")
    assert run.returncode == 1 and rules_of(run.stdout) == ["CAP001"]


def test_missing_path_exits_2(tmp_path: Path) -> None:
    run = caplint(tmp_path, "check", "compose.yml", "nope/")
    assert run.returncode == 2
    assert run.stderr == "caplint: error: no such file or directory: compose.yml, nope/\n"


def test_unknown_format_exits_2(tmp_path: Path) -> None:
    run = caplint(project(tmp_path, {"compose.yml": CLEAN}), "check", "-f", "xml")
    assert run.returncode == 2 and "'xml' is not one of 'text', 'json', 'sarif', 'gnu', 'github'" in run.stderr


# --- rule selection -------------------------------------------------------------


def test_select_and_ignore_take_prefixes(tmp_path: Path) -> None:
    cwd = project(tmp_path, {"compose.yml": HOST_NET, "run.sh": SCRIPT})
    assert rules_of(caplint(cwd, "check", "-f", "gnu").stdout) == ["CAP306", "CAP202"]
    assert rules_of(caplint(cwd, "check", "-f", "gnu", "--select", "CAP2").stdout) == ["CAP202"]
    assert rules_of(caplint(cwd, "check", "-f", "gnu", "--select", "cap3,CAP20").stdout) == ["CAP306", "CAP202"]
    assert rules_of(caplint(cwd, "check", "-f", "gnu", "--ignore", "CAP3").stdout) == ["CAP202"]
    assert caplint(cwd, "check", "--select", "CAP2", "--ignore", "CAP202").stdout == "No findings in 2 files.\n"


@pytest.mark.parametrize("flag", ["--select", "--ignore"])
def test_unknown_rule_id_exits_2(tmp_path: Path, flag: str) -> None:
    run = caplint(project(tmp_path, {"compose.yml": CLEAN}), "check", flag, "CAP999")
    assert run.returncode == 2
    assert run.stderr == "caplint: error: unknown rule or prefix 'CAP999' (see 'caplint rules')\n"


# --- output ---------------------------------------------------------------------


def test_summary_line_counts_by_severity(tmp_path: Path) -> None:
    cwd = project(tmp_path, {"compose.yml": PRIVILEGED + HOST_NET.replace("services:\n", ""), "Dockerfile": DOCKERFILE})
    last = caplint(cwd, "check").stdout.splitlines()[-1]
    assert last == "4 findings (1 critical, 1 high, 2 medium) in 2 files."


def test_output_file_gets_the_report_and_stdout_stays_empty(tmp_path: Path) -> None:
    cwd = project(tmp_path, {"compose.yml": PRIVILEGED})
    run = caplint(cwd, "check", "--format", "json", "--output", "report.json")
    assert (run.returncode, run.stdout) == (1, "")
    report = json.loads((cwd / "report.json").read_text(encoding="utf-8"))
    assert [f["rule"] for f in report["findings"]] == ["CAP101"]
    bad = caplint(cwd, "check", "--output", str(cwd / "no" / "such" / "dir" / "r.txt"))
    assert bad.returncode == 2 and "cannot write" in bad.stderr


def test_output_file_still_says_the_summary_on_stderr(tmp_path: Path) -> None:
    # A CI step that writes SARIF must not end red with an empty log.
    cwd = project(tmp_path, {"compose.yml": PRIVILEGED, "Dockerfile": DOCKERFILE})
    run = caplint(cwd, "check", "-f", "sarif", "-o", "caplint.sarif")
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr == ("caplint: 3 findings (1 critical, 1 high, 1 medium) in 2 files. "
                          "Report written to caplint.sarif.\n")
    clean = caplint(project(tmp_path / "clean", {"compose.yml": CLEAN}), "check", "-o", "out.txt")
    assert clean.stderr == "caplint: No findings in 1 file. Report written to out.txt.\n"


def test_color_follows_no_color_and_the_flags(tmp_path: Path) -> None:
    """As the README says: colour on a terminal (or with FORCE_COLOR), never with
    NO_COLOR or --output; an explicit --color/--no-color beats all of them."""
    cwd = project(tmp_path, {"compose.yml": PRIVILEGED})
    ansi = re.compile(r"\x1b\[")
    assert ansi.search(caplint(cwd, "check", FORCE_COLOR="1").stdout)
    assert not ansi.search(caplint(cwd, "check", FORCE_COLOR="1", NO_COLOR="1").stdout)
    assert not ansi.search(caplint(cwd, "check").stdout)  # not a terminal
    assert ansi.search(caplint(cwd, "check", "--color", NO_COLOR="1").stdout)
    assert not ansi.search(caplint(cwd, "check", "--no-color", FORCE_COLOR="1").stdout)
    caplint(cwd, "check", "-o", "plain.txt", FORCE_COLOR="1")
    assert not ansi.search((cwd / "plain.txt").read_text(encoding="utf-8"))
    caplint(cwd, "check", "-o", "painted.txt", "--color")
    assert ansi.search((cwd / "painted.txt").read_text(encoding="utf-8"))


def test_github_format_is_the_default_under_github_actions(tmp_path: Path) -> None:
    cwd = project(tmp_path, {"compose.yml": PRIVILEGED})
    run = caplint(cwd, "check", GITHUB_ACTIONS="true")
    assert run.stdout.startswith("::error file=compose.yml,line=4,")
    assert caplint(cwd, "check", "-f", "text", GITHUB_ACTIONS="true").stdout.startswith("compose.yml:4:")
    caplint(cwd, "check", "-o", "out.txt", GITHUB_ACTIONS="true")
    assert (cwd / "out.txt").read_text(encoding="utf-8").startswith("compose.yml:4:")


@pytest.mark.parametrize(("args", "automation_id"), [
    # GitHub reads the id as CATEGORY/RUN_ID: the category is everything before the last "/".
    (("--sarif-category", "compose"), "compose/"),
    (("--sarif-category", "my/cat"), "my/cat/"),
    (("--sarif-category", "my/cat/"), "my/cat/"),
    (("--sarif-category", "my/cat", "--sarif-run-id", "2026-12-01"), "my/cat/2026-12-01"),
    (("--sarif-run-id", "nightly-42"), "nightly-42"),  # no "/": a run id without a category
])
def test_sarif_category_and_run_id_make_the_automation_id(tmp_path: Path, args: tuple[str, ...],
                                                          automation_id: str) -> None:
    cwd = project(tmp_path, {"compose.yml": PRIVILEGED})
    log = json.loads(caplint(cwd, "check", "-f", "sarif", *args).stdout)
    assert log["runs"][0]["automationDetails"] == {"id": automation_id}


def test_no_automation_id_without_a_category(tmp_path: Path) -> None:
    cwd = project(tmp_path, {"compose.yml": PRIVILEGED})
    assert "automationDetails" not in json.loads(caplint(cwd, "check", "-f", "sarif").stdout)["runs"][0]
    bad = caplint(cwd, "check", "-f", "sarif", "--sarif-category", "a", "--sarif-run-id", "x/y")
    assert bad.returncode == 2 and "a run id is not empty and has no '/'" in bad.stderr


def test_flags_without_effect_are_warned_about(tmp_path: Path) -> None:
    cwd = project(tmp_path, {"compose.yml": CLEAN})
    run = caplint(cwd, "check", "--sarif-category", "compose")
    assert (run.returncode, run.stdout) == (0, "No findings in 1 file.\n")
    assert run.stderr == ("caplint: warning: --sarif-category has no effect with --format text "
                          "(only SARIF reports carry a category)\n")
    named = caplint(cwd, "check", "--stdin-filename", "compose.yml", "compose.yml")
    assert named.returncode == 0
    assert named.stderr == "caplint: warning: --stdin-filename has no effect without '-' (read stdin) among the paths\n"


def test_negative_jobs_is_a_usage_error(tmp_path: Path) -> None:
    run = caplint(project(tmp_path, {"compose.yml": CLEAN}), "check", "-j", "-1")
    assert run.returncode == 2 and "-1 is not in the range x>=0" in run.stderr


# --- stdin ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "text", "want"), [
    ("docker/api.Dockerfile", DOCKERFILE, "docker/api.Dockerfile:2:5: error: "),
    ("deploy/compose.prod.yaml", PRIVILEGED, "deploy/compose.prod.yaml:4:17: error: "),
    ("scripts/start-tools", SCRIPT, "scripts/start-tools:4:13: error: "),  # no extension: the shebang decides
])
def test_stdin_is_linted_as_the_named_file(tmp_path: Path, name: str, text: str, want: str) -> None:
    run = caplint(tmp_path, "check", "-f", "gnu", "--stdin-filename", name, "-", stdin=text)
    assert run.returncode == 1
    assert run.stdout.startswith(want)
    assert not (tmp_path / name).exists()  # the file need not exist: an unsaved buffer


def test_stdin_name_picks_the_kind_even_when_content_is_ambiguous(tmp_path: Path) -> None:
    # Without a name this text is nothing caplint recognises; named, it is a Compose file.
    text = "x-defaults: &d\n  restart: always\nservices:\n  web:\n    <<: *d\n    image: nginx\n    privileged: true\n"
    named = caplint(tmp_path, "check", "-f", "gnu", "--select", "CAP101", "--stdin-filename", "compose.yml", "-",
                    stdin=text)
    assert rules_of(named.stdout) == ["CAP101"]


def test_stdin_honours_per_path_ignores_and_excludes_of_the_config(tmp_path: Path) -> None:
    cwd = project(tmp_path, {".caplint.toml": 'per-path-ignores = { "ci/**" = ["CAP101"] }\nexclude = ["vendor/**"]\n'})
    sub = cwd / "ci"
    sub.mkdir()
    # An editor runs caplint from anywhere with an absolute path; the config is found from that path.
    absolute = str(sub / "compose.yml")
    ignored = caplint(Path("/"), "check", "-f", "gnu", "--stdin-filename", absolute, "-", stdin=PRIVILEGED)
    assert (ignored.returncode, ignored.stdout) == (0, "")
    other = caplint(cwd, "check", "-f", "gnu", "--stdin-filename", "app/compose.yml", "-", stdin=PRIVILEGED)
    assert rules_of(other.stdout) == ["CAP101"]
    vendored = caplint(cwd, "check", "--stdin-filename", "vendor/x/compose.yml", "-", stdin=PRIVILEGED)
    assert (vendored.returncode, vendored.stdout) == (0, "No findings in 0 files.\n")


def test_stdin_cannot_mix_with_paths(tmp_path: Path) -> None:
    run = caplint(project(tmp_path, {"compose.yml": CLEAN}), "check", "-", "compose.yml", stdin="")
    assert run.returncode == 2 and "cannot be combined" in run.stderr


def test_binary_stdin_is_a_finding(tmp_path: Path) -> None:
    run = caplint(tmp_path, "check", "-f", "gnu", "--stdin-filename", "Dockerfile", "-", stdin="FROM x\0y\n")
    assert run.returncode == 1 and rules_of(run.stdout) == ["CAP001"]


# --- conventions ----------------------------------------------------------------


def test_version() -> None:
    from caplint import __version__

    run = run_caplint("--version")
    assert (run.returncode, run.stdout) == (0, f"caplint {__version__}\n")


@pytest.mark.parametrize("env", [{}, {"FORCE_COLOR": "1", "COLUMNS": "200", "TERM": "xterm-256color"}])
def test_help_shows_defaults_and_choices(tmp_path: Path, env: dict[str, str]) -> None:
    text = re.sub(r"\x1b\[[0-9;]*m", "", caplint(tmp_path, "check", "-h", **env).stdout)
    text = " ".join(text.split())  # the help is wrapped to the terminal's width
    assert "text|json|sarif|gnu|github" in text
    assert "low|medium|high|critical" in text
    assert "[default: text; github under GitHub Actions when stdout is not a terminal]" in text
    assert "[default: the config's fail-on, else medium]" in text
    assert "[default: 5 MiB]" in text
    assert "[default: on a terminal, unless NO_COLOR is set or with --output]" in text


def test_help_choices_are_the_real_ones() -> None:
    from typing import get_args

    from caplint.cli import FormatChoice, SeverityChoice
    from caplint.model import Severity
    from caplint.report import FORMATS

    assert get_args(FormatChoice) == FORMATS
    assert get_args(SeverityChoice) == tuple(s.label for s in sorted(Severity))


def test_caps_follows_the_conventions_of_check(tmp_path: Path) -> None:
    missing = caplint(tmp_path, "caps", "nonexist")
    assert (missing.returncode, missing.stderr) == (2, "caplint: error: no such file or directory: nonexist\n")
    text = "services:\n  vpn:\n    image: wireguard\n    cap_drop: [ALL]\n    cap_add: [NET_ADMIN]\n"
    run = caplint(tmp_path, "caps", "--stdin-filename", "deploy/compose.yml", "-", stdin=text)
    assert run.returncode == 0
    assert run.stdout.splitlines()[:3] == ["deploy/compose.yml:2: service 'vpn' (docker)", "  1 of 41 capabilities",
                                           "    NET_ADMIN            elevated  added (deploy/compose.yml:5)"]
    assert not (tmp_path / "-").exists()
    mixed = caplint(tmp_path, "caps", "-", "x", stdin="")
    assert mixed.returncode == 2 and "cannot be combined" in mixed.stderr


# --- other commands -------------------------------------------------------------


def test_rules_lists_every_rule() -> None:
    run = run_caplint("rules")
    lines = run.stdout.splitlines()
    assert run.returncode == 0
    assert lines[0].split()[:3] == ["CAP001", "high", "parse-error"]
    assert any(line.split()[:3] == ["CAP202", "critical", "critical-capability"] for line in lines)
    assert any(line.split()[:3] == ["CAP002", "low", "unused-suppression"] for line in lines)


def test_explain_prints_the_rule_page() -> None:
    run = run_caplint("explain", "cap202")
    assert run.returncode == 0
    assert run.stdout.startswith("# CAP202: critical-capability\n")
    assert "## Why is this bad?" in run.stdout


def test_explain_unknown_rule_exits_2() -> None:
    run = run_caplint("explain", "BOGUS")
    assert (run.returncode, run.stderr) == (2, "caplint: error: unknown rule 'BOGUS' (see 'caplint rules')\n")


def test_lsp_without_the_server_module_is_a_clear_error(tmp_path: Path) -> None:
    # Simulate an installation without caplint.lsp: a finder that refuses to import it.
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'caplint.lsp':\n"
        "            raise ImportError('No module named caplint.lsp')\n"
        "sys.meta_path.insert(0, Block())\n"
        "sys.argv = ['caplint', 'lsp']\n"
        "from caplint.cli import main\n"
        "main()\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert run.returncode == 2
    assert run.stderr == ("caplint: error: the language server is not available in this installation "
                          "(No module named caplint.lsp)\n")


def test_a_text_run_imports_nothing_heavy(tmp_path: Path) -> None:
    cwd = project(tmp_path, {"compose.yml": PRIVILEGED})
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "caplint", "check", "compose.yml"],
                         capture_output=True, text=True, cwd=cwd, timeout=60)
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    heavy = {"sarif_om", "pygls", "lsprotocol", "tree_sitter", "rich", "jsonschema", "caplint.lsp"}
    assert imported & heavy == set()
    assert "ruamel.yaml" in imported


def test_module_and_console_script_agree() -> None:
    script = Path(sys.executable).parent / "caplint"
    assert script.exists(), "pip install -e '.[test]' installs the console script"
    via_script = subprocess.run([str(script), "rules"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert via_script.stdout == run_caplint("rules").stdout
