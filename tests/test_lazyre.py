"""caplint.lazyre: patterns compiled on first use, from a program cached by an earlier run."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from caplint import lazyre

# Patterns of the shapes caplint uses: named groups, backreferences, look-arounds,
# flags inline and given, bytes, Unicode classes.
PATTERNS: list[tuple[str | bytes, int]] = [
    (r"(?:#|//|/\*)\s*caplint\s*:\s*(?P<directive>[\w-]*)(?:\[(?P<codes>[^\]]*)\])?", 0),
    (r"^(\d*)<<(-?)(['\"]?)([^\s<>|&;()'\"]+)\3", 0),
    (r"(?:.*/)?(?:(docker-)?compose([.-][^/]*)?\.ya?ml)", re.IGNORECASE | re.DOTALL),
    (r"cgr\.dev/chainguard/[^:]+(:(?![^:]*-dev$)[^:]+)?", 0),
    (r"(?i)^[a-z]+(?=\d)", 0),
    (rb"^#![ \t]*(/usr)?(/local)?/bin/(env[ \t]+(-S[ \t]+)?)?(ba|da|k|z|a)?sh\b", 0),
    ("[\x01-\x08\x0e-\x1f\ufffd]", 0),
    (r"^[ \t\-?:]{200,}", re.MULTILINE),
]
SAMPLES = ["# caplint: ignore[CAP101]", "cat <<-'EOF'", "a/B/Docker-Compose.prod.YML", "cgr.dev/chainguard/go:latest-dev",
           "cgr.dev/chainguard/go:1.22", "abc1", "x\x02y", " " * 201 + "a", "#!/usr/bin/env -S bash", ""]

_PROBE = """
import json, sys
from re import _compiler
calls = []
real = _compiler.compile
_compiler.compile = lambda *a, **k: (calls.append(a[0]), real(*a, **k))[1]
from caplint import lazyre
out = []
for pattern, flags in json.loads(sys.argv[1]):
    if pattern.startswith("b:"):
        p = lazyre.compiled(pattern[2:].encode(), flags)
        found = (p.search(s.encode("latin-1")) for s in json.loads(sys.argv[2]))
        out.append([[m.span(), [g and g.decode("latin-1") for g in m.groups()]] if m else None for m in found])
    else:
        p = lazyre.compiled(pattern, flags)
        out.append([[m.span(), m.groups(), m.groupdict()] if m else None for m in (p.search(s) for s in json.loads(sys.argv[2]))])
print(json.dumps({"compiled": len(calls), "results": out}))
"""


def _run(cache: Path, **env: str) -> dict[str, object]:
    patterns = [[f"b:{p.decode()}" if isinstance(p, bytes) else p, f] for p, f in PATTERNS]
    environ = {k: v for k, v in os.environ.items() if k != "CAPLINT_NO_CACHE"}
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(patterns), json.dumps(SAMPLES)], capture_output=True,
                         text=True, timeout=60, env={**environ, "XDG_CACHE_HOME": str(cache), **env})
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_a_later_run_builds_patterns_from_their_cached_programs(tmp_path: Path) -> None:
    first, second = _run(tmp_path), _run(tmp_path)
    assert first["compiled"] == len(PATTERNS) and second["compiled"] == 0
    assert second["results"] == first["results"]  # the same matches, groups and spans
    reference = [[[list(m.span()), list(m.groups()), m.groupdict()] if m else None
                  for m in (re.compile(p, f).search(s) for s in SAMPLES)] for p, f in PATTERNS if isinstance(p, str)]
    assert [r for (p, _), r in zip(PATTERNS, first["results"]) if isinstance(p, str)] == reference  # type: ignore[call-overload]


def test_a_broken_cache_means_compiling_again(tmp_path: Path) -> None:
    first = _run(tmp_path)
    (cached,) = (tmp_path / "caplint").glob("patterns-*.marshal")
    header, _, body = cached.read_bytes().partition(b"\n")
    for broken in (header + b"\n" + body[: len(body) // 2], b"another python\n" + body, b""):
        cached.write_bytes(broken)
        assert _run(tmp_path) == first
    assert _run(tmp_path)["compiled"] == 0  # written whole again
    off = _run(tmp_path / "off", CAPLINT_NO_CACHE="1")
    assert off["compiled"] == len(PATTERNS) and not (tmp_path / "off").exists()


def test_a_program_the_engine_refuses_is_compiled_instead() -> None:
    store = lazyre._PROGRAMS
    assert store is not None
    key = ("x(y)z", 0)
    store.put(key, (0, [1, 2, 3], 0, {}, (None,)))  # not a valid program
    assert lazyre.compiled("x(y)z").search("axyzb").group(1) == "y"  # type: ignore[union-attr]
    assert store.get(key)[1] != [1, 2, 3]  # and the right program replaces it


def test_lazy_patterns_compile_on_first_use() -> None:
    pattern = lazyre.compile(r"(?P<n>\d+)")
    assert "match" not in vars(pattern)
    assert pattern.match("42x").group("n") == "42"  # type: ignore[union-attr]
    assert "match" in vars(pattern) and pattern.compiled.pattern == r"(?P<n>\d+)"
