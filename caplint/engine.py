"""Sources × rules → findings.

The one place that stamps rule ids and severities, applies configuration and
suppressions, and sorts. Each file is linted on its own — parse, then
`assemble` (a Compose file merged with the rest of its stack, read from disk,
and linked to the Dockerfiles it builds), then the rules, keeping the findings
written in that file — so a directory scan can be spread over processes
(`caplint.parallel`, which sits above this module: the engine never imports
it), the findings of a file never depend on which other files were named or
how they were spread, and one broken file never stops the others.
"""
from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from caplint import discover
from caplint.model import Container, Finding, Fix, Hit, Image, ParseResult, Problem, Severity, Span
from caplint.reading import DEFAULT_MAX_BYTES, ReadError, read_file
from caplint.registry import all_rules, check_module
from caplint.rules import Rule
from caplint.values import field, replace, value

if TYPE_CHECKING:
    from caplint.config import Config
    from caplint.suppressions import Suppression

# sha256 straight from CPython's built-in module where there is one: `hashlib`
# loads OpenSSL first, a few milliseconds on every run for one hash per finding.
try:
    from _sha256 import sha256 as _sha256  # type: ignore[import-not-found,unused-ignore]  # CPython ≤ 3.11
except ImportError:  # pragma: no cover - depends on the interpreter
    try:
        from _sha2 import sha256 as _sha256  # type: ignore[import-not-found,no-redef,unused-ignore]  # CPython ≥ 3.12
    except ImportError:
        from hashlib import sha256 as _sha256  # type: ignore[assignment,no-redef,unused-ignore]

Parser = Callable[[str, str], ParseResult]


@value
class Settings:
    """What the configuration and the command line decided; picklable for workers."""

    select: frozenset[str] | None = None  # None: every rule
    ignore: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    # (glob, rule ids or prefixes) pairs: those rules are off for matching paths.
    per_path_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    max_bytes: int = DEFAULT_MAX_BYTES
    # Config globs: files never linted, even when named on the command line
    # (pre-commit names every staged file), relative to `root`.
    exclude: tuple[str, ...] = ()
    # The folder config globs are relative to (the config file's); None: the cwd.
    root: str | None = None
    # Findings of this severity or worse make the run fail (exit 1).
    fail_on: Severity = Severity.MEDIUM
    # The runtime of containers whose format does not say (Compose): docker, podman or nerdctl.
    runtime: str | None = None
    # Spell out each finding's edit (`caplint.fixing`) for --fix, --diff, SARIF and the editor.
    fixes: bool = False

    def excludes(self, path: str) -> bool:
        return bool(self.exclude) and discover.excluded(relative_to(path, self.root), self.exclude)

    def rules_for(self, path: str) -> tuple[Rule, ...]:
        off = set(self.ignore)
        if self.per_path_ignores:
            relative = relative_to(path, self.root)
            for pattern, ids in self.per_path_ignores:
                if discover.excluded(relative, (pattern,)):
                    off |= ids
        return tuple(
            r for r in all_rules()
            if (self.select is None or _selected(r.id, self.select)) and not _selected(r.id, off)
        )


def settings_from(config: Config, *, select: frozenset[str] | None = None, ignore: frozenset[str] | None = None,
                  extend_select: frozenset[str] = frozenset(), extend_ignore: frozenset[str] = frozenset(),
                  max_bytes: int | None = None, fail_on: Severity | None = None) -> Settings:
    """A configuration file's choices; a command-line value that is given (not
    None) replaces the file's value for that key rather than adding to it, and
    the `extend_` lists add to whichever list that leaves. An id named by
    `extend_select` is taken out of the ignore list it extends: it was asked for."""
    size = max_bytes or config.max_file_size
    chosen = select if select is not None else config.select
    skipped = ignore if ignore is not None else config.ignore
    settings = Settings(
        # No selection means every rule, which an extension cannot widen.
        select=chosen | extend_select if chosen is not None else None,
        ignore=(skipped - extend_select) | extend_ignore,
        severity=config.severity,
        per_path_ignores=config.per_path_ignores,
        exclude=config.exclude,
        root=config.root,
        fail_on=fail_on or config.fail_on or Severity.MEDIUM,
        runtime=config.runtime,
    )
    return replace(settings, max_bytes=size) if size else settings


