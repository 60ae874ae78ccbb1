"""Embedded regions: positions of what another parser found, mapped back to the host."""
from __future__ import annotations

from caplint.formats.embedded import Piece, Region
from caplint.formats.shell import parser as shell
from caplint.formats.shell.commands import commands
from caplint.model import Problem, Span


def _host_text(host: str, span: Span) -> str:
    lines = host.split("\n")
    assert span.line == span.end_line
    return lines[span.line - 1][span.column - 1:span.end_column - 1]


def test_indented_lines_map_to_their_host_columns() -> None:
    host = ("steps:\n"
            "  - run: |\n"
            "      echo hi\n"
            "      docker run --privileged \\\n"
            "        --cap-add=SYS_ADMIN alpine\n")
    lines = host.split("\n")
    region = Region.from_lines("w.yml", [(lines[i][6:], i + 1, 7) for i in range(2, 5)])
    assert region.line_offset is None
    (container,) = region.lift(shell.parse(region.text, region.path)).containers
    assert container.privileged is not None
    assert container.privileged.span == Span("w.yml", 4, 18, 4, 30)
    assert _host_text(host, container.privileged.span) == "--privileged"
    (cap,) = container.cap_add
    assert cap.span == Span("w.yml", 5, 19, 5, 28)
    assert _host_text(host, cap.span) == "SYS_ADMIN"
    assert container.span == Span("w.yml", 4, 7, 5, 35)


def test_pieces_re_spelled_within_a_line() -> None:
    # A Makefile recipe `\t@docker run -v $$HOME:/h x`: the prefix is cut and
    # `$$` is one `$`, so the characters after it sit one column further right.
    host = "\t@docker run -v $$HOME:/h --privileged x"
    region = Region("Makefile", [Piece("docker run -v $", 1, 3), Piece("HOME:/h --privileged x", 1, 19)])
    assert region.text == "docker run -v $HOME:/h --privileged x"
    (container,) = region.lift(shell.parse(region.text, region.path)).containers
    assert container.privileged is not None
    assert _host_text(host, container.privileged.span) == "--privileged"
    (mount,) = container.mounts
    assert mount.source is not None
    assert mount.source.span.column == 17  # the first `$` of `$$HOME`


def test_folded_lines_keep_each_line_s_position() -> None:
    # `options: >-` folds two host lines into one with a space between them.
    region = Region("w.yml", [Piece("--cap-add NET_ADMIN", 3, 7), Piece(" ", 3, 26), Piece("--device /dev/net/tun", 4, 7)])
    assert region.text == "--cap-add NET_ADMIN --device /dev/net/tun"
    assert region.span(Span("w.yml", 1, 21, 1, 29)) == Span("w.yml", 4, 7, 4, 15)
    assert region.span(Span("w.yml", 1, 11, 1, 20)) == Span("w.yml", 3, 17, 3, 26)


def test_an_end_on_a_piece_boundary_stays_on_its_piece() -> None:
    region = Region("f", [Piece("ab", 1, 5), Piece("cd", 2, 9)])
    assert region.span(Span("f", 1, 1, 1, 3)) == Span("f", 1, 5, 1, 7)
    assert region.span(Span("f", 1, 3, 1, 5)) == Span("f", 2, 9, 2, 11)
    assert region.span(Span("f", 1, 3, 1, 3)) == Span("f", 2, 9, 2, 9)


def test_a_line_shift_is_passed_as_first_line_and_not_walked() -> None:
    region = Region.from_lines("Dockerfile", [("    docker run --privileged x", 7, 1), ("", 8, 1), ("id", 9, 1)])
    assert region.line_offset == 6
    calls: list[int] = []

    def parse(text: str, path: str, *, first_line: int = 1) -> tuple[list[object], list[Problem]]:
        calls.append(first_line)
        return commands(text, path, first_line=first_line)

    found, _ = region.parse_with(parse, first_line=True)
    assert calls == [7]
    assert [c.span.line for c in found] == [7, 9]
    # the same through the generic walk
    walked, _ = region.lift(commands(region.text, region.path))
    assert [c.span for c in walked] == [c.span for c in found]


def test_problems_are_lifted_too() -> None:
    region = Region.from_lines("w.yml", [("echo 'open", 10, 9)])
    result = region.lift(shell.parse(region.text, region.path))
    (problem,) = result.problems
    assert (problem.span.line, problem.span.column) == (10, 14)


def test_positions_past_the_text_are_clamped() -> None:
    region = Region.from_lines("f", [("abc", 4, 3)])
    assert region.span(Span("f", 9, 9, 9, 12)) == Span("f", 4, 6, 4, 6)
    assert Region("f", []).span(Span("f", 1, 1, 1, 1)) == Span("f", 1, 1, 1, 1)
