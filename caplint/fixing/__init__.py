"""Fixes: the edit that resolves a finding, spelt in the file's own format.

Rules say what to change, without a format (`Hit.remedy`: drop ALL and add
these back, add no-new-privileges, take this entry out) or, where the change is
a value replaced where it stands, as a ready edit (`Hit.fix`: a misspelt
capability). This package turns a remedy into text edits of the file the
container is written in — Compose keys in the service's own style
(`caplint.fixing.compose`), options after a command line's subcommand
(`caplint.fixing.cmdline`), Quadlet keys (`caplint.fixing.quadlet`), entries
of devcontainer.json's arrays (`caplint.fixing.devcontainer`) — or
says why it will not: a value that lives in a shared anchor, a merge key, a
`${VAR}` or another file is not edited here. `caplint.fixing.run` applies the
edits, one verified splice at a time.

Only imported when fixes are asked for (`--fix`, `--diff`, SARIF, the editor).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from caplint.model import Container, Fix, Hit, Image, Remedy

if TYPE_CHECKING:
    from caplint.fixing.compose import ComposeFile

# Why a format gets no edit of its own (its values are not command-line words
# caplint can splice, nor keys it knows how to add).
_NO_EDITS = {
    "github": "caplint does not edit a workflow's container options yet: write the options there by hand",
    "gitlab": "caplint does not edit this CI file's container settings yet: write them by hand",
    "bake": "caplint does not edit Bake files",
}


class Source:
    """One file's text, for spelling the edits of the hits found in it."""

    def __init__(self, path: str, text: str, kind: str | None) -> None:
        self.path = path
        self.text = text
        self.kind = kind
        self._compose: object | None = None

    def fix(self, subject: Container | Image, hit: Hit) -> tuple[Fix | None, str]:
        """The hit's edit, or None and why there is none ('' when no fix is known)."""
        if isinstance(subject, Image):
            return hit.fix, ""  # a Dockerfile's own edits (CAP402) stand where the value is
        if hit.fix is not None:
            why = self.refusal(subject, hit.fix)
            return (None, why) if why else (hit.fix, "")
        if hit.remedy is None:
            return None, ""
        return self.spell(subject, hit.remedy)

    def refusal(self, c: Container, fix: Fix) -> str:
        """Why a rule's own edit must not be made here, or ''."""
        if any(e.span.path != self.path for e in fix.edits):
            return "the value is written in another file: fix it there"
        if c.source_kind == "compose":
            return self.embedded_compose() or self.compose().outside(c, fix)
        return ""

    def spell(self, c: Container, remedy: Remedy) -> tuple[Fix | None, str]:
        if c.source_kind == "compose":
            embedded = self.embedded_compose()
            return (None, embedded) if embedded else self.compose().spell(c, remedy)
        if c.source_kind == "devcontainer":
            from caplint.fixing import devcontainer

            return devcontainer.spell(self.path, self.text, c, remedy)
        if c.source_kind == "quadlet":
            from caplint.fixing import quadlet

            return quadlet.spell(self.path, self.text, c, remedy)
        if c.options_at is not None:
            from caplint.fixing import cmdline

            return cmdline.spell(self.text, c, remedy)
        if c.source_kind in _NO_EDITS:
            return None, _NO_EDITS[c.source_kind]
        return None, "the command's subcommand is not written as plain text, so caplint cannot tell where options go"

    def embedded_compose(self) -> str:
        """Why a Compose service of this file is not edited: it sits in a Markdown fence."""
        if self.kind == "markdown" or (self.kind is None and self.path.lower().endswith((".md", ".markdown"))):
            return "caplint does not edit Compose files shown in Markdown: change the fence by hand"
        return ""

    def compose(self) -> ComposeFile:
        from caplint.fixing.compose import ComposeFile

        if self._compose is None:
            self._compose = ComposeFile(self.path, self.text)
        assert isinstance(self._compose, ComposeFile)
        return self._compose
