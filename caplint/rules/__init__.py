"""The rule API: a rule is an id, a name, a severity, a docstring and a check.

A rule module defines rules with the `@rule` decorator and lists each one under
the `caplint.rules` entry-point group (the entry-point name is the rule id), the
same way a third-party plugin does. The engine, not the rule, stamps the id and
severity on what `check` yields, and applies configuration and suppressions.
"""
from __future__ import annotations

import inspect
from functools import lru_cache
from collections.abc import Callable, Iterable
from typing import Any, Union

from caplint.model import Container, Hit, Image, Severity
from caplint.values import value

Subjects = tuple[Union[type[Container], type[Image]], ...]
Check = Callable[[Any], Iterable[Hit]]


@value
class Rule:
    id: str
    name: str
    severity: Severity
    # What the check reads: Container and/or Image; empty for the pseudo-rules
    # the engine raises itself (CAP001 parse errors).
    subjects: Subjects
    check: Check
    # The docstring as written; `doc` is its cleaned form. Cleaning thirty
    # long docstrings on every start-up cost milliseconds, and a lint run
    # never reads them (explain, docs and SARIF do).
    raw_doc: str
    tags: tuple[str, ...] = ()
    precision: str = "very-high"
    # The fix text of a finding whose hit brings none: what a pseudo-rule's
    # findings say, and the fallback for a plugin rule that gives no advice.
    advice: str = ""

    @property
    def default_advice(self) -> str:
        """`advice`, else the first paragraph of the docs' "Use instead"."""
        if self.advice:
            return self.advice
        first = self.section("Use instead").split("\n\n", 1)[0].split("```", 1)[0]
        return " ".join(first.split()).rstrip(":") or f"see the documentation of {self.id}"

    @property
    def doc(self) -> str:
        return _clean(self.raw_doc)

    @property
    def summary(self) -> str:
        """The first line of the docs, used as a one-line description."""
        return self.doc.strip().splitlines()[0].strip() if self.doc.strip() else self.name

    def section(self, heading: str) -> str:
        """The text under one `## heading` of the rule's docs."""
        marker = f"## {heading}"
        text = self.doc
        start = text.find(marker)
        if start < 0:
            return ""
        start += len(marker)
        end = text.find("\n## ", start)
        return text[start: end if end >= 0 else None].strip()


@lru_cache(maxsize=None)
def _clean(text: str) -> str:
    return inspect.cleandoc(text)


def _never(_: Any) -> Iterable[Hit]:
    return ()


def rule(
    id: str,
    name: str,
    severity: Severity,
    subjects: Subjects,
    *,
    tags: tuple[str, ...] = (),
    precision: str = "very-high",
) -> Callable[[Check], Rule]:
    """Turn a `check(subject)` generator function into a Rule; its docstring is the docs.

    `check` is called once per subject of a type in `subjects` and yields Hits.
    """

    def wrap(check: Check) -> Rule:
        return Rule(
            id=id,
            name=name,
            severity=severity,
            subjects=subjects,
            check=check,
            raw_doc=check.__doc__ or "",
            tags=("security", "containers", *tags),
            precision=precision,
        )

    return wrap


def pseudo_rule(id: str, name: str, severity: Severity, doc: str, *, advice: str,
                tags: tuple[str, ...] = ()) -> Rule:
    """A rule whose findings the engine raises itself, not a check over the model;
    `advice` is their fix text unless the engine has a more specific one."""
    return Rule(id, name, severity, (), _never, doc, ("security", "containers", *tags), advice=advice)
