"""Safe YAML loading to a node tree, and helpers over ruamel.yaml nodes.

Only `compose()` is used: it builds nodes with line/column marks and never
constructs Python objects, so tags such as `!!python/object` stay inert text.
Aliases are shared nodes, not copies, so an alias bomb costs no memory here.
"""
from __future__ import annotations

import bisect
import re
import warnings
from typing import Any

from caplint.formats.embedded import Piece, Region
from caplint.model import Problem, Span
from caplint import lazyre

# Deeper nesting than this crashes the C composer (native stack) or Python's
# recursion limit; no real Compose file comes within a factor of 50 of it.
MAX_DEPTH = 200
_DEEP_LINE = lazyre.compile(r"^[ \t\-?:]{%d,}" % MAX_DEPTH, re.MULTILINE)
# ruamel.yaml (its pure-Python parser above all) also breaks lines at these;
# the engine and editors count only \n, so spans would drift.
_OTHER_BREAKS = "\r\x85\u2028\u2029"

# Boolean spellings Compose accepts, any case (compose-go's casts; checked
# against Compose v2 in tests/conformance): `1`, `0`, `t` and `f` are refused.
TRUE_WORDS = frozenset({"true", "yes", "on", "y"})
FALSE_WORDS = frozenset({"false", "no", "off", "n"})

MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
MERGE = "tag:yaml.org,2002:merge"
NULL = "tag:yaml.org,2002:null"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"

# YAML 1.2 core schema's plain numbers and booleans, as Compose's YAML library
# reads them (underscores allowed in numbers). Only matched on demand: nodes
# keep their default tag (see _tags_as_written).
_NUMBER = lazyre.compile(r"[-+]?(?:0x[0-9a-fA-F_]+|0o[0-7_]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"
                     r"|\.[0-9]+(?:[eE][-+]?[0-9]+)?|\.(?:inf|Inf|INF))|\.(?:nan|NaN|NAN)")
# Every character _NUMBER can match: a scalar with any other is no number, and
# most are (names, paths, images), so the pattern is compiled only for the rest.
_NUMBER_CHARS = frozenset("+-._0123456789abcdefABCDEFxoinfINFNa")
_BOOLEAN = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})

_loaders: dict[bool, Any] = {}


def _yaml(pure: bool) -> Any:
    if pure not in _loaders:
        from ruamel.yaml import YAML

        class Loader(YAML):
            def official_plug_ins(self) -> list[Any]:
                return []  # caplint loads no plug-ins; finding them is a glob of ruamel's folder on every start

        loader = Loader(typ="safe", pure=pure)
        loader.Resolver = _tags_as_written()
        _loaders[pure] = loader
    return _loaders[pure]


def _tags_as_written() -> type:
    """A resolver that gives every node its kind's default tag (explicit tags
    such as `!!null` are kept by the parser itself).

    ruamel's resolver matches every plain scalar against YAML's implicit-type
    regexes (bool, int, float, null, merge, timestamp…) so a constructor can
    build Python values; caplint constructs nothing and reads each scalar's
    text as Compose does (its own boolean spellings, `is_null`, the `<<`
    merge key by text), and that matching was a third of a Compose file's
    lint time.
    """
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
    from ruamel.yaml.resolver import BaseResolver

    class TagsAsWritten(BaseResolver):
        processing_version = (1, 2)  # read by the scanner for YAML 1.1-only forms

        def __init__(self, version: Any = None, loader: Any = None, loadumper: Any = None) -> None:
            BaseResolver.__init__(self, loader if loader is not None else loadumper)
            self._loader_version = version

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode:
                return self.DEFAULT_SCALAR_TAG
            if kind is SequenceNode:
                return self.DEFAULT_SEQUENCE_TAG
            if kind is MappingNode:
                return self.DEFAULT_MAPPING_TAG
            return None

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            pass  # no path resolvers: nothing to track on the way down

        def ascend_resolver(self) -> None:
            pass

    return TagsAsWritten


def _too_deep(text: str) -> int:
    """The line where nesting passes MAX_DEPTH, or 0. Cheap unless the file is odd."""
    if text.count("[") + text.count("{") > MAX_DEPTH:
        depth = 0
        line = 1
        quote = ""
        for ch in text:
            if ch == "\n":
                line += 1
            elif quote:
                if ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return line
            elif ch in "]}":
                depth = max(0, depth - 1)
    # Only a line of MAX_DEPTH characters or more can be indented that far.
    if len(text) < MAX_DEPTH or max(map(len, text.split("\n"))) < MAX_DEPTH:
        return 0
    m = _DEEP_LINE.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else 0


