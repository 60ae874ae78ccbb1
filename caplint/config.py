"""`[tool.caplint]` in pyproject.toml, or a `.caplint.toml`.

Each file uses the nearest one above it: the search walks up from the file's
folder and stops at the repository root (the folder holding `.git`), so a file
outside the repository — someone's broken ~/pyproject.toml — is never read. In
one folder `.caplint.toml` wins over pyproject.toml, and a pyproject.toml
without a `[tool.caplint]` table does not count, so a Python project's own
pyproject does not stop the search. Globs in the file are relative to the
file's folder. Files do not merge: the nearest one decides every key.

Every mistake is an error naming the file and the key: a misspelt key that was
silently ignored would leave a rule on (or off) that the author thinks is off (or on).
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from caplint.model import Severity
from caplint.values import field, value

FILENAMES = (".caplint.toml", "pyproject.toml")
KEYS = ("select", "ignore", "severity", "per-path-ignores", "exclude", "fail-on", "max-file-size", "runtime")
RUNTIMES = ("docker", "podman", "nerdctl")


class ConfigError(Exception):
    """A configuration the user must fix; the CLI prints it and exits 2."""


@value
class Config:
    path: str | None = None  # None: no file was found; every value is the default
    root: str | None = None  # the folder globs are relative to
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    per_path_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    exclude: tuple[str, ...] = ()
    fail_on: Severity | None = None
    max_file_size: int | None = None
    keys: frozenset[str] = frozenset()  # the keys the file sets (the others are defaults)
    runtime: str | None = None  # for formats that do not say (Compose): docker, podman, nerdctl


def find(start: str, cache: dict[str, str | None] | None = None) -> str | None:
    """The config file that applies to `start` (a file or folder), or None.

    `cache` maps folders (absolute) to their answer; every folder the walk
    passes is recorded, so a scan asks the file system once per folder.
    """
    here = os.path.abspath(start)
    if not os.path.isdir(here):
        here = os.path.dirname(here)
    cache = {} if cache is None else cache
    passed: list[str] = []
    found: str | None = None
    while True:
        if here in cache:
            found = cache[here]
            break
        passed.append(here)
        found = _config_in(here)
        parent = os.path.dirname(here)
        if found is not None or parent == here or os.path.lexists(os.path.join(here, ".git")):
            break  # the repository root (a .git folder, or a file in a worktree) ends the search
        here = parent
    for folder in passed:
        cache[folder] = found
    return found


def _config_in(folder: str) -> str | None:
    dotfile = os.path.join(folder, ".caplint.toml")
    if os.path.isfile(dotfile):
        return dotfile
    pyproject = os.path.join(folder, "pyproject.toml")
    if os.path.isfile(pyproject) and _mentions_caplint(pyproject):
        return pyproject
    return None


def _mentions_caplint(pyproject: str) -> bool:
    """Whether the pyproject.toml has a `[tool.caplint]` table. Remembered per
    file while it is unchanged (modification time, size, inode): the language
    server looks for the config on every keystroke, and a project whose
    pyproject names caplint elsewhere (a dependency list) was parsed each time."""
    try:
        st = os.stat(pyproject)
    except OSError:
        return False
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    known = _TABLES.get(pyproject)
    if known is not None and known[0] == stamp:
        return known[1]
    # A cheap look first: a pyproject without our table is skipped even if it is broken.
    try:
        with open(pyproject, encoding="utf-8", errors="replace") as fh:
            found = "caplint" in fh.read() and "caplint" in _read_toml(pyproject).get("tool", {})
    except OSError:
        return False
    _TABLES[pyproject] = (stamp, found)  # not on a ConfigError: a broken file is reported each time
    return found


_TABLES: dict[str, tuple[tuple[int, int, int], bool]] = {}


def _read_toml(path: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
            return data
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None


def load(path: str, known_rules: Collection[str]) -> Config:
    """Reads and validates one config file against the installed rule ids."""
    data = _read_toml(path)
    if os.path.basename(path) == "pyproject.toml":
        table, where = data.get("tool", {}).get("caplint", {}), f"{path}: [tool.caplint]"
    else:
        table, where = data, path
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    return _parse(table, where, os.path.dirname(os.path.abspath(path)), path, frozenset(known_rules))


def discover_config(start: str, known_rules: Collection[str], explicit: str | None = None) -> Config:
    """The configuration for a run: `explicit` (--config) if given, else the one found from `start`."""
    if explicit is not None:
        if not os.path.isfile(explicit):
            raise ConfigError(f"{explicit}: no such config file")
        return load(explicit, known_rules)
    path = find(start)
    return load(path, known_rules) if path else Config()


def unknown_code(codes: Iterable[str], known: Iterable[str], *, prefixes: bool = True) -> str | None:
    """The first of `codes` that names no rule (nor, with `prefixes`, a prefix of one)."""
    known = tuple(known)
    for code in sorted(codes):
        ok = any(r.startswith(code) for r in known) if prefixes else code in known
        if not code or not ok:
            return code
    return None


def _parse(table: Mapping[str, Any], where: str, root: str, path: str, known: frozenset[str]) -> Config:
    for key in table:
        if key not in KEYS:
            import difflib  # only a misspelt key needs it

            close = difflib.get_close_matches(key.replace("_", "-"), KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known keys: {', '.join(KEYS)})"
            raise ConfigError(f"{where}: unknown key {key!r}{hint}")

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(f"{where}: key {key!r}: {message}")

    def codes(key: str, value: Any, *, prefixes: bool = True) -> frozenset[str]:
        items = _strings(value, lambda m: fail(key, m))
        out = frozenset(c.strip().upper() for c in items)
        bad = unknown_code(out, known, prefixes=prefixes)
        if bad is not None:
            what = "rule or prefix" if prefixes else "rule id"
            raise fail(key, f"unknown {what} {bad!r} (see 'caplint rules')")
        return out

    def severity(key: str, value: Any) -> Severity:
        if not isinstance(value, str):
            raise fail(key, f"must be a severity name, not {value!r}")
        try:
            return Severity.parse(value)
        except ValueError as err:
            raise fail(key, str(err)) from None

    severities: dict[str, Severity] = {}
    for rule_id, label in _table(table.get("severity", {}), lambda m: fail("severity", m)).items():
        (code,) = codes("severity", [rule_id], prefixes=False)
        severities[code] = severity(f"severity.{rule_id}", label)
    per_path = tuple(
        (glob, codes(f"per-path-ignores.{glob}", ids))
        for glob, ids in _table(table.get("per-path-ignores", {}), lambda m: fail("per-path-ignores", m)).items()
    )
    size = table.get("max-file-size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size <= 0):
        raise fail("max-file-size", f"must be a positive number of bytes, not {size!r}")
    runtime = table.get("runtime")
    if runtime is not None and runtime not in RUNTIMES:
        raise fail("runtime", f"must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    return Config(
        path=path,
        root=root,
        select=codes("select", table["select"]) if "select" in table else None,
        ignore=codes("ignore", table.get("ignore", [])),
        severity=severities,
        per_path_ignores=per_path,
        exclude=tuple(_strings(table.get("exclude", []), lambda m: fail("exclude", m))),
        fail_on=severity("fail-on", table["fail-on"]) if "fail-on" in table else None,
        max_file_size=size,
        keys=frozenset(table),
        runtime=runtime,
    )


def _strings(value: Any, fail: Callable[[str], ConfigError]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(f"must be a list of strings, not {value!r}")
    return value


def _table(value: Any, fail: Callable[[str], ConfigError]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(f"must be a table, not {value!r}")
    return value
