"""Inline suppressions: `# caplint: ignore[CAP306] reason` and `# caplint: ignore-file`.

One syntax for every format, in the format's own comments: `#` in Dockerfiles,
Compose files, scripts and CI YAML (a `run:` script's shell comments are YAML
text that is a comment to the shell, so they count there too); `//` or
`/* … */` in devcontainer.json (JSON with comments); in systemd and Quadlet units,
Makefiles and Bake HCL `#`; and Markdown's own comment
`<!-- caplint: ignore[CAP101] why -->`, which covers the block after it (a
whole fenced block); inside a fence, a snippet's own `#` comments work too:

- `# caplint: ignore[CAP101,CAP306] why` at the end of a line covers that line;
  on a line of its own it covers the next line that is not a comment. Either way
  it covers the whole *logical* line: every physical line of a `\\`-continued
  shell command or Dockerfile instruction. A comment cannot sit inside a
  continued shell command, so the comment above its first line must reach the
  flag three lines further down.
- `# caplint: ignore` without a list covers every rule.
- `# caplint: ignore-file` (or `ignore-file[CAP204]`) anywhere covers the file.

What counts as a comment is decided lexically, on the comment's own line: the
`#` starts the line or follows whitespace, and is not inside a quoted string
that opened earlier on that line. That is exact for Dockerfiles, Compose files
and nearly every script; the price is that a `# caplint:` line inside a heredoc
body or a multi-line YAML string also counts — which is rare, and the worst it
can do is hide a finding on the next line, visibly, in the author's own words.

A suppression, or one of its ids, that suppresses nothing becomes an
unused-suppression finding (CAP002), but only for rules that were run: under
`--select CAP1`, `ignore[CAP306]` is not "unused".
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from caplint import lazyre
from caplint.model import Finding, Span
from caplint.values import value

UNUSED_ID = "CAP002"
_MARKER = lazyre.compile(r"(?:#|//|/\*)\s*caplint\s*:\s*(?P<directive>[\w-]*)(?:\[(?P<codes>[^\]]*)\])?")
_JSONC = frozenset({"devcontainer"})
_YAML_KINDS = frozenset({"github", "gitlab"})
# A YAML block scalar's header: `key: |`, `- >-`, `run: |2 # comment`.
_BLOCK_HEADER = lazyre.compile(r"(:|^\s*-)\s+[|>][-+0-9]*\s*(#.*)?$")
# Formats whose `\`-continued line runs on past comment and blank lines.
_SKIPS_COMMENTS_IN_CONTINUATION = frozenset({"dockerfile", "systemd", "quadlet", "quadlet-drop-in"})
# Formats where only a whole line is a comment: in a unit file, `#` after a
# value is part of the value (systemd.syntax(7)), so it suppresses nothing.
_LINE_COMMENTS_ONLY = frozenset({"systemd", "quadlet", "quadlet-drop-in"})
# Markdown's comment: `<!-- caplint: ignore[CAP101] why -->` on a line of its
# own covers the block after it, a whole fenced block included.
_HTML_MARKER = lazyre.compile(r"^[ \t>]*(?P<marker><!--\s*caplint\s*:\s*(?P<directive>[\w-]*)(?:\[(?P<codes>[^\]]*)\])?)")
_FENCE = lazyre.compile(r"^[ \t>]*(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@value
class Suppression:
    span: Span  # the `# caplint: …` marker itself
    text: str  # the marker as written, for messages
    codes: frozenset[str] | None  # None: every rule
    lines: frozenset[int] | None  # None: the whole file
    valid: bool = True  # False: `# caplint: something-else`

    def covers(self, finding: Finding) -> bool:
        # A finding may sit in another file than the one linted (a Quadlet
        # drop-in's value): only that file's own comments cover it.
        return (finding.span.path == self.span.path
                and (self.lines is None or finding.span.line in self.lines)
                and (self.codes is None or finding.rule_id in self.codes))


@value
class Unused:
    """A suppression (or one id of it) that suppressed nothing: becomes a CAP002 finding."""

    span: Span
    message: str
    advice: str


def comment_start(line: str) -> int | None:
    """The index of the `#` that starts a comment on this line, or None."""
    quote: str | None = None
    escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            if ch == quote:
                quote = None
        elif ch == '"' or (ch == "'" and (i == 0 or not line[i - 1].isalnum())):
            # An apostrophe inside a word (`it's`) opens nothing in YAML; in shell it
            # would, but then the script itself is broken on this line.
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return i
    return None


def jsonc_comment_start(line: str) -> int | None:
    """The index of a `//` or `/*` that starts a comment on this line, outside strings."""
    quoted = escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted and ch == "/" and line[i + 1:i + 2] in ("/", "*"):
            return i
    return None


def logical_lines(lines: Sequence[str], kind: str | None, escape: str = "\\") -> list[range]:
    """Groups of 1-based physical line numbers that form one command or instruction.

    Dockerfiles skip blank and comment lines inside a continued instruction; a
    shell script ends the command there. In YAML a block scalar (`options: >-`,
    `run: |`) is one group with its header line, since no comment can sit inside
    an options string; a `run:` script's own shell comments still cover their
    next line.
    """
    if kind in _YAML_KINDS:
        return _yaml_blocks(lines)
    groups: list[range] = []
    start = 0
    continued = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if continued and kind in _SKIPS_COMMENTS_IN_CONTINUATION and (not stripped or stripped.startswith(("#", ";"))):
            continue
        continued = line.rstrip(" \t").endswith(escape)
        if not continued:
            groups.append(range(start + 1, i + 2))
            start = i + 1
    if start < len(lines):
        groups.append(range(start + 1, len(lines) + 1))
    return groups


def _yaml_blocks(lines: Sequence[str]) -> list[range]:
    groups: list[range] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        end = i + 1
        if _BLOCK_HEADER.search(line):
            indent = len(line) - len(line.lstrip(" "))
            while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip(" ")) > indent):
                end += 1
            while end > i + 1 and not lines[end - 1].strip():
                end -= 1
        groups.append(range(i + 1, end + 1))
        i = end
    return groups


def _dockerfile_escape(lines: Sequence[str]) -> str:
    from caplint.formats.dockerfile.directives import escape_char  # only Dockerfiles have one: not loaded for the rest

    return escape_char(lines)


def scan(text: str, path: str, kind: str | None = None) -> list[Suppression]:
    """Every `# caplint:` comment in the file, with the lines each covers."""
    if "caplint" not in text:
        return []  # the common case, and the fast path
    lines = text.split("\n")
    group_of: dict[int, range] = {}
    for group in logical_lines(lines, kind, _dockerfile_escape(lines) if kind == "dockerfile" else "\\"):
        for n in group:
            group_of[n] = group
    found: list[Suppression] = []
    for number, line in enumerate(lines, start=1):
        if "caplint" not in line:
            continue
        html = _HTML_MARKER.match(line) if kind == "markdown" else None
        if html is not None:
            found.append(_suppression(html, Span(path, number, html.start("marker") + 1, number, html.end() + 1),
                                      frozenset({number, *_next_block(lines, number)})))
            continue
        start = jsonc_comment_start(line) if kind in _JSONC else comment_start(line)
        if start is None:
            continue
        m = _MARKER.match(line, start)
        if m is None:
            continue
        own_line = not line[:start].strip()
        if not own_line and kind in _LINE_COMMENTS_ONLY:
            continue
        target = _next_code_line(lines, number, kind in _JSONC) if own_line else number
        covered = frozenset(group_of.get(target, range(target, target + 1))) if target else frozenset()
        # Its own line too, so that `ignore[CAP101, CAP002]` can silence its own CAP002.
        covered |= {number}
        found.append(_suppression(m, Span(path, number, m.start() + 1, number, m.end() + 1), covered))
    return found


def _next_block(lines: Sequence[str], number: int) -> range:
    """The Markdown block after line `number`: a whole fenced block, or the next non-blank line."""
    n = next((k for k in range(number + 1, len(lines) + 1) if lines[k - 1].strip()), None)
    if n is None:
        return range(0)
    opener = _FENCE.match(lines[n - 1])
    if opener is None:
        return range(n, n + 1)
    fence = opener.group("fence")
    for k in range(n + 1, len(lines) + 1):
        closer = _FENCE.match(lines[k - 1])
        if closer and closer.group("fence")[0] == fence[0] and len(closer.group("fence")) >= len(fence) \
                and not closer.group("info").strip():
            return range(n, k + 1)
    return range(n, len(lines) + 1)  # an unterminated fence runs to the end


def _next_code_line(lines: Sequence[str], number: int, jsonc: bool = False) -> int | None:
    """The first line after `number` that is not a comment: stacked comments share a target."""
    prefixes = ("//", "/*") if jsonc else ("#",)
    for n in range(number + 1, len(lines) + 1):
        if not lines[n - 1].lstrip().startswith(prefixes):
            return n
    return None


def _suppression(m: re.Match[str], span: Span, covered: frozenset[int]) -> Suppression:
    directive = m.group("directive").lower()
    raw_codes = m.group("codes")
    codes = None if raw_codes is None else frozenset(
        c.strip().upper() for c in raw_codes.split(",") if c.strip()
    )
    text = m.group("marker") if "marker" in m.re.groupindex else m.group(0)
    if directive == "ignore-file":
        return Suppression(span, text, codes, None)
    return Suppression(span, text, codes, covered, valid=directive == "ignore")


def apply(
    findings: Iterable[Finding],
    suppressions: Sequence[Suppression],
    *,
    ran: frozenset[str],
    known: frozenset[str],
    every_rule_ran: bool,
) -> tuple[list[Finding], list[Unused]]:
    """The findings no suppression covers, and the suppressions that covered nothing.

    `ran` are the rule ids run on this file, `known` every installed rule id.
    """
    active = [s for s in suppressions if s.valid]
    used: dict[int, set[str]] = {i: set() for i in range(len(active))}
    kept: list[Finding] = []
    for finding in findings:
        hits = [i for i, s in enumerate(active) if s.covers(finding)]
        for i in hits:
            used[i].add(finding.rule_id)
        if not hits:
            kept.append(finding)
    unused = [Unused(s.span, f"`{s.text}` is not a caplint suppression: write "
                             "`caplint: ignore[CAPnnn]` or `caplint: ignore-file`",
                     f"write `{_rewritten(s, s.codes)}` to suppress {_what(s.codes)} here, or delete the comment")
              for s in suppressions if not s.valid]
    for i, s in enumerate(active):
        unused.extend(_unused(s, used[i], ran, known, every_rule_ran))
    return kept, unused


def _unused(s: Suppression, used: set[str], ran: frozenset[str], known: frozenset[str],
            every_rule_ran: bool) -> Iterable[Unused]:
    where = "in this file" if s.lines is None else "here"
    if s.codes is None:
        # A blanket suppression can only be called unused when no rule was left out.
        if not used and every_rule_ran:
            yield Unused(s.span, f"`{s.text}` suppresses nothing {where}; remove it", f"delete `{s.text}`")
        return
    if not s.codes:
        yield Unused(s.span, f"`{s.text}` names no rule; write `ignore[CAPnnn]`, or `ignore` for every rule",
                     f"name the rules it is for, `{_rewritten(s, frozenset({'CAPnnn'}))}`, or delete it")
        return
    stale = {code for code in s.codes - used if code not in known or (code in ran and code != UNUSED_ID)}
    kept = s.codes - stale
    advice = f"write `{_rewritten(s, kept)}`" if kept else f"delete `{s.text}`"
    for code in sorted(stale):
        if code not in known:
            yield Unused(s.span, f"`{s.text}` names {code}, which is not a caplint rule (see 'caplint rules')",
                         f"{advice}, or correct {code} to the id of the finding it is meant for")
        elif code in ran and code != UNUSED_ID:
            yield Unused(s.span, f"`{s.text}`: no {code} finding {where} to suppress; remove {code}", advice)


def _rewritten(s: Suppression, codes: frozenset[str] | None) -> str:
    """The suppression as it should read, naming `codes` (None: every rule)."""
    directive = "ignore" if s.lines is not None else "ignore-file"
    return f"# caplint: {directive}" + (f"[{', '.join(sorted(codes))}]" if codes else "")


def _what(codes: frozenset[str] | None) -> str:
    return ", ".join(sorted(codes)) if codes else "every rule"