def relative_to(path: str, root: str | None) -> str:
    """`path` as seen from `root`, so config globs mean the same wherever caplint runs.
    A path outside `root` is kept as given."""
    if root is None:
        return path
    rel = os.path.relpath(os.path.abspath(path), root)
    return path if rel == ".." or rel.startswith(".." + os.sep) else rel


def _selected(rule_id: str, codes: Iterable[str]) -> bool:
    """`CAP2` selects every CAP2xx rule, like flake8 and ruff prefixes."""
    return any(rule_id.startswith(code) for code in codes)


def parser_for(kind: str) -> Parser:
    """The parser of a kind. A `yaml` file is Compose only if its content says so:
    otherwise (a CI config, a Kubernetes manifest, a template) it yields nothing."""
    if kind == "yaml":
        from caplint.formats.compose import parser as compose

        return functools.partial(compose.parse, require_services=True)
    module, _, function = _PARSER_MODULES.get(kind, f"caplint.formats.{kind}.parser").partition(":")
    return getattr(importlib.import_module(module), function or "parse")  # type: ignore[no-any-return]


# Kinds whose parser is not `caplint.formats.<kind>.parser`.
_PARSER_MODULES = {"quadlet": "caplint.formats.systemd.quadlet", "bats": "caplint.formats.shell.bats",
                   "quadlet-drop-in": "caplint.formats.systemd.quadlet:parse_drop_in",
                   "bake": "caplint.formats.bake", "markdown": "caplint.formats.markdown",
                   "makefile": "caplint.formats.make"}


def detect_kind(path: str, text: str) -> str | None:
    return discover.kind_by_name(path) or discover.kind_by_content(text)


def lint_text(path: str, text: str, kind: str | None = None, settings: Settings | None = None, *,
              memo: CheckMemo | None = None, fingerprints: bool = True) -> list[Finding]:
    """Findings for one file's text, sorted; the heart of every front end.
    `memo` (the language server's, per document) reuses the hits of the last
    lint for every container and image that has not changed; without
    `fingerprints` (which an editor's diagnostics never show) each finding's is empty."""
    settings = settings or Settings()
    kind = kind if kind not in (None, "unknown") else detect_kind(path, text)
    if kind is None:
        return problem_findings([Problem(Span.point(path, 1), "cannot tell what kind of file this is "
                                          "(not a Dockerfile, Compose file, shell script, devcontainer.json or CI file "
                                          "by name or content)")],
                                 text, settings, path)
    try:
        result = parse_assembled(path, text, kind, settings.runtime, memo=memo)
    except Exception as err:  # noqa: BLE001 — a bug on one file must not end the run
        # Parsers never raise on bad input by design; this is the net under
        # that design, for every front end (CLI, workers, language server).
        result = ParseResult(problems=[Problem(Span.point(path, 1), f"caplint failed to parse this file "
                                               f"({type(err).__name__}: {err}); please report it with the file attached")])
    return _findings(result, text, path, settings, kind, memo, fingerprints)