def load(text: str, path: str) -> tuple[Any, Problem | None]:
    """The root node (None for an empty document) or the problem that stopped parsing."""
    deep = _too_deep(text)
    if deep:
        return None, Problem(Span.point(path, deep), f"YAML nested too deeply (over {MAX_DEPTH} levels or columns of indentation); not parsed")
    for other in _OTHER_BREAKS:
        if other in text:
            text = text.replace(other, " ")
    with warnings.catch_warnings():
        # ruamel warns on stderr about a reused anchor name, which YAML allows
        # (an alias means the latest anchor); stderr is not ours to write to.
        warnings.simplefilter("ignore")
        return _compose(text, path)


def _compose(text: str, path: str) -> tuple[Any, Problem | None]:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return _yaml(pure=False).compose(text), None
    except MarkedYAMLError:
        # libyaml is YAML 1.1 and rejects what Compose accepts, such as
        # `[no-new-privileges:true]` in a flow list; the pure-Python parser
        # follows YAML 1.2 there. It is ten times slower, so it is only the
        # second opinion, and its verdict is the one reported.
        pass
    except (YAMLError, RecursionError, ValueError):
        pass
    try:
        return _yaml(pure=True).compose(text), None
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        what = " ".join(p for p in (err.context, err.problem) if p)
        return None, Problem(Span.point(path, line, col), f"invalid YAML: {what}")
    except (YAMLError, RecursionError, ValueError) as err:
        return None, Problem(Span.point(path, 1), f"invalid YAML: {err}")


