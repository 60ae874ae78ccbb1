"""Makefile recipes: make's prefixes and `$$` taken off, every finding at the host column."""
from __future__ import annotations

from caplint.engine import lint_text


def _spans(text: str, rule: str) -> list[tuple[int, int, int]]:
    return [(f.span.line, f.span.column, f.span.end_column) for f in lint_text("Makefile", text) if f.rule_id == rule]


def test_dollar_dollar_is_one_dollar_and_columns_stay() -> None:
    text = "run:\n\t@-docker run --rm -v $$HOME/.aws:/root/.aws --cap-add=$$CAP --cap-add SYS_PTRACE x\n"
    assert _spans(text, "CAP313") == [(2, 23, 34)]
    assert _spans(text, "CAP202") == [(2, 72, 82)]


def test_continuation_lines_drop_their_tab() -> None:
    text = "run:\n\tdocker run \\\n\t\t--device /dev/sda \\\n\t  x\n"
    assert _spans(text, "CAP314") == [(3, 12, 20)]


def test_make_references_are_unknown_never_guessed() -> None:
    text = "CAPS = SYS_ADMIN\nrun:\n\tdocker run --cap-add=$(CAPS) --user=${USER_ID} x\n"
    rules = {f.rule_id for f in lint_text("Makefile", text)}
    assert not rules & {"CAP202", "CAP205", "CAP401"}


def test_recipe_prefix_and_define_blocks() -> None:
    text = (".RECIPEPREFIX = >\nall:\n> docker run --privileged x\n"
            "define RUN\n\tdocker run --pid=host x\nendef\n")
    assert {f.rule_id for f in lint_text("Makefile", text)} == {"CAP101"}


def test_shell_errors_in_recipes_are_not_make_errors() -> None:
    text = "all:\n\tdocker run --privileged 'x\n\techo $(if $(X),a,b\n"
    assert {f.rule_id for f in lint_text("Makefile", text)} == {"CAP101"}
