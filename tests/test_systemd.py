"""systemd units and Quadlet: positions through continuations, systemd's words, drop-in order."""
from __future__ import annotations

from pathlib import Path

import pytest

from caplint.engine import lint_text
from caplint.formats.systemd import ini, quadlet
from caplint.formats.systemd.words import SyntaxProblem, split


def _value(text: str, *, q: bool = False) -> ini.Value:
    unit = ini.read(f"[Service]\n{text}\n", "u.service", quadlet=q)
    return unit.entries[0].value


def test_continued_value_keeps_each_piece_position() -> None:
    value = _value("ExecStart=/usr/bin/docker run \\\n    --cap-add=SYS_ADMIN \\\n  # note\n  alpine")
    words = split(value)
    assert [w.value for w in words] == ["/usr/bin/docker", "run", "--cap-add=SYS_ADMIN", "alpine"]
    assert (words[2].span.line, words[2].span.column, words[2].span.end_column) == (3, 5, 24)
    assert (words[3].span.line, words[3].span.column) == (5, 3)


def test_quadlet_joins_continuations_without_a_space() -> None:
    assert _value("PodmanArgs=--cap-add=\\\nSYS_ADMIN", q=True).text == "--cap-add=SYS_ADMIN"
    assert _value("ExecStart=a\\\nb").text == "a b"


@pytest.mark.parametrize(("text", "words"), [
    ('a "b c" d', ["a", "b c", "d"]),
    ("--label='x y'", ["--label=x y"]),
    (r"a\x41 \"q\" \s", ["aA", '"q"', " "]),
    ("echo $$HOME 100%%", ["echo", "$HOME", "100%"]),
])
def test_systemd_words(text: str, words: list[str]) -> None:
    assert [w.value for w in split(_value("ExecStart=" + text))] == words


def test_specifiers_and_variables_are_unknown() -> None:
    words = split(_value("ExecStart=docker run --name %n -v ${DATA}:/d $$X x"))
    assert [w.resolved for w in words] == [True, True, True, False, True, False, True, True]


def test_unterminated_quote_is_refused_unless_relaxed() -> None:
    with pytest.raises(SyntaxProblem):
        split(_value('ExecStart=docker run "x'))
    assert [w.value for w in split(_value('PodmanArgs=--x "y', q=True), relax=True)] == ["--x", "y"]


def test_quadlet_refuses_assignment_before_any_section() -> None:
    unit = ini.read("Image=alpine\n[Container]\n", "a.container", quadlet=True)
    assert unit.problems and "outside any section" in unit.problems[0].message
    assert not ini.read("Image=alpine\n[Service]\n", "a.service").problems  # systemd only warns


def test_drop_ins_merge_in_name_order_more_specific_folder_wins(tmp_path: Path) -> None:
    unit = tmp_path / "web-app.container"
    unit.write_text("[Container]\nImage=x\n")
    for folder, name, body in [("container.d", "10-a.conf", "A"), ("web-.container.d", "10-a.conf", "B"),
                               ("web-app.container.d", "05-c.conf", "C"), ("container.d", "20-z.conf", "Z")]:
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_text(f"[Container]\nLabel={body}\n")
    got = [Path(p).relative_to(tmp_path).as_posix() for p in quadlet.drop_ins(str(unit))]
    assert got == ["web-app.container.d/05-c.conf", "web-.container.d/10-a.conf", "container.d/20-z.conf"]


def test_drop_in_finding_points_into_the_drop_in(tmp_path: Path) -> None:
    unit = tmp_path / "db.container"
    unit.write_text("[Container]\nImage=postgres\nDropCapability=all\nNoNewPrivileges=true\n")
    (tmp_path / "db.container.d").mkdir()
    conf = tmp_path / "db.container.d" / "priv.conf"
    conf.write_text("[Container]\nPodmanArgs=--privileged\n")
    [finding] = lint_text(str(unit), unit.read_text())
    assert (finding.rule_id, finding.span.path, finding.span.line, finding.span.column) == ("CAP101", str(conf), 2, 12)
    assert finding.line_text == "PodmanArgs=--privileged"


def _db_with_drop_in(tmp_path: Path, drop_in: str) -> tuple[Path, Path]:
    unit = tmp_path / "db.container"
    unit.write_text("[Container]\nImage=postgres\nNetwork=host\n")
    (tmp_path / "db.container.d").mkdir()
    conf = tmp_path / "db.container.d" / "priv.conf"
    conf.write_text(drop_in)
    return unit, conf


