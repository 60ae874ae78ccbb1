"""What `caplint check --fix / --diff` does with the files it was given.

Every file is linted first (in worker processes for a large tree), with its
edits spelt out; only the files that have a wanted fix are then fixed, here,
one by one (`caplint.fixing.run`). The remaining findings are the report; the
notes say what was fixed, what was dropped or refused and why, and which files
could not be written — the other files are fixed all the same.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from caplint import engine
from caplint.discover import Found
from caplint.fixing.run import SAFE_RULES, Outcome, fix_file, fix_text, wanted, with_fixes
from caplint.model import Finding


@dataclass
class Result:
    findings: list[Finding]  # what remains
    outcomes: list[Outcome] = field(default_factory=list)
    unsafe: bool = False

    @property
    def fixed(self) -> int:
        return sum(len(o.fixed) for o in self.outcomes if not o.error)

    def changed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.changed]

    def hidden(self) -> int:
        """Fixes left because they are unsafe and --unsafe-fixes was not given."""
        return 0 if self.unsafe else sum(1 for f in self.findings if f.fix is not None and not f.fix.safe)

    def notes(self, cwd: str) -> list[str]:
        """One line per file not written, edit dropped and fix refused."""
        out = []
        for o in self.outcomes:
            shown = _shown(o.path, cwd)
            if o.error:
                out.append(f"{shown}: {o.error}")
            for f, why in o.dropped:
                out.append(f"{shown}:{f.span.line}: {f.rule_id} not fixed: {why}")
        for f in self.findings:
            if f.unfixable and (self.unsafe or f.rule_id in SAFE_RULES):
                out.append(f"{_shown(f.span.path, cwd)}:{f.span.line}: {f.rule_id} not fixed: {f.unfixable}")
        return out

    def summary(self, diff: bool) -> str:
        verb = "would be applied" if diff else "applied"
        files = len({o.path for o in self.outcomes if o.changed})
        text = f"{self.fixed} fix{'es' if self.fixed != 1 else ''} {verb}"
        if self.fixed:
            text += f" in {files} file{'s' if files != 1 else ''}"
        hidden = self.hidden()
        if hidden:
            text += f"; {hidden} more available with --unsafe-fixes"
        return text + "."


def _shown(path: str, cwd: str) -> str:
    rel = os.path.relpath(path, cwd) if os.path.isabs(path) else path
    return path if rel.startswith("..") else rel


def fix_found(found: Sequence[Found], settings_for: engine.SettingsFor, *, jobs: int, unsafe: bool,
              write: bool) -> Result:
    from caplint import parallel

    def fixing(path: str) -> engine.Settings:
        return with_fixes(settings_for(path))

    if jobs > 1 and len(found) >= max(parallel.PARALLEL_MIN_FILES, 2 * jobs):
        per_file = parallel.map_files(found, fixing, jobs)
    else:
        per_file = [engine.lint_file(f.path, f.kind, fixing(f.path)) for f in found]
    result = Result([], unsafe=unsafe)
    groups = []
    for f, findings in zip(found, per_file):
        if any(wanted(x, unsafe) and x.span.path == f.path for x in findings):
            outcome = fix_file(f.path, f.kind, fixing(f.path), unsafe, write=write)
            result.outcomes.append(outcome)
            if not outcome.error:
                findings = outcome.findings
        groups.append(findings)
    result.findings = engine.merge_sorted(groups)
    return result


def fix_stdin(name: str, text: str, settings: engine.Settings, unsafe: bool) -> Result:
    outcome = fix_text(name, text, None, settings, unsafe)
    return Result(outcome.findings, [outcome], unsafe=unsafe)