def span(node: Any, path: str) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(path, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


def is_map(node: Any) -> bool:
    return node is not None and node.id == "mapping"


def is_seq(node: Any) -> bool:
    return node is not None and node.id == "sequence"


def is_scalar(node: Any) -> bool:
    return node is not None and node.id == "scalar"


def implicit_type(node: Any) -> str | None:
    """"a number" or "a boolean" for a scalar YAML reads as one (`0`, `1.5`,
    `true`, `!!int 0`), None for a string (quoted, `yes`, `root`)."""
    if node.tag in (INT, FLOAT):
        return "a number"
    if node.tag == BOOL:
        return "a boolean"
    if node.style:
        return None
    text = str(node.value)
    if text in _BOOLEAN:
        return "a boolean"
    return "a number" if _NUMBER_CHARS.issuperset(text) and _NUMBER.fullmatch(text) else None


def is_null(node: Any) -> bool:
    return node is None or (is_scalar(node) and (node.tag == NULL or node.value in ("", "~", "null", "Null", "NULL")
                                                  and not node.style))


def mapping_items(
    node: Any, problems: list[Problem] | None = None, path: str = "", _memo: dict[int, Any] | None = None
) -> dict[str, tuple[Any, Any]]:
    """key → (key node, value node), with `<<` merge keys applied as YAML defines them.

    Keys written in the mapping win over merged ones; among merged mappings the
    first listed wins. Each value node keeps its own mark, so a finding points
    where the value is written, even inside an anchor. Duplicate keys are
    reported (Compose rejects them) and the last one is used.

    Every merged mapping is resolved once per call (`_memo`), so a merge-key
    bomb — each anchor merging the previous one ten times — stays linear, and
    a recursive anchor that merges itself sees itself as empty.
    """
    memo: dict[int, Any] = {} if _memo is None else _memo
    if id(node) in memo:
        return memo[id(node)]  # type: ignore[no-any-return]
    memo[id(node)] = {}
    own: dict[str, tuple[Any, Any]] = {}
    merged: dict[str, tuple[Any, Any]] = {}
    for key, value in node.value:
        if key.tag == MERGE or (is_scalar(key) and key.value == "<<" and not key.style):
            for source in (value.value if is_seq(value) else [value]):
                if is_map(source):
                    for k, kv in mapping_items(source, None, path, memo).items():
                        merged.setdefault(k, kv)
            continue
        if not is_scalar(key):
            continue
        if key.value in own and problems is not None:
            problems.append(Problem(span(key, path), f"duplicate key {key.value!r} (the mapping already has it)"))
        own[key.value] = (key, value)
    result = {**merged, **own}
    memo[id(node)] = result
    return result


def line_starts(text: str) -> list[int]:
    """The offset where each line of `text` starts."""
    starts = [0]
    for line in text.split("\n")[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    return starts


class Host:
    """A YAML file's text with its line starts: what `region` needs to place a scalar."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.starts = line_starts(text)
        self.read: set[int] = set()  # ids of the nodes already read (aliases share nodes)

    def offset(self, mark: Any) -> int:
        line: int = mark.line
        column: int = mark.column
        return self.starts[min(line, len(self.starts) - 1)] + column

    def point(self, offset: int) -> tuple[int, int]:
        row = bisect.bisect_right(self.starts, offset) - 1
        return row + 1, offset - self.starts[row] + 1


def region(node: Any, host: Host) -> Region:
    """A scalar's value as an embedded Region: each character at the host line and
    column where it is written, whatever the style — a literal `|` block with
    its indentation cut, a folded `>-` block whose line breaks became spaces,
    plain and quoted scalars folded over lines, double-quoted escapes."""
    value: str = node.value
    start = host.offset(node.start_mark)
    style = node.style or ""
    if style in "|>" and style:
        newline = host.text.find("\n", start)
        start = len(host.text) if newline < 0 else newline + 1
        if style == "|":
            literal = _literal_lines(value, host, start)
            if literal is not None:
                return literal
    elif style in "\"'" and style:
        start += 1
    offsets = _align(value, host.text, start, style == '"')
    pieces: list[Piece] = []
    run_start = 0
    for i in range(1, len(value) + 1):
        if i == len(value) or offsets[i] != offsets[i - 1] + 1 or host.text[offsets[i - 1]:offsets[i - 1] + 1] == "\n":
            pieces.append(Piece(value[run_start:i], *host.point(offsets[run_start])))
            run_start = i
    return Region(host.path, pieces)


def _literal_lines(value: str, host: Host, start: int) -> Region | None:
    """A literal block line for line: each value line ends its host line."""
    row = bisect.bisect_right(host.starts, start) - 1
    lines = value.split("\n")
    final_break = lines[-1] == ""
    if final_break:
        lines.pop()  # the value's last line break: kept, at the end of its line
    pieces: list[Piece] = []
    for i, line in enumerate(lines):
        if row + i >= len(host.starts):
            return None
        begin = host.starts[row + i]
        end = host.starts[row + i + 1] - 1 if row + i + 1 < len(host.starts) else len(host.text)
        written = host.text[begin:end]
        if not written.endswith(line):
            return None
        newline = "\n" if i < len(lines) - 1 or final_break else ""
        pieces.append(Piece(line + newline, row + i + 1, len(written) - len(line) + 1))
    found = Region(host.path, pieces)
    return found if found.text == value else None


_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
            "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0",
            "L": "\u2028", "P": "\u2029"}
_HEX = {"x": 2, "u": 4, "U": 8}


def _escape(text: str, p: int) -> tuple[str | None, int]:
    """The character a double-quoted escape at `text[p]` (a backslash) stands for,
    and its length; None for an escaped line break (it stands for nothing)."""
    nxt = text[p + 1:p + 2]
    if nxt == "\n":
        return None, 2
    if nxt in _HEX:
        width = _HEX[nxt]
        try:
            return chr(int(text[p + 2:p + 2 + width], 16)), 2 + width
        except ValueError:
            return "", 2
    return _ESCAPES.get(nxt, nxt), 2


def _align(value: str, text: str, start: int, double: bool) -> list[int]:
    """For each character of a scalar's value, the host offset where it is written.

    Walks the host from the scalar's start, matching value characters and
    skipping what the value does not keep (indentation, folded line breaks,
    quotes, escapes); a character with no counterpart (a fold's space) sits
    where the walk is."""
    out: list[int] = []
    p, n = start, len(text)
    for v in value:
        while p < n:
            h = text[p]
            if h == v:
                out.append(p)
                p += 1
                break
            if double and h == "\\":
                decoded, width = _escape(text, p)
                if decoded is None:
                    p += width
                    continue
                out.append(p)
                p += width
                break
            if h in " \t\r\n\"'":
                p += 1
                continue
            out.append(p)
            break
        else:
            out.append(max(min(p, n) - 1, start))
    return out
