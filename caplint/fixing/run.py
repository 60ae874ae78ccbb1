"""`--fix` and `--diff`: each file's edits applied, verified, written safely.

A round takes the findings whose fix is wanted (safe ones; unsafe too with
`--unsafe-fixes`), at most one per container (two edits of one container's
privileges could each be right alone and wrong together) and none whose
edits overlap, and applies them bottom-up one at a time. After each edit the
text is linted again, and the edit is dropped — never written — when the file
would no longer parse, when a finding appears that was not there (unless it
is less severe than the one fixed: a misspelt name corrected to one that is
redundant), or when there is not one finding fewer of its rule for its
container. Rounds repeat on the new text until nothing is
left to apply (bounded), so a second `--fix` changes nothing.

Writing: the file is read again first and left alone when it changed since
caplint read it; the new text goes to a temporary file in the same folder
that takes the old file's mode and then replaces it (`os.replace`), so a
reader never sees half a file; a read-only file or folder is an error for
that file only.
"""
from __future__ import annotations

import difflib
import os
import stat
import tempfile
from collections import Counter
from dataclasses import dataclass, field

from caplint import engine
from caplint.fixing import splice
from caplint.model import Finding
from caplint.reading import ReadError

# Each applied edit resolves a finding and adds only lesser ones, so rounds end;
# the bound is a net. A round fixes one edit per container *name*, and a script
# may run the same `docker run $IMAGE` many times over.
MAX_ROUNDS = 256
# DESIGN's safe class: the rules whose fixes keep what the container does.
SAFE_RULES = frozenset({"CAP205", "CAP206"})

Key = tuple[str, str | None, str]


@dataclass
class Outcome:
    """One file's fixing: the text before and after, and what happened."""

    path: str
    before: str  # line breaks as written
    after: str
    findings: list[Finding]  # what remains after the fixes (with the edits still available)
    fixed: list[Finding] = field(default_factory=list)
    dropped: list[tuple[Finding, str]] = field(default_factory=list)
    error: str = ""  # why the file was not written (or read)

    @property
    def changed(self) -> bool:
        return self.before != self.after and not self.error

    def diff(self) -> str:
        """A unified diff, marking a last line without a newline as `patch` does."""
        out = []
        for line in difflib.unified_diff(self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
                                         f"a/{self.path}", f"b/{self.path}"):
            out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
        return "".join(out)


def wanted(f: Finding, unsafe: bool) -> bool:
    return f.fix is not None and (f.fix.safe or unsafe)


def _key(f: Finding) -> Key:
    return (f.rule_id, f.container, f.message)


def fix_text(path: str, text: str, kind: str | None, settings: engine.Settings, unsafe: bool) -> Outcome:
    """`text` (line breaks as written) with every wanted fix that verifies applied."""
    settings = with_fixes(settings)
    found = engine.lint_text(path, splice.normalised(text), kind, settings)
    outcome = Outcome(path, text, text, found)
    # Edits dropped since the text last changed: another edit may make them
    # right (a redundant NET_BIND_SERVICE removed, then drop ALL adds nothing),
    # so each is tried again once something was applied.
    given_up: dict[Key, tuple[Finding, str]] = {}
    for _ in range(MAX_ROUNDS):
        chosen = _choose([f for f in outcome.findings if wanted(f, unsafe) and _key(f) not in given_up])
        if not chosen:
            break
        applied = False
        for f in chosen:  # bottom-up: an edit never moves the ones above it
            assert f.fix is not None
            candidate = splice.apply(outcome.after, f.fix.edits)
            after = engine.lint_text(path, splice.normalised(candidate), kind, settings)
            why = _verdict(outcome.findings, after, f)
            if why:
                given_up[_key(f)] = (f, why)
                continue
            outcome.after, outcome.findings = candidate, after
            outcome.fixed.append(f)
            applied = True
        if applied:
            given_up.clear()
    outcome.dropped = list(given_up.values())
    return outcome


def _choose(candidates: list[Finding]) -> list[Finding]:
    """Fixes with disjoint edits, one per container, bottom-up."""
    chosen: list[tuple[tuple[tuple[int, int], tuple[int, int]], Finding]] = []
    containers: set[str] = set()
    for f in sorted(candidates, key=Finding.sort_key):
        assert f.fix is not None
        if f.container is not None and f.container in containers:
            continue
        start, end = splice.bounds(f.fix.edits)
        if any(start <= e and s <= end for (s, e), _ in chosen):
            continue
        chosen.append(((start, end), f))
        if f.container is not None:
            containers.add(f.container)
    return [f for _, f in sorted(chosen, key=lambda pair: pair[0][0], reverse=True)]


