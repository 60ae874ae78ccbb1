"""Regular expressions compiled when first used, not when their module loads.

caplint's modules hold some sixty patterns as constants; compiling them all
was a sixth of a one-file run's own cost (bench/README.md), although a run
uses only those of the formats and rules it meets. `compile` takes the same
arguments as `re.compile` and returns a stand-in that compiles on the first
attribute read (`.match`, `.sub`, `.pattern`, …) and then keeps each bound
method as a plain attribute, so later calls cost what a real pattern's do.
Pass `.compiled` where a real `re.Pattern` is required (another `re` call).
"""
from __future__ import annotations

import re
from typing import Any, AnyStr, Union, cast


class _Lazy:
    def __init__(self, pattern: str | bytes, flags: int) -> None:
        self._args: tuple[Any, int] = (pattern, flags)  # str or bytes, as given

    @property
    def compiled(self) -> re.Pattern[Any]:
        return re.compile(*self._args)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and friends ask for protocols a pattern does not have
            raise AttributeError(name)
        found = getattr(re.compile(*self._args), name)
        setattr(self, name, found)
        return found

    def __reduce__(self) -> tuple[Any, tuple[str | bytes, int]]:
        return _Lazy, self._args

    def __repr__(self) -> str:
        return f"lazyre.compile({self._args[0]!r}, {self._args[1]!r})"


def compile(pattern: AnyStr, flags: Union[int, re.RegexFlag] = 0) -> re.Pattern[AnyStr]:
    """`re.compile(pattern, flags)`, done on first use."""
    return cast("re.Pattern[AnyStr]", _Lazy(pattern, int(flags)))
