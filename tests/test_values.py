"""caplint.values: the value classes' generated methods, and the frozen promise kept by mypy."""
from __future__ import annotations

import os
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


# What a run compiles of the value classes' `__init__`s, and whether they work:
# the probe makes one of each model class a Compose run meets and counts the
# compiles of generated code (filenames `<value …>`).
_COMPILES = """
import builtins, sys
seen = []
real = builtins.compile
def counting(source, filename, *args, **kwargs):
    if str(filename).startswith("<value "):
        seen.append(filename)
    return real(source, filename, *args, **kwargs)
builtins.compile = counting
from caplint.model import Located, Span, Finding, Severity
span = Span.point("f.yml", 3, 2)
located = Located("NET_ADMIN", span, "net_admin")
assert (located.value, located.span.line, located.raw) == ("NET_ADMIN", 3, "net_admin"), located
print(len(seen))
"""


def _compiles(cache: Path, **env: str) -> int:
    environ = {k: v for k, v in os.environ.items() if k != "CAPLINT_NO_CACHE"}
    out = subprocess.run([sys.executable, "-c", _COMPILES], capture_output=True, text=True, check=True, timeout=60,
                         env={**environ, "XDG_CACHE_HOME": str(cache), **env})
    return int(out.stdout)


def test_generated_inits_are_compiled_once_per_interpreter(tmp_path: Path) -> None:
    assert _compiles(tmp_path) == 2  # Span's and Located's
    (cached,) = (tmp_path / "caplint").glob("value-inits-*.marshal")
    assert _compiles(tmp_path) == 0  # the next run loads them
    cached.write_bytes(cached.read_bytes()[:-7])  # cut short: compiled again, and written whole
    assert _compiles(tmp_path) == 2
    assert _compiles(tmp_path) == 0
    cached.write_bytes(b"caplint-value-inits 1 another python\n" + cached.read_bytes().split(b"\n", 1)[1])
    assert _compiles(tmp_path) == 2  # another interpreter's code is not run
    assert _compiles(tmp_path / "off", CAPLINT_NO_CACHE="1") == 2
    assert not (tmp_path / "off").exists()
