"""Finds every rule through the `caplint.rules` entry-point group.

Built-in rules are registered exactly like third-party ones, so there is one
loading path and plugins are first-class. Each rule is validated on load.

Scanning the installed distributions costs ~35 ms (importing
`importlib.metadata` alone is ~28 ms; 60 ms more with 1,000 packages) on a
run that should take 100 ms, so the scan's answer is cached: see `_cache_*`.
"""
from __future__ import annotations

import os
import sys
from functools import lru_cache

from caplint.cache import cache_file, write_atomically
from caplint.rules import Rule
from caplint import lazyre

GROUP = "caplint.rules"
_ID = lazyre.compile(r"^[A-Z][A-Z0-9]*[0-9]{3}$")
REQUIRED_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")

Entry = tuple[str, str]  # (rule id, "module:attribute")


class RuleLoadError(Exception):
    """A plugin that is not a valid rule; the CLI reports it and exits 2."""


def validate(rule: object, entry_name: str, *, docs: bool = True) -> Rule:
    """`rule` as a Rule, or RuleLoadError. `docs=False` skips the check of
    its documentation, which only a scan of the installed rules needs: the
    cached list was checked when it was written."""
    if not isinstance(rule, Rule):
        raise RuleLoadError(f"entry point {entry_name!r} in {GROUP!r} is not a caplint Rule")
    # The id's form (and the docs below) were checked when the cached list was
    # written; the id must still be the entry point's name.
    if docs and not _ID.match(rule.id):
        raise RuleLoadError(f"rule id {rule.id!r} does not look like PREFIX123")
    if rule.id != entry_name:
        raise RuleLoadError(f"entry point {entry_name!r} names rule {rule.id!r}; the name must be the id")
    missing = [s for s in REQUIRED_SECTIONS if not rule.section(s)] if docs else []
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


def _build(entries: list[Entry], *, docs: bool = True, broken: list[str] | None = None) -> tuple[Rule, ...]:
    """The rules the entries name. An entry whose module cannot be imported
    (a SyntaxError in a plugin, an exception at import) raises, unless
    `broken` is given: then a message naming the entry point goes there and
    the other rules load."""
    found: dict[str, Rule] = {}
    for name, value in entries:
        try:
            obj = _load(value)
        except Exception as err:  # a plugin's own code: anything can come out of it
            if broken is None:
                raise
            broken.append(f"rule plugin {name} = {value} (entry point in {GROUP!r}) cannot be loaded, so rule "
                          f"{name} does not run: {type(err).__name__}: {err}")
            continue
        rule = validate(obj, name, docs=docs)
        # The same distribution can be seen twice on sys.path (an editable
        # install beside a regular one); only a different rule is a clash.
        if name in found and found[name] is not rule:
            raise RuleLoadError(f"two rules claim the id {name}")
        found[name] = rule
    return tuple(found[k] for k in sorted(found))


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    """Every installed rule, sorted by id. A plugin that cannot be imported is
    left out with a warning on stderr (which is the log for the language
    server too); an invalid rule is a RuleLoadError."""
    entries = _cache_read()
    if entries is not None:
        try:
            return _build(entries, docs=False)
        except Exception:  # the cache is stale in a way its key missed, or a plugin is broken: scan afresh
            pass
    entries = _scan()
    broken: list[str] = []
    rules = _build(entries, broken=broken)
    for message in broken:
        sys.stderr.write(f"caplint: warning: {message}\n")
    _cache_write(entries)
    return rules


def by_id() -> dict[str, Rule]:
    return {r.id: r for r in all_rules()}


# The cache: one small text file per interpreter, valid while the installed
# distributions are the same. What `entry_points()` reads is the metadata
# folders (`*.dist-info`, `*.egg-info`) in the sys.path folders, so the key
# is the modification time of each sys.path folder that holds metadata (an
# install or removal adds or removes a metadata folder there, a reinstall
# replaces one). Folders without metadata are not part of the key, so `python -m caplint` (whose sys.path[0] is the current folder),
# a changing working directory or an editor's swap file beside the script do
# not invalidate it. A new `.pth` file changes sys.path, and a folder it adds
# is scanned like the others. The file also records each folder's mtime and
# whether it held metadata, so a hit costs one `stat` per folder: a folder is
# listed again only when its mtime moved (then the record is brought up to
# date, so the next run is a `stat` again). Plain text rather than JSON: the
# `json` import alone costs more than reading the file. Any error reading or
# writing it just means a scan. CAPLINT_NO_CACHE=1 turns it off.
_CACHE_VERSION = "caplint-rules-cache 3"
_METADATA_SUFFIXES = (".dist-info", ".egg-info")

Folder = tuple[str, int, bool]  # (absolute path, st_mtime_ns, holds metadata)


def _holds_metadata(where: str) -> bool:
    try:
        names = os.listdir(where)
    except NotADirectoryError:  # a zip or egg on sys.path holds metadata too
        return True
    except OSError:
        return False
    # Installing or removing a distribution adds or removes a metadata
    # folder here, which changes this folder's modification time.
    return any(name.endswith(_METADATA_SUFFIXES) for name in names)


def _folders(recorded: dict[str, tuple[int, bool]]) -> list[Folder]:
    """Each sys.path folder once, with its mtime and whether it holds
    metadata: as `recorded` says when its mtime is the recorded one, else
    from a listing."""
    out: list[Folder] = []
    for folder in dict.fromkeys(sys.path):  # a folder twice on sys.path is read once
        where = os.path.abspath(folder or ".")
        try:
            mtime = os.stat(where).st_mtime_ns
        except OSError:
            continue
        known = recorded.get(where)
        out.append((where, mtime, known[1] if known is not None and known[0] == mtime else _holds_metadata(where)))
    return out


def _key(folders: list[Folder]) -> list[tuple[str, int]]:
    return [(where, mtime) for where, mtime, metadata in folders if metadata]


def _cache_read() -> list[Entry] | None:
    path = cache_file("rules")
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        if lines[0] != _CACHE_VERSION:
            return None
        split = lines.index("--")
        recorded: dict[str, tuple[int, bool]] = {}
        for line in lines[1:split]:
            where, mtime, metadata = line.rsplit("\t", 2)
            recorded[where] = (int(mtime), metadata == "1")
        folders = _folders(recorded)
        if _key(folders) != [(w, m) for w, (m, metadata) in recorded.items() if metadata]:
            return None
        rules = [line.split(" ", 1) for line in lines[split + 1:] if line]
        entries = [(name, value) for name, value in rules]
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if {(w, m) for w, m, _ in folders} != {(w, m) for w, (m, _) in recorded.items()}:
        _cache_write(entries, folders)  # a folder without metadata changed: record it, to stat alone next time
    return entries


def _cache_write(entries: list[Entry], folders: list[Folder] | None = None) -> None:
    path = cache_file("rules")
    if path is None:
        return
    listed = _folders({}) if folders is None else folders
    text = "\n".join([_CACHE_VERSION, *(f"{w}\t{m}\t{int(metadata)}" for w, m, metadata in listed), "--",
                      *(f"{n} {v}" for n, v in sorted(entries))]) + "\n"
    write_atomically(path, text.encode("utf-8"))
