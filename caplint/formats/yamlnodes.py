"""Safe YAML loading to a node tree, and helpers over ruamel.yaml nodes.

Only `compose()` is used: it builds nodes with line/column marks and never
constructs Python objects, so tags such as `!!python/object` stay inert text.
Aliases are shared nodes, not copies, so an alias bomb costs no memory here.
"""
from __future__ import annotations

import re
import warnings
from typing import Any

from caplint.model import Problem, Span
from caplint import lazyre

# Deeper nesting than this crashes the C composer (native stack) or Python's
# recursion limit; no real Compose file comes within a factor of 50 of it.
MAX_DEPTH = 200
_DEEP_LINE = lazyre.compile(r"^[ \t\-?:]{%d,}" % MAX_DEPTH, re.MULTILINE)
_NESTING = lazyre.compile(r"[\"'\[\]{}]")
# ruamel.yaml (its pure-Python parser above all) also breaks lines at these;
# the engine and editors count only \n, so spans would drift.
OTHER_BREAKS = "\r\x85\u2028\u2029"

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


def too_deep(text: str) -> int:
    """The line where nesting passes MAX_DEPTH, or 0. Cheap unless the file is odd."""
    return flow_too_deep(text) or _indented_too_deep(text)


def flow_too_deep(text: str) -> int:
    """The line where flow collections (`[`, `{`, outside quotes) nest deeper than MAX_DEPTH, or 0."""
    if text.count("[") + text.count("{") > MAX_DEPTH:
        # From one bracket or quote to the next (a quote runs to the next of
        # its kind), not character by character: a file of many flow lists is
        # read on every keystroke in an editor.
        depth = 0
        at = 0
        while (m := _NESTING.search(text, at)) is not None:
            ch, at = m.group(), m.end()
            if ch in "\"'":
                end = text.find(ch, at)
                if end < 0:
                    break
                at = end + 1
            elif ch in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return text.count("\n", 0, m.start()) + 1
            else:
                depth = max(0, depth - 1)
    return 0


def _indented_too_deep(text: str) -> int:
    # Only a line of MAX_DEPTH characters or more can be indented that far.
    if len(text) < MAX_DEPTH or max(map(len, text.split("\n"))) < MAX_DEPTH:
        return 0
    m = _DEEP_LINE.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else 0


def load(text: str, path: str) -> tuple[Any, Problem | None]:
    """The root node (None for an empty document) or the problem that stopped parsing."""
    deep = too_deep(text)
    if deep:
        return None, Problem(Span.point(path, deep), f"YAML nested too deeply (over {MAX_DEPTH} levels or columns of indentation); not parsed")
    for other in OTHER_BREAKS:
        if other in text:
            text = text.replace(other, " ")
    with warnings.catch_warnings():
        # ruamel warns on stderr about a reused anchor name, which YAML allows
        # (an alias means the latest anchor); stderr is not ours to write to.
        warnings.simplefilter("ignore")
        return _compose(text, path)


# What compose_libyaml returns for a text libyaml refuses (None is an empty document's root).
REFUSED = object()


def compose_libyaml(text: str) -> Any:
    """The root libyaml reads from `text` (already through `load`'s checks), or
    REFUSED. libyaml is YAML 1.1 and rejects what Compose accepts, such as
    `[no-new-privileges:true]` in a flow list; the pure-Python parser follows
    YAML 1.2 there. It is ten times slower, so it is only the second opinion,
    and its verdict is the one reported."""
    from ruamel.yaml.error import YAMLError

    composing = _libyaml_composer()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # see load
            if composing is None:  # no ruamel.yaml.clib here: ruamel reads with its own parser
                return _yaml(pure=False).compose(text)
            composer = composing(text)
            try:
                return composer.get_single_node()
            finally:
                composer.dispose()
    except (YAMLError, RecursionError, ValueError):
        return REFUSED


_composers: list[type | None] = []


def _libyaml_composer() -> type | None:
    """libyaml's parser and composer with the resolver of _tags_as_written: all
    that composing needs (None without ruamel.yaml.clib). ruamel's
    `YAML.compose` builds such a class anew on every call, and a constructor
    and its state besides: a tenth of a millisecond, on every keystroke in an editor."""
    if not _composers:
        try:
            from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
        except ImportError:
            _composers.append(None)
            return None
        resolver: Any = _tags_as_written()

        class Composer(CParser, resolver):  # type: ignore[misc]
            def __init__(self, stream: str) -> None:
                CParser.__init__(self, stream)
                resolver.__init__(self, loader=self)

        _composers.append(Composer)
    return _composers[0]


def _compose(text: str, path: str) -> tuple[Any, Problem | None]:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    root = compose_libyaml(text)
    if root is not REFUSED:
        return root, None
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


def tag_of(node: Any) -> str | None:
    """The node's resolved tag, as `node.tag` gives it (that property builds a
    new string on every read, and the hot paths read it for every key)."""
    ctag = node.ctag
    return None if ctag is None else ctag.trval


def implicit_type(node: Any) -> str | None:
    """"a number" or "a boolean" for a scalar YAML reads as one (`0`, `1.5`,
    `true`, `!!int 0`), None for a string (quoted, `yes`, `root`)."""
    tag = tag_of(node)
    if tag == INT or tag == FLOAT:
        return "a number"
    if tag == BOOL:
        return "a boolean"
    if node.style:
        return None
    text = str(node.value)
    if text in _BOOLEAN:
        return "a boolean"
    return "a number" if _NUMBER_CHARS.issuperset(text) and _NUMBER.fullmatch(text) else None


def is_null(node: Any) -> bool:
    return node is None or (node.id == "scalar" and (tag_of(node) == NULL or node.value in ("", "~", "null", "Null", "NULL")
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
        if tag_of(key) == MERGE or (key.id == "scalar" and key.value == "<<" and not key.style):
            for source in (value.value if is_seq(value) else [value]):
                if is_map(source):
                    for k, kv in mapping_items(source, None, path, memo).items():
                        merged.setdefault(k, kv)
            continue
        if key.id != "scalar":
            continue
        if key.value in own and problems is not None:
            problems.append(Problem(span(key, path), f"duplicate key {key.value!r} (the mapping already has it)"))
        own[key.value] = (key, value)
    result = {**merged, **own}
    memo[id(node)] = result
    return result
