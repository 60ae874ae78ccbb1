"""Baselines: adopt caplint in an existing repository without fixing everything first.

`--write-baseline FILE` records today's findings by fingerprint; `--baseline FILE`
then reports only findings whose fingerprint is not recorded. A fingerprint is
made from the rule, the path, the finding's own line text and its message — never
the line number — so lines added or removed elsewhere in the file keep a finding
baselined, while editing the offending line makes it new again.

The file is JSON, sorted and indented, so it diffs well in review and the same
findings always write the same bytes.
"""
from __future__ import annotations

import json
from collections.abc import Collection, Sequence

from caplint.model import Finding
from caplint.values import value

FORMAT = "caplint-baseline"
VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read or is not one; the CLI exits 2."""


@value
class Filtered:
    new: list[Finding]
    known: int  # findings hidden because the baseline has them
    stale: int  # baseline entries no finding matched (fixed since)


def dumps(findings: Sequence[Finding]) -> str:
    entries = sorted(
        ({"path": f.span.path, "rule": f.rule_id, "fingerprint": f.fingerprint, "message": f.message}
         for f in findings),
        key=lambda e: (e["path"], e["rule"], e["fingerprint"]),
    )
    return json.dumps({"format": FORMAT, "version": VERSION, "findings": entries}, indent=2, ensure_ascii=False) + "\n"


def write(path: str, findings: Sequence[Finding]) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(dumps(findings))
    except OSError as err:
        raise BaselineError(f"cannot write baseline {path}: {err.strerror or err}") from None


def load(path: str) -> frozenset[tuple[str, str]]:
    """The (path, fingerprint) pairs recorded in a baseline file."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as err:
        raise BaselineError(f"cannot read baseline {path}: {err.strerror or err}") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise BaselineError(f"{path} is not a caplint baseline (invalid JSON: {err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path} is not a caplint baseline (write one with --write-baseline)")
    if data.get("version") != VERSION:
        raise BaselineError(f"{path}: baseline version {data.get('version')!r} is not supported "
                            f"(this caplint reads version {VERSION}); rewrite it with --write-baseline")
    entries = data["findings"]
    if not all(isinstance(e, dict) and isinstance(e.get("fingerprint"), str) and isinstance(e.get("path"), str)
               for e in entries):
        raise BaselineError(f"{path}: every entry needs a path and a fingerprint; rewrite it with --write-baseline")
    return frozenset((e["path"], e["fingerprint"]) for e in entries)


def apply(findings: Sequence[Finding], baseline: frozenset[tuple[str, str]], linted: Collection[str]) -> Filtered:
    """Drops baselined findings; `linted` are the paths this run looked at, so
    entries for files outside the run (pre-commit passes a few) are not stale."""
    fingerprints = {fp for _, fp in baseline}
    new = [f for f in findings if f.fingerprint not in fingerprints]
    seen = {f.fingerprint for f in findings}
    linted_paths = set(linted)
    stale = sum(1 for p, fp in baseline if p in linted_paths and fp not in seen)
    return Filtered(new, len(findings) - len(new), stale)
