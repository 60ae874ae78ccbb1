"""`caplint check --fix / --unsafe-fixes / --diff` from the outside, and every
way writing a fixed file can go wrong: each file on its own, never half-written."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from caplint import engine
from caplint.discover import Found
from caplint.fixing import command, run
from caplint.model import Fix, Span
from conftest import run_caplint

MISSPELT = "services:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n    cap_add: [NET_BIND_SERVCE]  # ports\n"
FIXED_SAFE = MISSPELT.replace("NET_BIND_SERVCE", "NET_BIND_SERVICE")
FIXED_UNSAFE = ("services:\n  web:\n    image: nginx:1.27\n    cap_drop: [ALL]\n    cap_add: []  # ports\n"
                "    security_opt: [\"no-new-privileges:true\"]\n")


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "compose.yaml").write_text(MISSPELT)
    (tmp_path / "run.sh").write_text("#!/bin/sh\ndocker run --rm --cap-drop=ALL alpine:3.20 true\n")
    return tmp_path


def test_fix_applies_safe_fixes_and_reports_what_remains(project: Path) -> None:
    os.chmod(project / "compose.yaml", 0o640)
    run_ = run_caplint("check", "--fix", ".", cwd=project)
    assert (project / "compose.yaml").read_text() == FIXED_SAFE
    assert stat.S_IMODE(os.stat(project / "compose.yaml").st_mode) == 0o640
    assert "caplint: 1 fix applied in 1 file; 3 more available with --unsafe-fixes." in run_.stderr
    # What remains is low (CAP208, CAP304 ×2): below the default fail-on.
    assert run_.returncode == 0, run_.stdout + run_.stderr
    assert "3 findings (3 low) in 2 files." in run_.stdout
    assert [p.name for p in project.iterdir()] == [p.name for p in project.iterdir() if not p.name.endswith(".caplint")]
    again = run_caplint("check", "--fix", ".", cwd=project)
    assert "caplint: 0 fixes applied; 3 more available with --unsafe-fixes." in again.stderr
    assert (project / "compose.yaml").read_text() == FIXED_SAFE


def test_unsafe_fixes_and_the_exit_code_of_what_remains(project: Path) -> None:
    run_ = run_caplint("check", "--fix", "--unsafe-fixes", "--fail-on", "low", ".", cwd=project)
    assert (project / "compose.yaml").read_text() == FIXED_UNSAFE
    assert (project / "run.sh").read_text() == ("#!/bin/sh\ndocker run --security-opt=no-new-privileges --rm "
                                                "--cap-drop=ALL alpine:3.20 true\n")
    assert "caplint: 4 fixes applied in 2 files." in run_.stderr
    assert run_.returncode == 0 and "No findings in 2 files." in run_.stdout


def test_diff_prints_and_writes_nothing(project: Path) -> None:
    run_ = run_caplint("check", "--diff", "compose.yaml", cwd=project)
    assert run_.stdout == ("--- a/compose.yaml\n+++ b/compose.yaml\n@@ -2,4 +2,4 @@\n"
                           "   web:\n     image: nginx:1.27\n     cap_drop: [ALL]\n"
                           "-    cap_add: [NET_BIND_SERVCE]  # ports\n+    cap_add: [NET_BIND_SERVICE]  # ports\n")
    assert run_.returncode == 1
    assert "caplint: 1 fix would be applied in 1 file; 2 more available with --unsafe-fixes." in run_.stderr
    assert (project / "compose.yaml").read_text() == MISSPELT
    (project / "compose.yaml").write_text(FIXED_UNSAFE)
    clean = run_caplint("check", "--diff", "--unsafe-fixes", "compose.yaml", cwd=project)
    assert (clean.returncode, clean.stdout) == (0, "")


def test_diff_marks_a_missing_final_newline(project: Path) -> None:
    (project / "compose.yaml").write_text(MISSPELT.rstrip("\n"))
    run_ = run_caplint("check", "--diff", "compose.yaml", cwd=project)
    assert run_.stdout.endswith("+    cap_add: [NET_BIND_SERVICE]  # ports\n\\ No newline at end of file\n")


def test_stdin_fix_prints_the_fixed_text(project: Path) -> None:
    run_ = run_caplint("check", "--fix", "--stdin-filename", "compose.yaml", "-", stdin=MISSPELT.encode(), cwd=project)
    assert run_.stdout == FIXED_SAFE
    assert "CAP304" in run_.stderr and "1 fix applied in 1 file" in run_.stderr
    as_diff = run_caplint("check", "--diff", "--unsafe-fixes", "--stdin-filename", "compose.yaml", "-",
                          stdin=MISSPELT.encode(), cwd=project)
    assert as_diff.returncode == 1 and "+    security_opt: [\"no-new-privileges:true\"]\n" in as_diff.stdout


def test_unsafe_fixes_alone_is_said_to_do_nothing(project: Path) -> None:
    run_ = run_caplint("check", "--unsafe-fixes", "compose.yaml", cwd=project)
    assert "--unsafe-fixes has no effect without --fix or --diff" in run_.stderr
    assert (project / "compose.yaml").read_text() == MISSPELT


def test_a_read_only_file_is_an_error_and_the_others_are_fixed(project: Path) -> None:
    (project / "other").mkdir()
    (project / "other" / "compose.yaml").write_text(MISSPELT)
    os.chmod(project / "compose.yaml", 0o444)
    run_ = run_caplint("check", "--fix", ".", cwd=project)
    assert "caplint: compose.yaml: it is read-only; not fixed" in run_.stderr
    assert (project / "compose.yaml").read_text() == MISSPELT
    assert (project / "other" / "compose.yaml").read_text() == FIXED_SAFE
    assert "1 fix applied in 1 file" in run_.stderr
    assert run_.returncode == 1  # the unfixed typo (high) remains


def test_a_read_only_folder_is_an_error_and_the_others_are_fixed(project: Path) -> None:
    locked = project / "locked"
    locked.mkdir()
    (locked / "compose.yaml").write_text(MISSPELT)
    os.chmod(locked, 0o555)
    try:
        run_ = run_caplint("check", "--fix", ".", cwd=project)
    finally:
        os.chmod(locked, 0o755)
    assert "caplint: locked/compose.yaml: its folder" in run_.stderr and "is read-only" in run_.stderr
    assert (locked / "compose.yaml").read_text() == MISSPELT
    assert (project / "compose.yaml").read_text() == FIXED_SAFE
    assert sorted(p.name for p in locked.iterdir()) == ["compose.yaml"]


def test_a_symlink_stays_a_link(project: Path) -> None:
    (project / "real.yaml").write_text(MISSPELT)
    (project / "compose.yaml").unlink()
    (project / "compose.yaml").symlink_to("real.yaml")
    run_caplint("check", "--fix", "compose.yaml", cwd=project)
    assert (project / "compose.yaml").is_symlink()
    assert (project / "real.yaml").read_text() == FIXED_SAFE


def test_a_file_changed_on_disk_meanwhile_is_not_overwritten(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = project / "compose.yaml"
    lint_text = engine.lint_text

    def lint_and_edit(*args: object, **kwargs: object) -> object:
        path.write_text(MISSPELT + "# edited meanwhile\n")  # someone saves while caplint works
        return lint_text(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "lint_text", lint_and_edit)
    outcome = run.fix_file(str(path), "compose", engine.Settings(), False, write=True)
    assert outcome.error == "it changed on disk since caplint read it; not overwritten (run caplint again)"
    assert path.read_text() == MISSPELT + "# edited meanwhile\n"
    assert not outcome.changed


def test_an_edit_that_breaks_the_file_is_dropped_and_said(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = project / "compose.yaml"
    from caplint.fixing.compose import ComposeFile

    def spell_badly(self: ComposeFile, c: object, remedy: object) -> tuple[Fix, str]:
        return Fix(Span(self.path, 2, 1, 2, 1), "  [unclosed\n", "break it", True), ""

    monkeypatch.setattr(ComposeFile, "spell", spell_badly)
    result = command.fix_found([Found(str(path), "compose")], lambda _p: engine.Settings(), jobs=1, unsafe=True,
                               write=True)
    assert path.read_text() != MISSPELT  # the typo is still fixed; only the broken edit is dropped
    assert "[unclosed" not in path.read_text()
    notes = result.notes(str(project))
    assert any("not fixed: the edit would make the file fail to parse" in n for n in notes), notes


def test_an_edit_that_adds_a_finding_is_dropped(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = project / "compose.yaml"
    from caplint.fixing.compose import ComposeFile

    def spell_worse(self: ComposeFile, c: object, remedy: object) -> tuple[Fix, str]:
        return Fix(Span(self.path, 3, 1, 3, 1), "    privileged: true\n", "make it worse", False), ""

    monkeypatch.setattr(ComposeFile, "spell", spell_worse)
    outcome = run.fix_file(str(path), "compose", engine.Settings(), True, write=True)
    assert {why for _, why in outcome.dropped} == {
        "the edit would add a finding (CAP101: service 'web' runs privileged (true): all capabilities and host "
        "devices, no confinement)"}
    assert "privileged" not in path.read_text()
