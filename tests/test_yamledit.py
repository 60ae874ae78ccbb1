"""An edited YAML document re-read in place (`caplint.formats.yamledit`) must
be the tree parsing the whole text gives, node for node — kind, tag, value,
style, and every start and end line and column — after any edit,
including the ones that break the document or its layout. The edits are the
ones typing makes: characters inserted or deleted anywhere, YAML's own
punctuation above all, and whole lines replaced (the number of lines kept,
which is when the re-read is tried; other edits parse the whole text)."""
from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caplint.formats import yamledit, yamlnodes
from conftest import FIXTURES

SERVICES = "".join(
    f"  app{n}:\n    image: registry.example.com/app{n}:1.{n}\n    cap_drop: [ALL]\n"
    f"    cap_add:\n      - NET_BIND_SERVICE\n    volumes:\n      - ./data:/data\n"
    f"    command: >\n      run --port 80{n}\n    environment:\n      LEVEL: \"info\"\n\n"
    for n in range(4))
DOCUMENTS = [
    "services:\n" + SERVICES,
    "version: '3.8'\nservices:\n" + SERVICES + "volumes:\n  data: {}\n",
    "---\n# a stack\nservices:\n" + SERVICES + "x-notes: |\n  kept\n",
    *sorted(p.read_text(encoding="utf-8") for p in (FIXTURES / "compose").rglob("*")
            if p.is_file() and p.suffix in (".yml", ".yaml")),
]
SNIPPETS = [" ", "  ", "\t", ":", ": ", "-", "- ", "#", " #", "'", '"', "[", "]", "{", "}", ",", "&a ", "*a", "!!str ",
            "|", ">", "?", "%", "---", "...", "x", "privileged: true", "\\", "\u2028", "${V}", "<<: "]
LINES = ["", "    privileged: true", "  app9:", "    cap_add: [SYS_ADMIN]", "volumes:", "    - x", "  # note",
         "      - /dev/kvm", "    command: |", "x-y: &anchor", "    <<: *anchor", "    image: 'quoted", "services:"]

edit = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 200), st.sampled_from(SNIPPETS)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.integers(0, 200), st.integers(1, 4)),
    st.tuples(st.just("line"), st.integers(0, 10_000), st.just(0), st.sampled_from(LINES)),
    # Lines moved: Enter typed inside a line, a line break deleted, a line added or removed.
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 200), st.sampled_from(["\n", "\n    ", "\n  "])),
    st.tuples(st.just("join"), st.integers(0, 10_000), st.just(0), st.just(0)),
    st.tuples(st.just("add"), st.integers(0, 10_000), st.just(0), st.sampled_from(LINES)),
    st.tuples(st.just("remove"), st.integers(0, 10_000), st.just(0), st.just(0)),
)


def apply_edit(text: str, op: str, line: int, column: int, what: Any) -> str:
    lines = text.split("\n")
    line %= len(lines)
    here = lines[line]
    column = min(column, len(here))
    if op == "insert":
        lines[line] = here[:column] + what + here[column:]
    elif op == "delete":
        lines[line] = here[:column] + here[column + what:]
    elif op == "join":
        lines[line:line + 2] = ["".join(lines[line:line + 2])]
    elif op == "add":
        lines.insert(line, what)
    elif op == "remove" and len(lines) > 1:
        del lines[line]
    elif op == "line":
        lines[line] = what
    return "\n".join(lines)


def _shape(node: Any, seen: dict[int, int] | None = None) -> Any:
    """Everything a parser reads from a node, positions included; a node met
    again (an alias, perhaps of itself) by the order it was first met in."""
    if node is None:
        return None
    seen = {} if seen is None else seen
    if id(node) in seen:
        return ("alias", seen[id(node)])
    seen[id(node)] = len(seen)
    marks = (node.start_mark.line, node.start_mark.column, node.end_mark.line, node.end_mark.column)
    head = (node.id, node.tag, marks)
    if node.id == "scalar":
        return (*head, node.value, node.style)
    if node.id == "sequence":
        return (*head, node.flow_style, [_shape(n, seen) for n in node.value])
    return (*head, node.flow_style, [(_shape(k, seen), _shape(v, seen)) for k, v in node.value])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(DOCUMENTS), st.lists(edit, min_size=1, max_size=12))
def test_a_document_read_again_after_edits_is_the_tree_of_its_whole_text(text: str, edits: list[Any]) -> None:
    last = yamledit.load(text, "compose.yaml", "services")
    for op, line, column, what in edits:
        text = apply_edit(text, op, line, column, what)
        last = yamledit.load(text, "compose.yaml", "services", last)
        root, problem = yamlnodes.load(text, "compose.yaml")
        assert (last.problem, _shape(last.root)) == (problem, _shape(root))


