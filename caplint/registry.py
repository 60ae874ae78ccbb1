"""Finds every rule through the `caplint.rules` entry-point group.

Built-in rules are registered exactly like third-party ones, so there is one
loading path and plugins are first-class. Each rule is validated on load.

Scanning the installed distributions costs ~35 ms (importing
`importlib.metadata` alone is ~28 ms; 60 ms more with 1,000 packages) on a
run that should take 100 ms, so the scan's answer is cached: see `_cache_*`.
The cache also keeps what each rule is (id, name, severity, subjects, docs),
so a run imports a rule's module only when the rule has something to check:
a Dockerfile run does not load the container rules, a Compose file of pulled
images not the image rules.
"""
from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from caplint.cache import cache_file, write_atomically
from caplint.model import Container, Image, Severity
from caplint.rules import Check, Rule, Subjects
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
    cached = _cache_read()
    if cached is not None:
        try:
            return _from_cache(*cached)
        except Exception:  # the cache is stale in a way its key missed, or a plugin is broken: scan afresh
            pass
    entries = _scan()
    broken: list[str] = []
    rules = _build(entries, broken=broken)
    for message in broken:
        sys.stderr.write(f"caplint: warning: {message}\n")
    values = dict(entries)
    _cache_write(entries, [f for f in (_facts(r, values[r.id]) for r in rules) if f is not None])
    return rules


# What the cache keeps of a rule: (id, entry point value, name, severity,
# subject class names, raw docs, tags, precision, advice, module file, that
# file's mtime). A rule without them (a plugin that could not be loaded, one
# with other subjects or no module file) is imported on every run.
Facts = tuple[str, str, str, int, tuple[str, ...], str, tuple[str, ...], str, str, str, int]
_SUBJECTS: dict[str, type[Container] | type[Image]] = {"Container": Container, "Image": Image}


class _Deferred:
    """The check of a rule known from the cache: the rule's module is
    imported on the first call (the first subject the rule applies to)."""

    __slots__ = ("entry", "_check")

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self._check: Check | None = None

    def __call__(self, subject: Any) -> Iterable[Any]:
        if self._check is None:
            self._check = validate(_load(self.entry[1]), self.entry[0], docs=False).check
        return self._check(subject)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Deferred) and other.entry == self.entry

    def __hash__(self) -> int:
        return hash(self.entry)

    def __repr__(self) -> str:
        return f"<check of {self.entry[0]} from {self.entry[1]}, imported on first use>"


def check_module(check: Any) -> str:
    """The module a rule's check is defined in, without importing it when the
    registry defers that to the first call (the entry point names it)."""
    if isinstance(check, _Deferred):
        return check.entry[1].partition(":")[0].strip()
    return getattr(check, "__module__", None) or ""


def _facts(rule: Rule, value: str) -> Facts | None:
    module = sys.modules.get(value.partition(":")[0].strip())
    path = getattr(module, "__file__", None)
    names = tuple(t.__name__ for t in rule.subjects)
    if not isinstance(path, str) or any(_SUBJECTS.get(n) is not t for n, t in zip(names, rule.subjects)):
        return None
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return None
    return (rule.id, value, rule.name, int(rule.severity), names, rule.raw_doc, rule.tags, rule.precision, rule.advice,
            path, mtime)


def _from_cache(entries: list[Entry], facts: list[Facts]) -> tuple[Rule, ...]:
    """The rules of a cache hit: those with facts as deferred rules, the others imported."""
    known = {f[0]: f for f in facts}
    deferred: dict[str, Rule] = {}
    eager: list[Entry] = []
    for name, value in entries:
        fact = known.get(name)
        if fact is None or fact[1] != value:
            eager.append((name, value))
            continue
        rule_id, _, rule_name, severity, subjects, doc, tags, precision, advice, _, _ = fact
        subject_types: Subjects = tuple(_SUBJECTS[n] for n in subjects)
        deferred[name] = Rule(rule_id, rule_name, Severity(severity), subject_types, _Deferred((name, value)), doc,
                              tuple(tags), precision, advice)
    loaded = {r.id: r for r in _build(eager, docs=False)} if eager else {}
    both = {**deferred, **loaded}
    return tuple(both[k] for k in sorted(both))


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
# date, so the next run is a `stat` again). Marshalled rather than JSON: the
# `json` import alone costs more than reading the file. Any error reading or
# writing it just means a scan. CAPLINT_NO_CACHE=1 turns it off.
_CACHE_VERSION = "caplint-rules-cache 4"
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


def _cache_read() -> tuple[list[Entry], list[Facts]] | None:
    path = cache_file("rules")
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            version, folders, entries, facts = marshal.loads(fh.read())
        if version != _CACHE_VERSION:
            return None
        recorded: dict[str, tuple[int, bool]] = {where: (mtime, metadata) for where, mtime, metadata in folders}
        now = _folders(recorded)
        if _key(now) != _key(folders):
            return None
        entries = [(str(name), str(value)) for name, value in entries]
        # A rule module edited in place (an editable install of a plugin) is read again.
        if any(os.stat(f[9]).st_mtime_ns != f[10] for f in {f[9]: f for f in facts}.values()):
            return None
    except (OSError, ValueError, EOFError, TypeError, IndexError):
        return None
    if {(w, m) for w, m, _ in now} != {(w, m) for w, (m, _) in recorded.items()}:
        _cache_write(entries, facts, now)  # a folder without metadata changed: record it, to stat alone next time
    return entries, facts


def _cache_write(entries: list[Entry], facts: list[Facts], folders: list[Folder] | None = None) -> None:
    path = cache_file("rules")
    if path is None:
        return
    listed = _folders({}) if folders is None else folders
    try:
        data = marshal.dumps((_CACHE_VERSION, listed, sorted(entries), facts))
    except ValueError:  # a value marshal cannot hold (a plugin's odd docs): no cache rather than a broken one
        return
    write_atomically(path, data)
