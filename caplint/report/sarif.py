"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers, built with sarif-om.

sarif-om is only an object model: it validates nothing (the schema test does) and
its usual serializer, `jschema_to_python.to_json`, drops every field equal to its
default (`level: "warning"`, an empty `results`) and deep-copies the whole log.
So objects here are made with `_new`, which leaves every field we do not set at
None instead of sarif-om's defaults, and `to_jsonable` writes every field that is
not None, by its schema name. What we set is exactly what is written.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from caplint.model import Finding, Fix, Severity, Span
from caplint.report import LEVELS, Context, relative_path, rule_page_url
from caplint.rules import Rule

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/caplint/caplint"
SRCROOT = "%SRCROOT%"
# GitHub reads a rule's security-severity as a number in a string and ranks it:
# over 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}
# GitHub rejects rule descriptions longer than this.
MAX_DESCRIPTION = 1024

T = TypeVar("T")


def render(findings: Sequence[Finding], context: Context) -> str:
    log = to_jsonable(sarif_log(findings, context))
    # `$schema` and `version` first, as readers expect; sarif-om lists them last.
    log = {"$schema": log.pop("$schema"), "version": log.pop("version"), **log}
    # Compact: with `indent`, json falls back to its pure-Python encoder, which
    # is slower than building the whole log.
    return json.dumps(log, ensure_ascii=False, separators=(",", ":")) + "\n"


def sarif_log(findings: Sequence[Finding], context: Context) -> Any:
    import sarif_om as om

    from caplint import __version__

    rules = context.rules
    index = {r.id: i for i, r in enumerate(rules)}
    driver = _new(
        om.ToolComponent,
        name="caplint",
        version=__version__,
        semantic_version=__version__,
        information_uri=INFORMATION_URI,
        rules=[_descriptor(om, r) for r in rules],
    )
    cwd = os.getcwd()
    run = _new(
        om.Run,
        tool=_new(om.Tool, driver=driver),
        # Python counts columns in code points, not UTF-16 units.
        column_kind="unicodeCodePoints",
        original_uri_base_ids={SRCROOT: _new(om.ArtifactLocation, uri=_directory_uri(cwd))},
        # Always written, even empty: GitHub rejects a run without `results`.
        results=[_result(om, f, index.get(f.rule_id), cwd) for f in findings],
        automation_details=_automation(om, context.sarif_id),
    )
    return _new(om.SarifLog, version="2.1.0", schema_uri=SCHEMA_URI, runs=[run])


def _descriptor(om: Any, rule: Rule) -> Any:
    from caplint.docs import rule_page

    page = rule_page(rule)
    return _new(
        om.ReportingDescriptor,
        id=rule.id,
        name=rule.name,
        short_description=_new(om.MultiformatMessageString, text=clip(rule.summary)),
        full_description=_new(om.MultiformatMessageString, text=clip(rule.section("What it does") or rule.summary)),
        help=_new(om.MultiformatMessageString, text=page, markdown=page),
        help_uri=rule_page_url(rule.id),
        default_configuration=_new(om.ReportingConfiguration, level=LEVELS[rule.severity]),
        # sarif-om's PropertyBag declares only `tags`, but a property bag is open
        # by definition, so the bag is a plain mapping.
        properties={
            "tags": list(rule.tags),
            "precision": rule.precision,
            "security-severity": SECURITY_SEVERITY[rule.severity],
        },
    )


def _result(om: Any, f: Finding, rule_index: int | None, cwd: str) -> Any:
    artifact = _artifact_location(om, f.span.path, cwd)
    location = _new(
        om.Location,
        physical_location=_new(om.PhysicalLocation, artifact_location=artifact, region=_region(om, f.span)),
        # A file inside a scanned image: the archive is the artifact, the path inside it a logical location.
        logical_locations=[_new(om.LogicalLocation, name=f.span.member, fully_qualified_name=f.span.member,
                                kind="resource")] if f.span.member else None,
    )
    return _new(
        om.Result,
        rule_id=f.rule_id,
        rule_index=rule_index,
        # Written even when it equals the default, so no reader has to know it.
        level=LEVELS[f.severity],
        # GitHub shows the message under the alert; the rule's help says the rest.
        message=_new(om.Message, text=f"{f.message}\nFix: {f.advice}" if f.advice else f.message),
        locations=[location],
        # The engine's fingerprint leaves out the line number, so an alert keeps
        # its identity when unrelated lines are added above it.
        partial_fingerprints={"primaryLocationLineHash": f.fingerprint} if f.fingerprint else None,
        fixes=[_fix(om, f.fix, artifact)] if f.fix else None,
    )