class CheckMemo:
    """The hits of each built-in rule on each subject of the last lint of one
    document, reused for a subject equal to one of them: after an edit, most of
    a file's containers are the same values as before (their every line and
    column too), and a built-in check reads nothing but its subject, so its
    hits are the same. A plugin's check is always run (it might read more).
    Only the last lint's entries are kept."""

    def __init__(self) -> None:
        # (kind, name, where it is written) → what was kept for that subject
        self._last: dict[tuple[str, str, Span], Kept] = {}
        self._now: dict[tuple[str, str, Span], Kept] = {}
        # What the document's parser keeps from one parse to the next (Compose: parser.Reuse).
        self.parser_state: Any = None

    def start(self) -> None:
        """A new lint begins: what the previous one found is what may be reused."""
        if self._now:
            self._last, self._now = self._now, {}

    def entry(self, subject: Container | Image) -> Kept:
        """What is kept for `subject`, to be filled by this lint.
        Looked up by where it is written and compared whole (cheaper than hashing it)."""
        key = (type(subject).__name__, subject.name if isinstance(subject, Container) else subject.path, subject.span)
        now = self._now.get(key)
        if now is not None and (now.subject is subject or now.subject == subject):
            return now
        last = self._last.get(key)
        same = last is not None and (last.subject is subject or last.subject == subject)
        kept = Kept(subject, dict(last.hits) if last is not None and same else {})
        if last is not None and same:
            kept.findings = last.findings
        self._now[key] = kept
        return kept


class Kept:
    """For one subject of a document's lint: each built-in rule's hits, and the
    findings made of them with the rules and settings they were made with."""

    __slots__ = ("subject", "hits", "findings")

    def __init__(self, subject: Container | Image, hits: dict[str, list[Hit]]) -> None:
        self.subject = subject
        self.hits = hits
        self.findings: tuple[tuple[Rule, ...], Settings, list[Finding]] | None = None

    def reusable(self, rules: tuple[Rule, ...], settings: Settings, lines: list[str], path: str) -> list[Finding] | None:
        """The findings the last lint made for this subject, if making them
        again would give the same: the same rules and settings, and each
        finding's line still reads as it did."""
        if self.findings is None or self.findings[1] is not settings or self.findings[0] != rules:
            return None
        found = self.findings[2]
        for f in found:
            line = f.span.line
            if f.span.path != path or not (0 < line <= len(lines)) or lines[line - 1] != f.line_text:
                return None
        return found


def _built_in(rule: Rule) -> bool:
    """A rule of caplint's own, whose check reads its subject only (CheckMemo may
    reuse its hits)."""
    check = rule.check
    known = _BUILT_IN.get(id(rule))
    if known is not None and known[0] is check:
        return known[1]
    _BUILT_IN[id(rule)] = (check, check_module(check).startswith("caplint.rules."))
    return _BUILT_IN[id(rule)][1]


# id(rule) → (its check when asked, whether that is built in): asked for every
# rule on every lint of the language server. A rule's check may be replaced.
_BUILT_IN: dict[int, tuple[Any, bool]] = {}


def parse_assembled(path: str, text: str, kind: str, runtime: str | None = None, *,
                    memo: CheckMemo | None = None) -> ParseResult:
    """One file's model as part of what really runs: a Compose file merged with
    the rest of its stack and linked to the images it builds (`caplint.assemble`),
    its containers on `runtime` when the format does not name one. With the
    document's `memo`, a Compose file is read again only where it was edited."""
    from caplint import assemble

    if kind not in ("compose", "yaml"):
        result = parser_for(kind)(text, path)
        if kind == "dockerfile":
            assemble.remember_image(path, text, result)
        return result
    reuse = None
    if memo is not None:
        from caplint.formats.compose.parser import Reuse

        if not isinstance(memo.parser_state, Reuse):
            memo.parser_state = Reuse()
        reuse = memo.parser_state
    result = assemble.compose(path, text, require_services=kind == "yaml", reuse=reuse)
    if runtime is not None:
        result.containers = [replace(c, runtime=runtime) if c.source_kind == "compose" else c
                             for c in result.containers]
    return result


def lint_file(path: str, kind: str, settings: Settings | None = None) -> list[Finding]:
    settings = settings or Settings()
    try:
        text = read_file(path, max_bytes=settings.max_bytes)
    except ReadError as err:
        return problem_findings([err.problem], "", settings, path)
    return lint_text(path, text, kind, settings)