def test_a_drop_in_linted_alone_reports_what_it_writes(tmp_path: Path) -> None:
    # pre-commit names only the drop-in that changed: it is read with its unit,
    # and only what the drop-in writes is reported (the unit's own CAP306 is not).
    unit, conf = _db_with_drop_in(tmp_path, "[Container]\nPodmanArgs=--privileged\n")
    found = lint_text(str(conf), conf.read_text(), kind="quadlet-drop-in")
    assert [(f.rule_id, f.span.path, f.span.line) for f in found] == [("CAP101", str(conf), 2)]
    assert found[0].container == "quadlet container systemd-db"
    # An editor's unsaved text of the drop-in, not the file on disk.
    edited = lint_text(str(conf), "[Container]\nAddCapability=SYS_ADMIN\n", kind="quadlet-drop-in")
    assert [(f.rule_id, f.span.line) for f in edited] == [("CAP202", 2)]
    # The unit reports both, each where it is written.
    assert {(f.rule_id, f.span.path) for f in lint_text(str(unit), unit.read_text())} >= {
        ("CAP101", str(conf)), ("CAP306", str(unit))}


def test_a_broken_drop_in_is_cap001_where_it_is_broken(tmp_path: Path) -> None:
    unit, conf = _db_with_drop_in(tmp_path, "[Container]\nnot an assignment\n")
    for path, kind in ((unit, "quadlet"), (conf, "quadlet-drop-in")):
        problems = [f for f in lint_text(str(path), path.read_text(), kind=kind) if f.rule_id == "CAP001"]
        assert [(f.span.path, f.span.line) for f in problems] == [(str(conf), 2)], kind


def test_a_drop_in_of_no_unit_is_silent(tmp_path: Path) -> None:
    (tmp_path / "gone.container.d").mkdir()
    conf = tmp_path / "gone.container.d" / "x.conf"
    conf.write_text("[Container]\nPodmanArgs=--privileged\n")
    assert lint_text(str(conf), conf.read_text(), kind="quadlet-drop-in") == []


def test_units_of_is_the_inverse_of_drop_ins(tmp_path: Path) -> None:
    for unit in ("web-app.container", "web-db.container", "cache.container", "pod.pod"):
        (tmp_path / unit).write_text("[Container]\nImage=x\n")
    for folder in ("container.d", "web-.container.d", "web-app.container.d"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "10-a.conf").write_text("[Container]\n")
    def units(folder: str) -> list[str]:
        return [Path(u).name for u in quadlet.units_of(str(tmp_path / folder / "10-a.conf"))]
    # container.d/10-a.conf is shadowed by a more specific 10-a.conf for both web-* units.
    assert units("container.d") == ["cache.container"]
    assert units("web-.container.d") == ["web-db.container"]  # web-app's own 10-a.conf wins there
    assert units("web-app.container.d") == ["web-app.container"]


def test_discovery_lints_a_drop_in_only_when_its_unit_is_not(tmp_path: Path) -> None:
    from caplint.discover import discover

    unit, conf = _db_with_drop_in(tmp_path, "[Container]\nPodmanArgs=--privileged\n")
    assert [(f.path, f.kind) for f in discover([str(conf)])] == [(str(conf), "quadlet-drop-in")]
    assert [f.path for f in discover([str(conf), str(unit)])] == [str(unit)]
    assert [f.path for f in discover([str(tmp_path)])] == [str(unit)]


def test_a_trailing_hash_in_a_unit_is_part_of_the_value() -> None:
    text = "[Service]\nExecStart=/usr/bin/docker run --privileged x # caplint: ignore[CAP101]\n"
    assert "CAP101" in {f.rule_id for f in lint_text("x.service", text)}
    text = "[Service]\n# caplint: ignore[CAP101]\nExecStart=/usr/bin/docker run --privileged x\n"
    assert "CAP101" not in {f.rule_id for f in lint_text("x.service", text)}


def test_sh_c_script_is_shell_at_its_columns() -> None:
    text = '[Service]\nExecStart=/bin/bash -ec "sleep 1; exec docker run --cap-add=SYS_ADMIN \\\n    --pid=host x"\n'
    found = {f.rule_id: (f.span.line, f.span.column) for f in lint_text("x.service", text)}
    assert found["CAP202"] == (2, 61)
    assert found["CAP305"] == (3, 11)