def _services(loaded: yamledit.Loaded) -> list[tuple[Any, Any]]:
    return list(loaded.root.value[0][1].value)


def test_an_edit_inside_one_service_reparses_that_service_only() -> None:
    text = "services:\n" + SERVICES
    first = yamledit.load(text, "compose.yaml", "services")
    edited = text.replace("app2:1.2", "app2:1.3")
    again = yamledit.load(edited, "compose.yaml", "services", first)
    before, after = _services(first), _services(again)
    assert [a is b for a, b in zip(before, after)] == [True, True, False, True]
    assert _shape(again.root) == _shape(yamlnodes.load(edited, "compose.yaml")[0])
    assert first.root.value[0][1].value == before  # the old tree is left as it was


def test_a_line_typed_in_one_service_reparses_it_and_those_after_it() -> None:
    text = "services:\n" + SERVICES + "volumes:\n  data: {}\n"
    first = yamledit.load(text, "compose.yaml", "services")
    edited = text.replace("  app1:\n", "  app1:\n    user: root\n")
    again = yamledit.load(edited, "compose.yaml", "services", first)
    assert [a is b for a, b in zip(_services(first), _services(again))] == [True, False, False, False]
    assert _shape(again.root) == _shape(yamlnodes.load(edited, "compose.yaml")[0])
    whole = yamledit.load(edited, "compose.yaml", "services").layout  # the layout read from scratch
    assert again.layout is not None and whole is not None
    assert (again.layout.starts, again.layout.end) == (whole.starts, whole.end) == ([1, 13, 26, 38], 50)
    # and the next keystroke, in the last service, is read in place with the moved layout
    typed = edited.replace("app3:1.3", "app3:1.4")
    third = yamledit.load(typed, "compose.yaml", "services", again)
    assert [a is b for a, b in zip(_services(again), _services(third))] == [True, True, True, False]
    assert _shape(third.root) == _shape(yamlnodes.load(typed, "compose.yaml")[0])


def test_edits_the_reread_cannot_vouch_for_parse_the_whole_text() -> None:
    text = "services:\n" + SERVICES
    first = yamledit.load(text, "compose.yaml", "services")
    for edited in (
        text.replace("  app1:", "  app1b:"),  # a key
        text.replace("    image: registry.example.com/app1", "  image: registry.example.com/app1"),  # a dedent
        text.replace("      run --port 801", "      run --port 8\u20281"),  # a line break the editor does not count
    ):
        again = yamledit.load(edited, "compose.yaml", "services", first)
        root, problem = yamlnodes.load(edited, "compose.yaml")
        assert (again.problem, _shape(again.root)) == (problem, _shape(root))
        assert again.root is None or not any(a is b for a, b in zip(_services(first), _services(again)))


def test_a_document_with_an_alias_is_always_parsed_whole() -> None:
    text = "x-base: &base\n  restart: always\nservices:\n  a:\n    <<: *base\n    image: x\n  b:\n    image: y\n"
    first = yamledit.load(text, "compose.yaml", "services")
    assert first.layout is None
    again = yamledit.load(text.replace("image: y", "image: z"), "compose.yaml", "services", first)
    assert again.layout is None and again.root is not first.root


def test_libyaml_composes_as_ruamels_own_loader_does() -> None:
    """yamlnodes composes with libyaml directly (ruamel's YAML.compose builds a
    loader class on every call): the same nodes, and the same texts refused,
    on every YAML file of the fixtures and on broken ones."""
    from ruamel.yaml import YAML

    ruamel = YAML(typ="safe", pure=False)
    ruamel.Resolver = yamlnodes._tags_as_written()
    texts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.rglob("*"))
             if p.is_file() and p.suffix in (".yml", ".yaml")]
    texts += ["a: [b, c", "a: *nowhere", "- [no-new-privileges:true]", "a:\n\tb: 1", "", "---\n...\n", "a: &x [1, *x]"]
    assert len(texts) > 30
    for text in texts:
        try:
            expected = _shape(ruamel.compose(text))
        except Exception as err:  # noqa: BLE001 — what libyaml refuses, whatever its class
            expected = type(err).__name__
        found = yamlnodes.compose_libyaml(text)
        assert (found is yamlnodes.REFUSED and isinstance(expected, str)) or _shape(found) == expected