def _fix(om: Any, fix: Fix, artifact: Any) -> Any:
    replacements = [_new(
        om.Replacement,
        deleted_region=_deleted(om, edit.span),
        inserted_content=_new(om.ArtifactContent, text=edit.replacement),
    ) for edit in fix.edits]
    change = _new(om.ArtifactChange, artifact_location=artifact, replacements=replacements)
    return _new(om.Fix, description=_new(om.Message, text=fix.label), artifact_changes=[change])


def _deleted(om: Any, s: Span) -> Any:
    """The exact region an edit replaces: an insertion is an empty region (SARIF
    §3.30.2: endColumn equal to startColumn); whole lines end at column 1 of the next."""
    return _new(om.Region, start_line=s.line, start_column=s.column, end_line=s.end_line, end_column=s.end_column)


def _artifact_location(om: Any, path: str, cwd: str) -> Any:
    uri, base = artifact_uri(path, cwd)
    return _new(om.ArtifactLocation, uri=uri, uri_base_id=base)


def _region(om: Any, s: Span) -> Any:
    # The schema wants lines and columns from 1 and an end no earlier than the start.
    line = max(s.line, 1)
    column = max(s.column, 1)
    end_line = max(s.end_line, line)
    end_column = max(s.end_column, column) if end_line == line else max(s.end_column, 1)
    return _new(om.Region, start_line=line, start_column=column, end_line=end_line, end_column=end_column)


def _automation(om: Any, automation_id: str | None) -> Any:
    # The CLI composes the id (GitHub reads it as CATEGORY/RUN_ID); it is written as given.
    return _new(om.RunAutomationDetails, id=automation_id) if automation_id else None


@lru_cache(maxsize=4096)  # a report names the same few files over and over
def artifact_uri(path: str, cwd: str) -> tuple[str, str | None]:
    """A percent-encoded URI relative to %SRCROOT% (the working directory)."""
    rel = relative_path(path, cwd)
    if rel is None:
        return Path(os.path.abspath(path)).as_uri(), None
    return quote(rel, safe="/"), SRCROOT


def _directory_uri(path: str) -> str:
    uri = Path(path).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def clip(text: str, limit: int = MAX_DESCRIPTION) -> str:
    """`text` cut at a word boundary to at most `limit` characters, marked with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _new(cls: type[T], **given: Any) -> T:
    """A sarif-om object with exactly the fields given; every other field is None."""
    return cls(**{**dict.fromkeys(_field_names(cls)), **given})


# Per-class attrs metadata, read once per process (mypy does not accept a
# class as an lru_cache key, hence plain dicts).
_FIELD_NAMES: dict[Any, frozenset[str]] = {}
_SCHEMA_NAMES: dict[Any, dict[str, str]] = {}


def _field_names(cls: Any) -> frozenset[str]:
    if cls not in _FIELD_NAMES:
        _FIELD_NAMES[cls] = frozenset(a.name for a in cls.__attrs_attrs__)
    return _FIELD_NAMES[cls]


def _schema_names(cls: Any) -> dict[str, str]:
    if cls not in _SCHEMA_NAMES:
        _SCHEMA_NAMES[cls] = {a.name: a.metadata["schema_property_name"] for a in cls.__attrs_attrs__}
    return _SCHEMA_NAMES[cls]


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for a sarif-om object tree: every field that is not None,
    under its schema name (`ruleId`, `$schema`), in the model's field order."""
    cls = type(value)
    if hasattr(cls, "__attrs_attrs__"):
        names = _schema_names(cls)
        # sarif-om classes keep their fields in the instance dict, in field order;
        # reading it directly is several times faster than a getattr per field.
        return {names[k]: to_jsonable(v) for k, v in vars(value).items() if v is not None}
    if cls is dict:
        return {k: to_jsonable(v) for k, v in value.items() if v is not None}
    if cls is list or cls is tuple:
        return [to_jsonable(v) for v in value]
    return value