def _verdict(before: list[Finding], after: list[Finding], fixed: Finding) -> str:
    """Why the edit must not be kept, or ''.

    Findings are counted per rule and container, not by message: of two equal
    entries, once one goes, the other may be reported as the first one was
    (`CAP_CHOWN` now the one Docker grants by default, no longer the repeat)."""
    def per(findings: list[Finding]) -> Counter[tuple[str, str | None]]:
        return Counter((f.rule_id, f.container) for f in findings)

    was, now = per(before), per(after)
    messages = Counter(_key(f) for f in before)
    broken = [f for f in after if f.rule_id == "CAP001" and now[(f.rule_id, f.container)] > was[(f.rule_id, f.container)]]
    if broken:
        return f"the edit would make the file fail to parse (line {broken[0].span.line}: {broken[0].message})"
    # A fix may reveal a lesser finding — a misspelt name, once corrected, that
    # is redundant (CAP206) or needless (CAP208) — but never add one as bad or worse.
    new = [f for f in after if now[(f.rule_id, f.container)] > was[(f.rule_id, f.container)]
           and f.severity >= fixed.severity and messages[_key(f)] == 0]
    if new:
        return f"the edit would add a finding ({new[0].rule_id}: {new[0].message})"
    if now[(fixed.rule_id, fixed.container)] >= was[(fixed.rule_id, fixed.container)]:
        return "the edit would not resolve the finding"
    return ""


_with_fixes: dict[int, tuple[engine.Settings, engine.Settings]] = {}


def with_fixes(settings: engine.Settings) -> engine.Settings:
    """The same settings with edits spelt out; one object per original, so the
    process pool's table of distinct settings stays small."""
    if settings.fixes:
        return settings
    known = _with_fixes.get(id(settings))
    if known is None or known[0] is not settings:
        from caplint.values import replace

        known = (settings, replace(settings, fixes=True))
        _with_fixes[id(settings)] = known
    return known[1]


def fix_file(path: str, kind: str, settings: engine.Settings, unsafe: bool, *, write: bool) -> Outcome:
    """Fix one file on disk; with `write`, replace it when something changed."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(settings.max_bytes + 1)
        if len(data) > settings.max_bytes:
            return Outcome(path, "", "", [], error="it is over the size limit; not fixed")
        written = splice.Written.read(data, path)
    except OSError as err:
        return Outcome(path, "", "", [], error=f"cannot read it: {err.strerror or err}")
    except ReadError as err:
        return Outcome(path, "", "", [], error=f"cannot read it: {err.problem.message}")
    outcome = fix_text(path, written.text, kind, settings, unsafe)
    if write and outcome.changed:
        outcome.error = _replace(path, data, written.encode(outcome.after))
        if outcome.error:
            outcome.after = outcome.before
    return outcome


def _replace(path: str, original: bytes, new: bytes) -> str:
    """Write `new` over `path` unless it changed since it held `original`; '' or why not."""
    target = os.path.realpath(path)  # through a symlink: the link stays a link
    try:
        with open(target, "rb") as fh:
            if fh.read(len(original) + 1) != original:
                return "it changed on disk since caplint read it; not overwritten (run caplint again)"
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError as err:
        return f"cannot read it again before writing: {err.strerror or err}"
    # The write bits are honoured even for root, who could write anyway: a file
    # or folder marked read-only is not caplint's to change.
    if not os.access(target, os.W_OK) or not mode & 0o222:
        return "it is read-only; not fixed"
    folder = os.path.dirname(target) or "."
    if not os.access(folder, os.W_OK) or not stat.S_IMODE(os.stat(folder).st_mode) & 0o222:
        return f"its folder {folder} is read-only, so it cannot be replaced safely; not fixed"
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".caplint")
    except OSError as err:
        return f"cannot write in its folder {folder}: {err.strerror or err}; not fixed"
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(new)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as err:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return f"cannot write it: {err.strerror or err}; not fixed"
    return ""
