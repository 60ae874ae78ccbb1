"""caplint.values: the value classes' generated methods, and the frozen promise kept by mypy."""
from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import field
from pathlib import Path

import pytest

from caplint import values
from caplint.model import Finding, Located, Severity, Span
from caplint.values import value


@value
class Point:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)


def test_init_defaults_and_factories() -> None:
    p = Point(1)
    assert (p.x, p.y, p.tags) == (1, 0, [])
    assert Point(1).tags is not Point(1).tags  # a fresh list each time
    assert Point(1, 2, ["a"]).tags == ["a"] and Point(x=3, y=4).y == 4
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_eq_hash_repr_like_a_dataclass() -> None:
    span = Span("a", 1, 2, 1, 5)
    assert span == Span("a", 1, 2, 1, 5) and span != Span("a", 1, 2, 1, 6)
    assert hash(span) == hash(Span("a", 1, 2, 1, 5)) and len({span, Span("a", 1, 2, 1, 5)}) == 1
    assert span != ("a", 1, 2, 1, 5)  # another class is never equal
    assert repr(Located("x", span, "X")) == ("Located(value='x', span=Span(path='a', line=1, column=2, end_line=1, "
                                             "end_column=5, member=None), raw='X', resolved=True)")
    assert values.fields(Span) == ("path", "line", "column", "end_line", "end_column", "member")


def test_replace_and_pickle() -> None:
    f = Finding("CAP101", "privileged-container", Severity.CRITICAL, Span.point("a", 1), "m", None, "x")
    g = values.replace(f, fingerprint="abc")
    assert g.fingerprint == "abc" and g.rule_id == f.rule_id and f.fingerprint != "abc"
    assert pickle.loads(pickle.dumps(g)) == g  # settings and findings cross process boundaries
    with pytest.raises(TypeError, match="no field nope"):
        values.replace(f, nope=1)


def test_a_field_without_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="without a default"):
        @value
        class Bad:
            a: int = 0
            b: int  # type: ignore[misc]


def test_mypy_keeps_values_frozen(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text("from caplint.model import Span\ns = Span.point('a', 1)\ns.line = 2\n")
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(snippet)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and 'Property "line" defined in "Span" is read-only' in out.stdout


def test_record_fields_may_be_assigned_and_it_is_unhashable() -> None:
    from caplint.model import ParseResult

    result = ParseResult()
    assert (result.containers, result.problems) == ([], []) and result.images is not ParseResult().images
    result.problems = [Span.point("a", 1)]  # type: ignore[list-item]
    assert result == ParseResult(problems=[Span.point("a", 1)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="unhashable"):
        hash(result)


def test_own_field_and_dataclasses_field_are_both_accepted() -> None:
    @value
    class Both:
        a: list[int] = values.field(default_factory=list)
        b: list[int] = field(default_factory=lambda: [1])
        c: int = field(default=3)

    assert (Both().a, Both().b, Both().c) == ([], [1], 3) and Both().a is not Both().a