def lint_model(result: ParseResult, path: str, settings: Settings | None = None) -> list[Finding]:
    """Findings for a model that was not parsed from text (a scanned image)."""
    return _findings(result, "", path, settings or Settings())


def problem_findings(problems: Sequence[Problem], text: str, settings: Settings, path: str) -> list[Finding]:
    return _findings(ParseResult(problems=list(problems)), text, path, settings)


def _findings(result: ParseResult, text: str, path: str, settings: Settings, kind: str | None = None,
              memo: CheckMemo | None = None, fingerprints: bool = True) -> list[Finding]:
    rules = settings.rules_for(path)
    lines = text.split("\n")
    others: dict[str, list[str]] = {}
    out: list[Finding] = []

    def stamp(rule: Rule, span: Span, message: str, container: str | None, fix: Fix | None = None,
              advice: str | None = None, unfixable: str = "") -> Finding:
        # A value written in another file (a Quadlet drop-in) is shown from that file.
        shown = lines if span.path == path else _lines_of(span.path, others)
        line_text = shown[span.line - 1] if 0 < span.line <= len(shown) else ""
        return Finding(rule.id, rule.name, settings.severity.get(rule.id, rule.severity), span,
                       message, container, line_text, fix=fix, advice=advice or rule.default_advice,
                       unfixable=unfixable)

    spell = _speller(path, text, kind) if settings.fixes else None

    def stamp_hit(rule: Rule, subject: Container | Image, hit: Hit, name: str | None) -> Finding:
        if spell is None:
            return stamp(rule, hit.span, hit.message, name, hit.fix, hit.advice)
        fix, why = spell(subject, hit)
        return stamp(rule, hit.span, hit.message, name, fix, hit.advice, why)

    parse_rule = next((r for r in rules if r.id == "CAP001"), None)
    if parse_rule is not None:
        for problem in result.problems:
            out.append(stamp(parse_rule, problem.span, problem.message, None, advice=problem.advice))
    subjects: list[Container | Image] = [*result.containers, *result.images]
    if memo is not None:
        memo.start()
    kept = [memo.entry(s) if memo is not None else None for s in subjects]
    # Each subject's findings, made afresh — or, when only built-in rules run
    # and no edit is spelt out, those of the last lint where they would be the same.
    per_subject: list[list[Finding] | None] = [None] * len(subjects)
    remade = list(range(len(subjects)))
    if memo is not None and spell is None and all(map(_built_in, rules)):
        for i, keep in enumerate(kept):
            assert keep is not None
            per_subject[i] = keep.reusable(rules, settings, lines, path)
        remade = [i for i, found in enumerate(per_subject) if found is None]
    for i in remade:
        per_subject[i] = []
    for rule in rules:
        reusable = _built_in(rule)
        for i in remade:
            subject, keep, made = subjects[i], kept[i], per_subject[i]
            assert made is not None
            if not isinstance(subject, rule.subjects):
                continue
            hits = keep.hits.get(rule.id) if keep is not None and reusable else None
            if hits is None:
                try:
                    hits = list(rule.check(subject))
                except Exception as err:  # noqa: BLE001 — one broken (plugin) rule must not hide the others
                    name = subject.name if isinstance(subject, Container) else None
                    made.append(stamp(rule, subject.span, f"rule {rule.id} failed on this "
                                                          f"{'container' if name else 'image'} ({type(err).__name__}: "
                                                          f"{err}); please report it", name,
                                      advice="nothing to change here: the rule could not check this; report the failure "
                                             "with the file attached"))
                    continue
                if keep is not None and reusable:
                    keep.hits[rule.id] = hits
            if hits:
                name = subject.name if isinstance(subject, Container) else None
                # A container merged from several files: each file reports what is written in it —
                # except a Quadlet unit's drop-ins, which are never linted on their own.
                own = isinstance(subject, Container) and subject.source_kind == "quadlet" and kind == "quadlet"
                made.extend(stamp_hit(rule, subject, hit, name) for hit in hits if own or hit.span.path == path)
    for i in remade:
        keep = kept[i]
        if keep is not None:
            keep.findings = (rules, settings, per_subject[i] or [])
    for found_here in per_subject:
        out.extend(found_here or ())
    found = _suppressions_in(text, path, kind)
    # Values written in other files (a Quadlet unit's drop-ins) are suppressed
    # by comments in those files, in the same syntax.
    for elsewhere in sorted({f.span.path for f in out} - {path}):
        found += _suppressions_in("\n".join(_lines_of(elsewhere, others)), elsewhere, kind)
    if found:
        from caplint import suppressions

        out, unused = suppressions.apply(
            out, found, ran=frozenset(r.id for r in rules), known=frozenset(r.id for r in all_rules()),
            every_rule_ran=len(rules) == len(all_rules()),
        )
        unused_rule = next((r for r in rules if r.id == suppressions.UNUSED_ID), None)
        if unused_rule is not None:
            out.extend(f for f in (stamp(unused_rule, u.span, u.message, None, advice=u.advice) for u in unused)
                       if not any(s.valid and s.codes and suppressions.UNUSED_ID in s.codes and s.covers(f) for s in found))
    ordered = sorted(out, key=Finding.sort_key)
    return fingerprint(ordered) if fingerprints else ordered


