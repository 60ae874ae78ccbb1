"""Turns a file on disk (or stdin bytes) into text, or a clear problem.

Everything hostile about a file is handled here, once, so parsers only ever see
decoded text with `\\n` line endings.
"""
from __future__ import annotations

import codecs
import os
import stat

from caplint.model import Problem, Span

DEFAULT_MAX_BYTES = 5 * 1024 * 1024


class ReadError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _fail(path: str, message: str, line: int = 1) -> ReadError:
    return ReadError(Problem(Span.point(path, line), message))


def read_file(path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The decoded text of `path`; raises ReadError with a message fit for a user."""
    try:
        st = os.stat(path)
    except OSError as err:
        raise _fail(path, f"cannot read file: {err.strerror or err}") from None
    if stat.S_ISDIR(st.st_mode):
        raise _fail(path, "is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        # FIFOs, sockets and devices could block forever or never end.
        raise _fail(path, "is not a regular file (a FIFO, socket or device); not read")
    if st.st_size > max_bytes:
        raise _fail(path, f"file is {st.st_size:,} bytes, over the {max_bytes:,}-byte limit; "
                          "raise it with --max-file-size or max-file-size in the config")
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as err:
        raise _fail(path, f"cannot read file: {err.strerror or err}") from None
    if len(data) > max_bytes:
        raise _fail(path, f"file is over the {max_bytes:,}-byte limit; raise it with --max-file-size")
    return decode(data, path)


def decode(data: bytes, path: str) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; CRLF becomes LF."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise _fail(path, f"invalid UTF-16: {err.reason}") from None
    else:
        if b"\x00" in data:
            line = data.count(b"\n", 0, data.index(b"\x00")) + 1
            raise _fail(path, "binary file (contains NUL bytes); not a text file caplint can lint", line)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            line = data.count(b"\n", 0, err.start) + 1
            raise _fail(path, f"not valid UTF-8: byte 0x{data[err.start]:02x} at offset {err.start}", line) from None
    if "\r" in text:
        # A lone CR is a line break to YAML and to editors; make it one for all.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
