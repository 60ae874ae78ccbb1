"""Finds every rule through the `caplint.rules` entry-point group.

Built-in rules are registered exactly like third-party ones, so there is one
loading path and plugins are first-class. Each rule is validated on load.

Scanning the installed distributions costs ~35 ms (importing
`importlib.metadata` alone is ~28 ms; 60 ms more with 1,000 packages) on a
run that should take 100 ms, so the scan's answer is cached: see `_cache_*`.
"""
from __future__ import annotations

import os
import re
import sys
from functools import lru_cache

from caplint.rules import Rule

GROUP = "caplint.rules"
_ID = re.compile(r"^[A-Z][A-Z0-9]*[0-9]{3}$")
REQUIRED_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")

Entry = tuple[str, str]  # (rule id, "module:attribute")


class RuleLoadError(Exception):
    """A plugin that is not a valid rule; the CLI reports it and exits 2."""


def validate(rule: object, entry_name: str) -> Rule:
    if not isinstance(rule, Rule):
        raise RuleLoadError(f"entry point {entry_name!r} in {GROUP!r} is not a caplint Rule")
    if not _ID.match(rule.id):
        raise RuleLoadError(f"rule id {rule.id!r} does not look like PREFIX123")
    if rule.id != entry_name:
        raise RuleLoadError(f"entry point {entry_name!r} names rule {rule.id!r}; the name must be the id")
    missing = [s for s in REQUIRED_SECTIONS if not rule.section(s)]
    if missing:
        raise RuleLoadError(f"rule {rule.id} has no documentation for: {', '.join(missing)}")
    return rule


def _load(value: str) -> object:
    import importlib

    module, _, attr = value.partition(":")
    obj: object = importlib.import_module(module.strip())
    for part in attr.strip().split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


def _scan() -> list[Entry]:
    from importlib.metadata import entry_points

    return [(ep.name, ep.value) for ep in entry_points(group=GROUP)]


def _build(entries: list[Entry]) -> tuple[Rule, ...]:
    found: dict[str, Rule] = {}
    for name, value in entries:
        rule = validate(_load(value), name)
        # The same distribution can be seen twice on sys.path (an editable
        # install beside a regular one); only a different rule is a clash.
        if name in found and found[name] is not rule:
            raise RuleLoadError(f"two rules claim the id {name}")
        found[name] = rule
    return tuple(found[k] for k in sorted(found))


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    """Every installed rule, sorted by id."""
    entries = _cache_read()
    if entries is not None:
        try:
            return _build(entries)
        except (ImportError, AttributeError, RuleLoadError):
            pass  # the cache is stale in a way its key missed: scan afresh
    entries = _scan()
    rules = _build(entries)
    _cache_write(entries)
    return rules


def by_id() -> dict[str, Rule]:
    return {r.id: r for r in all_rules()}


# The cache: one small JSON file per interpreter and sys.path, valid while no
# sys.path folder changed. Installing or removing a distribution adds or
# removes a `*.dist-info` folder in site-packages, which changes that folder's
# modification time; a new `.pth` file changes sys.path itself. Any error
# reading or writing it just means a scan. CAPLINT_NO_CACHE=1 turns it off.


def _cache_path() -> str | None:
    if os.environ.get("CAPLINT_NO_CACHE"):
        return None
    import hashlib

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    digest = hashlib.sha1("\0".join([sys.executable, *sys.path]).encode()).hexdigest()[:16]
    return os.path.join(base, "caplint", f"rules-{digest}.json")


def _cache_key() -> list[list[object]]:
    key: list[list[object]] = []
    for folder in sys.path:
        try:
            key.append([folder, os.stat(folder or ".").st_mtime_ns])
        except OSError:
            key.append([folder, None])
    return key


def _cache_read() -> list[Entry] | None:
    path = _cache_path()
    if path is None:
        return None
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if data.get("key") != _cache_key():
            return None
        return [(str(name), str(value)) for name, value in data["rules"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _cache_write(entries: list[Entry]) -> None:
    path = _cache_path()
    if path is None:
        return
    import json
    import tempfile

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"key": _cache_key(), "rules": sorted(entries)}, fh)
        os.replace(tmp, path)  # atomic: a concurrent run reads the old or the new file
    except OSError:
        pass