def _suppressions_in(text: str, path: str, kind: str | None) -> list[Suppression]:
    if "caplint" not in text:  # most files have none: the suppressions module is not even loaded
        return []
    from caplint import suppressions

    return suppressions.scan(text, path, kind)


def _speller(path: str, text: str, kind: str | None) -> Callable[[Container | Image, Hit], tuple[Fix | None, str]]:
    """The edit of each hit in this file (imported only when fixes are asked for)."""
    from caplint.fixing import Source

    return Source(path, text, kind).fix


def _lines_of(path: str, cache: dict[str, list[str]]) -> list[str]:
    if path not in cache:
        try:
            cache[path] = read_file(path).split("\n")
        except ReadError:
            cache[path] = []
    return cache[path]


def fingerprint(findings: list[Finding]) -> list[Finding]:
    """Stable ids that survive edits elsewhere in the file: rule, path, the
    finding's own line text (whitespace-insensitive) and its message, plus a
    counter for identical ones — but never the line number."""
    seen: dict[str, int] = {}
    out = []
    for f in findings:
        basis = "\0".join((f.rule_id, f.span.path, " ".join(f.line_text.split()), f.message))
        n = seen.get(basis, 0)
        seen[basis] = n + 1
        digest = _sha256(f"{basis}\0{n}".encode()).hexdigest()[:32]
        out.append(replace(f, fingerprint=digest))
    return out


def lint_paths(paths: Sequence[str], settings: Settings | None = None, *, exclude: Iterable[str] = ()) -> list[Finding]:
    """Every finding under `paths`, in a deterministic order (in this process;
    `caplint.parallel` spreads the same work over processes)."""
    return lint_found(list(discover.discover(paths, exclude)), settings)


def lint_found(found: Sequence[discover.Found], settings: Settings | SettingsFor | None = None) -> list[Finding]:
    """Every finding of `found`, linted in this process, in the report's order."""
    settings_for = per_file(settings)
    return merge_sorted([lint_file(f.path, f.kind, settings_for(f.path)) for f in found])


# Which settings apply to a file (caplint.settings.Resolver.for_file): each file
# may have its own configuration.
SettingsFor = Callable[[str], Settings]


def per_file(settings: Settings | SettingsFor | None) -> SettingsFor:
    """One Settings for every file, or a function choosing them per file."""
    if settings is None or isinstance(settings, Settings):
        same = settings or Settings()
        return lambda _path: same
    return settings


def merge_sorted(per_file: Iterable[list[Finding]]) -> list[Finding]:
    """Each file's findings as one list in the report's order."""
    return sorted((f for group in per_file for f in group), key=Finding.sort_key)
