"""String tests that stand in for regular expressions on a one-file run's path.

Compiling a pattern costs a tenth of a millisecond or more, on every editor save
(issue 16), so the checks every Compose file meets are written with string
methods. Each must answer exactly as the expression it replaced, which is kept
here as the reference; Hypothesis draws from the expression itself and from
near misses.
"""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from caplint import hostpaths
from caplint.formats import yamlnodes
from caplint.formats.compose.runtime import first_port
from caplint.formats.compose.volumes import has_drive

# Letters, digits of other scripts (`\d` is any Unicode decimal digit), and the
# separators these checks look at.
_NEAR = st.text(st.sampled_from("0123456789٣߂-/_:\\$.{}~ aZzé\nudptcHOMEvkmsgrlopnbx"), max_size=14)

_PORT = re.compile(r"^(\d+)(?:-(\d+))?(?:/\w+)?$")


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.from_regex(_PORT, fullmatch=True), _NEAR))
def test_first_port_is_the_port_pattern(text: str) -> None:
    m = _PORT.match(text.strip())
    assert first_port(text.strip()) == (int(m.group(1)) if m else None)


_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.from_regex(_DRIVE), _NEAR, st.text(max_size=4)))
def test_has_drive_is_the_drive_pattern(text: str) -> None:
    assert has_drive(text) == bool(_DRIVE.match(text))


_HOME = re.compile(r"^(\$HOME(?![A-Za-z0-9_])|\$\{HOME\})(?=/|$)")


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.from_regex(_HOME), st.builds("".join, st.lists(st.sampled_from(
    ["$HOME", "${HOME}", "$HOMEDIR", "${HOME:-/x}", "/", ".ssh", "x", "_", "$", "~"]), max_size=4))))
def test_home_relative_is_the_home_pattern(written: str) -> None:
    m = _HOME.match(written)
    if m is not None and m.end() < len(written) and written[m.end()] == "\n":
        return  # `$` also matches before a final newline; no path ends in one
    assert hostpaths.home_relative(written) == (None if m is None else "~" + written[m.end():])


_DEVICES = [
    (re.compile(r"/dev/?$"), "every host device"),
    (re.compile(r"/dev/(mem|kmem|port)$"), "raw host memory or I/O ports"),
    (re.compile(r"/dev/kmsg$"), "the kernel log, writable"),
    (re.compile(r"/dev/(sd|hd|vd|xvd)[a-z]+\d*$"), "a host disk (block device)"),
    (re.compile(r"/dev/nvme\d+(n\d+)?(p\d+)?$"), "a host NVMe disk (block device)"),
    (re.compile(r"/dev/(mmcblk\d+(p\d+)?|md\d+|dm-\d+|loop\d+|loop-control|nbd\d+|sr\d+)$"), "a host block device"),
    (re.compile(r"/dev/(disk|mapper|raw)(/.*)?$"), "host disks (block devices)"),
]
_DEVICE_NAMES = ["", "mem", "kmem", "port", "kmsg", "sda", "sdb1", "hdz", "vda2", "xvdf", "nvme0", "nvme0n1p2", "mmcblk0p1",
                 "md0", "dm-3", "loop7", "loop-control", "nbd1", "sr0", "disk", "disk/by-id/x", "mapper/root", "raw",
                 "kvm", "fuse", "net/tun", "dri", "memx", "sd", "snd", "rawx", "disks", "kmsg/"]


@settings(max_examples=600, deadline=None)
@given(st.builds(lambda head, name, tail: head + name + tail, st.sampled_from(["/dev/", "/dev", "/", "/dev//", "./dev/"]),
                 st.sampled_from(_DEVICE_NAMES), st.sampled_from(["", "/", "1", "x", "/a"])))
def test_dangerous_device_is_the_device_table(path: str) -> None:
    norm = hostpaths.normalize_host_path(path)
    expected = next((why for pattern, why in _DEVICES if pattern.match(norm)), None)
    assert hostpaths.dangerous_device(path) == expected


@settings(max_examples=300, deadline=None)
@given(st.from_regex(yamlnodes._NUMBER.compiled, fullmatch=True))
def test_every_number_is_made_of_number_characters(text: str) -> None:
    # The character check only skips scalars the number pattern cannot match.
    assert yamlnodes._NUMBER_CHARS.issuperset(text)


def test_a_line_indented_past_the_limit_is_still_refused() -> None:
    deep = "a:\n" + " " * yamlnodes.MAX_DEPTH + "b: 1\n"
    root, problem = yamlnodes.load(deep, "deep.yml")
    assert root is None and problem is not None and problem.span.line == 2
    wide = "a: " + "x" * (yamlnodes.MAX_DEPTH * 2) + "\n"  # long, but not indented
    assert yamlnodes.load(wide, "wide.yml")[1] is None


def test_other_line_breaks_become_spaces_so_lines_count_as_editors_do() -> None:
    root, problem = yamlnodes.load("a: 1\r\nb: x\u2028y\x85z\u2029\nc: 3\n", "breaks.yml")
    assert problem is None
    items = yamlnodes.mapping_items(root)
    assert [items[k][1].start_mark.line for k in ("a", "b", "c")] == [0, 1, 2]
    assert items["b"][1].value == "x y z"


def _nesting_by_character(text: str) -> int:
    """too_deep's first reading as it was: character by character."""
    depth, line, quote = 0, 1, ""
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
            if depth > yamlnodes.MAX_DEPTH:
                return line
        elif ch in "]}":
            depth = max(0, depth - 1)
    return 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["[", "{", "]", "}", "[[[[", "{{{{{{{{", "'", '"', "\n", "a: ", "- ", "x"]), max_size=400)
       .map("".join))
def test_nesting_from_bracket_to_bracket_is_character_by_character(text: str) -> None:
    text = "[" * 180 + text  # near the limit, so both the deep and the shallow answers are drawn
    assert yamlnodes.flow_too_deep(text) == _nesting_by_character(text)
