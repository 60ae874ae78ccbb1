"""Finds every rule through the `caplint.rules` entry-point group.

Built-in rules are registered exactly like third-party ones, so there is one
loading path and plugins are first-class. Each rule is validated on load.
"""
from __future__ import annotations

import re
from functools import lru_cache

from caplint.rules import Rule

GROUP = "caplint.rules"
_ID = re.compile(r"^[A-Z][A-Z0-9]*[0-9]{3}$")
REQUIRED_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")


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


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    """Every installed rule, sorted by id."""
    from importlib.metadata import entry_points

    found: dict[str, Rule] = {}
    for ep in entry_points(group=GROUP):
        if ep.name in found:
            # The same distribution can be seen twice on sys.path (editable
            # installs); only a different object under the same id is a clash.
            if found[ep.name].check is not ep.load().check:
                raise RuleLoadError(f"two rules claim the id {ep.name}")
            continue
        found[ep.name] = validate(ep.load(), ep.name)
    return tuple(found[k] for k in sorted(found))


def by_id() -> dict[str, Rule]:
    return {r.id: r for r in all_rules()}
