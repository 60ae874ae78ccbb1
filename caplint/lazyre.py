"""Regular expressions compiled when first used, not when their module loads.

caplint's modules hold some sixty patterns as constants; compiling them all
was a sixth of a one-file run's own cost (bench/README.md), although a run
uses only those of the formats and rules it meets. `compile` takes the same
arguments as `re.compile` and returns a stand-in that compiles on the first
attribute read (`.match`, `.sub`, `.pattern`, …) and then keeps each bound
method as a plain attribute, so later calls cost what a real pattern's do.
Pass `.compiled` where a real `re.Pattern` is required (another `re` call).

Compiling is also done once per interpreter, not once per run: `re.compile`
parses a pattern and translates it into a program for the regular
expression engine (`_sre`), in Python, which costs 0.1–1 ms a pattern; a
one-file Dockerfile run meets some twenty. The programs are kept in a cache
file (caplint.cache) and later runs hand them to the engine directly. That
uses CPython's internal `re._parser`, `re._compiler` and `_sre.compile`, so
it is guarded: the cache is per Python version and engine (`_sre.MAGIC`), a
program is only stored once the pattern built from it agrees with
`re.compile`'s (flags, groups, group names), and where anything is missing or
different (another Python) patterns are simply compiled as usual.
"""
from __future__ import annotations

import re
from typing import Any, AnyStr, Union, cast

from caplint.cache import Store

try:
    import _sre  # type: ignore[import-not-found,unused-ignore]
    from re import _compiler, _parser  # type: ignore[attr-defined,unused-ignore]

    _PROGRAMS: Store | None = Store("patterns", f"1 sre-{_sre.MAGIC}")
except (ImportError, AttributeError):  # not CPython ≥ 3.11
    _PROGRAMS = None

Program = tuple[int, list[int], int, dict[str, int], tuple[Union[str, None], ...]]


def compiled(pattern: AnyStr, flags: Union[int, re.RegexFlag] = 0) -> re.Pattern[AnyStr]:
    """`re.compile(pattern, flags)`, from the cached program when there is one."""
    if _PROGRAMS is None:
        return re.compile(pattern, flags)
    flags = int(flags)  # a plain int, which marshal can keep
    key = (pattern, flags)
    program = _PROGRAMS.get(key)
    if program is not None:
        try:
            return cast("re.Pattern[AnyStr]", _sre.compile(pattern, *program))
        except Exception:  # not a program this engine takes: compile it
            pass
    built = re.compile(pattern, flags)
    try:
        program = _program(pattern, flags)
        again = _sre.compile(pattern, *program)
    except Exception:
        return built
    if (again.flags, again.groups, again.groupindex) == (built.flags, built.groups, built.groupindex):
        _PROGRAMS.put(key, program)
    return built


def _program(pattern: str | bytes, flags: int) -> Program:
    """What `re.compile` gives the engine for this pattern: final flags, code,
    the number of groups less one, group names to numbers and back."""
    parsed = _parser.parse(pattern, flags)
    code = [int(op) for op in _compiler._code(parsed, flags)]  # opcodes are int subclasses, which marshal refuses
    names = dict(parsed.state.groupdict)
    by_number: list[str | None] = [None] * parsed.state.groups
    for name, number in names.items():
        by_number[number] = name
    return flags | parsed.state.flags, code, parsed.state.groups - 1, names, tuple(by_number)


class _Lazy:
    def __init__(self, pattern: str | bytes, flags: int) -> None:
        self._args: tuple[Any, int] = (pattern, flags)  # str or bytes, as given

    @property
    def compiled(self) -> re.Pattern[Any]:
        return compiled(*self._args)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and friends ask for protocols a pattern does not have
            raise AttributeError(name)
        found = getattr(compiled(*self._args), name)
        setattr(self, name, found)
        return found

    def __reduce__(self) -> tuple[Any, tuple[str | bytes, int]]:
        return _Lazy, self._args

    def __repr__(self) -> str:
        return f"lazyre.compile({self._args[0]!r}, {self._args[1]!r})"


def compile(pattern: AnyStr, flags: Union[int, re.RegexFlag] = 0) -> re.Pattern[AnyStr]:
    """`re.compile(pattern, flags)`, done on first use."""
    return cast("re.Pattern[AnyStr]", _Lazy(pattern, int(flags)))
