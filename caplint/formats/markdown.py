"""Markdown (`*.md`): the runnable snippets in fenced code blocks, at the host's lines and columns.

Fences are found by a CommonMark parser (markdown-it-py, its block rules
only: inline markup cannot hold a fence), so a fence inside a list item or a
block quote counts and an indented ``` inside another fence does not. By the
fence's language tag (its info string's first word, any case):

- `sh`, `bash`, `shell`, `zsh`: a shell script; if its first command line
  starts with a `$ ` prompt, it is read as a `console` block instead;
- `console` (also `shell-session`, `sh-session`): only the lines after a
  `$ ` or `# ` prompt, with their `\\` continuations (a `> ` prompt on a
  continued line is dropped); every other line is output and ignored;
- `dockerfile`, `containerfile`: a Dockerfile;
- `yaml`, `yml`: a Compose file, only when it is Compose by content.

Untagged, `text` and other fences, inline code and prose are never read.
A snippet is documentation, not a file any tool runs whole, so the snippet's
own syntax errors are not reported: CommonMark itself refuses nothing (an
unterminated fence runs to the end of its container).

A file without a fence of those languages is not parsed at all: a cheap
search for such a fence opener comes first.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from caplint.formats.embedded import Region
from caplint.model import ParseResult

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

_SHELL = frozenset({"sh", "bash", "shell", "zsh"})
_CONSOLE = frozenset({"console", "shell-session", "sh-session", "shellsession"})
_DOCKERFILE = frozenset({"dockerfile", "containerfile"})
_YAML = frozenset({"yaml", "yml"})
_TAGS = _SHELL | _CONSOLE | _DOCKERFILE | _YAML
# A fence opener with one of those tags, wherever a container block may put it.
_OPENER = re.compile(r"^[ \t>*+\-0-9.)]*(```|~~~)[ \t]*\{?[ \t]*\.?(" + "|".join(sorted(_TAGS, key=len, reverse=True))
                     + r")(?![\w-])", re.IGNORECASE | re.MULTILINE)
_PROMPT = re.compile(r"^[ \t]*[$#] ")
_PS2 = re.compile(r"^[ \t]*> ")
_MD: MarkdownIt | None = None


def parse(text: str, path: str) -> ParseResult:
    result = ParseResult()
    if not _OPENER.search(text):
        return result  # the common case: no runnable fence, no parse
    lines = text.split("\n")
    for token in _markdown().parse(text):
        if token.type != "fence" or token.map is None:
            continue
        tag = _tag(token.info)
        if tag not in _TAGS:
            continue
        body = _body_lines(token, lines)
        if tag in _SHELL and not _is_console(body):
            _read(result, _region(path, body), "shell")
        elif tag in _SHELL or tag in _CONSOLE:
            _read(result, _region(path, _console_lines(body)), "shell")
        elif tag in _DOCKERFILE:
            _read(result, _region(path, body), "dockerfile")
        else:
            _read(result, _region(path, body), "yaml")
    return result


def _markdown() -> MarkdownIt:
    global _MD
    if _MD is None:
        from markdown_it import MarkdownIt

        _MD = MarkdownIt("commonmark")
        # Only the blocks that can hold, end or hide a fence: inline parsing is
        # most of the time and cannot, and a heading is a one-line block that a
        # fence may follow either way (measured: a third less on heading-rich text).
        _MD.core.ruler.disable(["inline", "text_join"])
        _MD.block.ruler.disable(["heading", "lheading"])
        # Paragraphs are most of a document and most of its tokens (three
        # each): a multi-megabyte README held ~150 MB of them. Read them
        # without tokens.
        _MD.block.ruler.at("paragraph", _paragraph_without_tokens)
    return _MD


def _paragraph_without_tokens(state: Any, start: int, _end: int, _silent: bool) -> bool:
    """CommonMark's paragraph, consumed but not kept: only its extent matters here.

    A paragraph is the fallback block: it takes the following lines until a
    blank one or one that opens a block allowed to interrupt a paragraph (a
    fence among them, which is why the extent must be right). Lines indented
    four or more past the container, and lines a block quote continues
    lazily (a negative count in the parser's state), cannot interrupt it.
    """
    interrupters = state.md.block.ruler.getRules("paragraph")
    outer = state.parentType
    state.parentType = "paragraph"  # the list rule asks: an item interrupts a paragraph only in some forms
    line = start + 1
    while line < state.lineMax and not state.isEmpty(line):
        indent = state.sCount[line]
        if indent - state.blkIndent <= 3 and indent >= 0 and any(
                rule(state, line, state.lineMax, True) for rule in interrupters):
            break
        line += 1
    state.parentType = outer
    state.line = line
    return True


def _tag(info: str) -> str:
    word = info.strip().lstrip("{").strip().lstrip(".").split(None, 1)
    return re.split(r"[^\w-]", word[0], maxsplit=1)[0].lower() if word else ""


def _body_lines(token: Any, lines: list[str]) -> list[tuple[str, int, int]]:
    """The fence's content lines, each with its host line and column.

    The parser strips what the containers (list indentation, `> `) and the
    fence's own indentation take from each line; what is left is the end of
    the host line, so its column is found from there."""
    content = token.content.split("\n")
    if content and content[-1] == "":
        content.pop()
    first = token.map[0] + 1  # 0-based host line of the first content line
    out = []
    for i, text in enumerate(content):
        host = lines[first + i] if first + i < len(lines) else ""
        column = len(host) - len(text) + 1 if host.endswith(text) else 1
        out.append((text, first + i + 1, column))
    return out


def _is_console(body: list[tuple[str, int, int]]) -> bool:
    """A shell fence written as a session: its first command line has a `$ ` prompt."""
    for text, _, _ in body:
        if text.strip() and not text.lstrip().startswith("#"):
            return text.lstrip().startswith("$ ")
    return False


def _console_lines(body: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """The commands of a session: prompt lines without the prompt, and their continuations."""
    out: list[tuple[str, int, int]] = []
    continued = False
    for text, line, column in body:
        if continued:
            m = _PS2.match(text)
            cut = m.end() if m else 0
        else:
            m = _PROMPT.match(text)
            if m is None:
                out.append(("", line, column))  # output: an empty line keeps the line count simple
                continue
            cut = m.end()
        rest = text[cut:]
        out.append((rest, line, column + cut))
        continued = rest.rstrip().endswith("\\")
    return out


def _region(path: str, body: list[tuple[str, int, int]]) -> Region:
    return Region.from_lines(path, body)


def _read(result: ParseResult, region: Region, kind: str) -> None:
    """Parse a snippet as `kind` and keep what it declares (not its syntax errors), at host positions."""
    if not region.text.strip():
        return
    if kind == "shell":
        from caplint.formats.shell import parser as shell

        found = region.parse_with(shell.parse)
    elif kind == "dockerfile":
        from caplint.formats.dockerfile import parser as dockerfile

        found = region.parse_with(dockerfile.parse)
    else:
        from caplint.formats.compose import parser as compose

        found = region.lift(compose.parse(region.text, region.path, require_services=True))
    result.containers.extend(found.containers)
    result.images.extend(found.images)
