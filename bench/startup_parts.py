"""What-if timings for one-file start-up: the same lint work as `caplint check
FILE` (text report), run (a) without typer and (b) also without
importlib.metadata — the rule registry read from a cache of its entry points,
as the cache proposed in bench/README.md would. Only a measurement: caplint
itself is not changed.

Run as a child process: `python bench/startup_parts.py MODE CACHE FILE…`.
"""
from __future__ import annotations

import sys


def _cached_registry(cache: str) -> None:
    """Replace registry.all_rules with a reader of stored (name, "module:attr")
    pairs, after the stat() calls a real cache would make to check its key."""
    import functools
    import importlib
    import json
    import os

    import caplint.registry as registry

    key = [(p, os.stat(p).st_mtime_ns) for p in sys.path if p and os.path.isdir(p)]
    assert key

    @functools.lru_cache(maxsize=1)
    def cached() -> tuple[object, ...]:
        with open(cache) as fh:
            pairs = json.load(fh)
        rules = {}
        for name, value in pairs:
            module, _, attr = value.partition(":")
            rules[name] = registry.validate(getattr(importlib.import_module(module), attr), name)
        return tuple(rules[k] for k in sorted(rules))

    registry.all_rules = cached  # type: ignore[assignment]


def write_cache(cache: str) -> None:
    import json
    from importlib.metadata import entry_points

    with open(cache, "w") as fh:
        json.dump([[ep.name, ep.value] for ep in entry_points(group="caplint.rules")], fh)


def main() -> int:
    mode, cache, *paths = sys.argv[1:]
    if mode == "write-cache":
        write_cache(cache)
        return 0
    if mode == "no-typer+cache":
        _cached_registry(cache)
    from caplint import engine, report
    from caplint.discover import discover
    from caplint.registry import all_rules

    found = list(discover(paths))
    findings = engine.lint_found(found, engine.Settings())
    sys.stdout.write(report.renderer("text")(findings, report.Context(rules=all_rules(), files=len(found))))
    if mode == "no-typer+cache" and "importlib.metadata" in sys.modules:
        sys.stderr.write("importlib.metadata was imported after all\n")
        return 3
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
