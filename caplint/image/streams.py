"""Byte streams read forwards only, in bounded memory: a file, a window onto a
tar member, and gzip or zstd decompression with a limit on what comes out.

Nothing is ever written to disk. `skip` seeks where the bytes sit in a file and
reads and drops them where they come out of a decompressor.
"""
from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO, Protocol

CHUNK = 1 << 20
SEEK_CHUNK = 1 << 14  # what a reader that can seek over data reads at a time
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# A layer may decompress to this many times its size before it is taken for a
# compression bomb, once it has produced more than BOMB_FLOOR bytes: real
# layers compress 2–20 times, gzip's best (a run of zeros) is about 1,000.
BOMB_RATIO = 200
BOMB_FLOOR = 1 << 30


class ImageError(Exception):
    """The archive is broken or hostile; the message says how, for CAP001."""


class Stream(Protocol):
    def read(self, n: int) -> bytes:
        """Up to `n` bytes; fewer only at the end."""

    def skip(self, n: int) -> None:
        """Pass over `n` bytes; ImageError if the stream ends first."""


class FileStream:
    """A file opened for reading; `length` is what is left when it is known."""

    def __init__(self, fh: BinaryIO, length: int | None = None) -> None:
        self._fh = fh
        self.remaining = length
        self.seekable = length is not None  # skip() seeks

    def read(self, n: int) -> bytes:
        data = self._fh.read(n)
        if len(data) < n and data:  # an unbuffered file may return less than asked before its end
            parts = [data]
            while (got := sum(map(len, parts))) < n and (more := self._fh.read(n - got)):
                parts.append(more)
            data = b"".join(parts)
        if self.remaining is not None:
            self.remaining -= len(data)
        return data

    def skip(self, n: int) -> None:
        if self.remaining is not None:
            if n > self.remaining:
                raise ImageError(f"truncated: {n} bytes to pass over, only {self.remaining} left")
            self._fh.seek(n, 1)
            self.remaining -= n
            return
        _drain(self, n)


class FileRegion:
    """`size` bytes of a file from `start`, read with pread(2) where there is one:
    passing over data is arithmetic, not a system call, and nothing is read twice."""

    seekable = True

    def __init__(self, fh: BinaryIO, start: int, size: int) -> None:
        self._fh = fh
        self._fd = fh.fileno()
        self._pos = start
        self.remaining = size

    def _pread(self, n: int, at: int) -> bytes:
        if _PREAD is not None:
            data = _PREAD(self._fd, n, at)
            while 0 < len(data) < n and (more := _PREAD(self._fd, n - len(data), at + len(data))):
                data += more
            return data
        self._fh.seek(at)
        return self._fh.read(n)

    def peek(self, n: int) -> bytes:
        return self._pread(min(n, self.remaining), self._pos)

    def read(self, n: int) -> bytes:
        data = self._pread(min(n, self.remaining), self._pos)
        self._pos += len(data)
        self.remaining -= len(data)
        return data

    def skip(self, n: int) -> None:
        if n > self.remaining:
            raise ImageError(f"truncated: {n} bytes to pass over, only {self.remaining} left")
        self._pos += n
        self.remaining -= n


_PREAD: Callable[[int, int, int], bytes] | None = getattr(os, "pread", None)  # POSIX; elsewhere seek and read


class Window:
    """The next `size` bytes of `parent`, e.g. the data of one tar member."""

    def __init__(self, parent: Stream, size: int) -> None:
        self._parent = parent
        self.remaining = size
        self._head = b""
        self.seekable: bool = getattr(parent, "seekable", False)

    def peek(self, n: int) -> bytes:
        if len(self._head) < n:
            more = self._parent.read(min(n - len(self._head), self.remaining - len(self._head)))
            self._head += more
        return self._head[:n]

    def read(self, n: int) -> bytes:
        n = min(n, self.remaining)
        if self._head:
            data, self._head = self._head[:n], self._head[n:]
            if len(data) < n:
                data += self._parent.read(n - len(data))
        else:
            data = self._parent.read(n)
        self.remaining -= len(data)
        return data

    def skip(self, n: int) -> None:
        if n > self.remaining:
            raise ImageError(f"truncated: {n} bytes to pass over, only {self.remaining} left")
        if self._head:
            taken = min(n, len(self._head))
            self._head = self._head[taken:]
            self.remaining -= taken
            n -= taken
        self._parent.skip(n)
        self.remaining -= n

    def finish(self, then: int = 0) -> None:
        """Pass over whatever of the window is left unread, and `then` more bytes of its parent."""
        rest, self._head = self.remaining - len(self._head), b""
        self.remaining = 0
        if rest + then:
            self._parent.skip(rest + then)


class Decompressed:
    """What a gzip (one or more members) or zstd stream decompresses to."""

    def __init__(self, source: Stream, kind: str) -> None:
        self._input = _Counted(source)
        self._kind = kind
        self._produce = _gzip(self._input) if kind == "gzip" else _zstd(self._input)
        self._buffer = b""
        self._pos = 0
        self._produced = 0

    def _fill(self, want: int) -> None:
        self._buffer, self._pos = self._buffer[self._pos:], 0
        while len(self._buffer) < want:
            out = self._produce(CHUNK)
            if not out:
                return
            self._produced += len(out)
            consumed = max(self._input.consumed, 1)
            if self._produced > BOMB_FLOOR and self._produced > BOMB_RATIO * consumed:
                raise ImageError(f"{self._kind} data expands more than {BOMB_RATIO} times "
                                 f"(over {self._produced >> 20} MiB from {consumed >> 10} KiB): "
                                 "a compression bomb, not read further")
            self._buffer += out

    def read(self, n: int) -> bytes:
        if len(self._buffer) - self._pos < n:
            self._fill(n)
        data = self._buffer[self._pos:self._pos + n]
        self._pos += len(data)
        return data

    def skip(self, n: int) -> None:
        _drain(self, n)


class Hashed:
    """A stream that hashes what passes through it (read or passed over alike).

    hashlib (and OpenSSL under it) is imported here, when an image is read, not
    when caplint starts."""

    ALGORITHMS = ("sha256", "sha512")  # what OCI digests use

    def __init__(self, source: Stream, algorithm: str = "sha256") -> None:
        import hashlib

        if algorithm not in self.ALGORITHMS:
            raise ImageError(f"digest algorithm {algorithm!r} is not one caplint can check "
                             f"({', '.join(self.ALGORITHMS)}); --no-verify reads the image unchecked")
        self._source = source
        self._hash = hashlib.new(algorithm)
        self.algorithm = algorithm

    @property
    def remaining(self) -> int | None:
        return getattr(self._source, "remaining", None)

    def read(self, n: int) -> bytes:
        data = self._source.read(n)
        self._hash.update(data)
        return data

    def skip(self, n: int) -> None:
        _drain(self, n)

    def finish(self) -> str:
        """Read the rest of the stream, and its digest: `sha256:<hex>`."""
        while self.read(CHUNK):
            pass
        return f"{self.algorithm}:{self._hash.hexdigest()}"


def _drain(stream: Stream, n: int) -> None:
    while n > 0:
        got = len(stream.read(min(n, CHUNK)))
        if got == 0:
            raise ImageError(f"truncated: {n} more bytes were expected")
        n -= got


class _Counted:
    """A stream as a file object for decompressors, counting what they take."""

    def __init__(self, source: Stream) -> None:
        self._source = source
        self.consumed = 0

    def read(self, n: int = CHUNK) -> bytes:
        data = self._source.read(n if n > 0 else CHUNK)
        self.consumed += len(data)
        return data


def _gzip(source: _Counted) -> Callable[[int], bytes]:
    """A producer of at most `limit` decompressed bytes per call; b'' at the end."""
    z = zlib.decompressobj(wbits=31)
    pending = b""

    def produce(limit: int) -> bytes:
        nonlocal z, pending
        while True:
            if z.eof:
                rest = z.unused_data + pending
                if not rest:
                    rest = source.read(CHUNK)
                if not rest.startswith(GZIP_MAGIC):
                    return b""  # trailing zeros after the last member are allowed
                z, pending = zlib.decompressobj(wbits=31), rest
            if not pending:
                pending = source.read(CHUNK)
                if not pending:
                    raise ImageError("truncated gzip data")
            try:
                out = z.decompress(pending, limit)
            except zlib.error as err:
                raise ImageError(f"corrupt gzip data ({err})") from None
            pending = z.unconsumed_tail
            if out:
                return out

    return produce


def _zstd(source: _Counted) -> Callable[[int], bytes]:
    module: Any = zstd_module()
    # stream_reader's read(n) returns at most n bytes, so a small frame that
    # expands hugely never lands in memory at once.
    reader = module.ZstdDecompressor().stream_reader(source, read_size=CHUNK, read_across_frames=True)

    def produce(limit: int) -> bytes:
        try:
            return reader.read(limit)  # type: ignore[no-any-return]
        except module.ZstdError as err:
            raise ImageError(f"corrupt zstd data ({err})") from None

    return produce


def zstd_module() -> object:
    """The `zstandard` package, or a clear error when it is not installed."""
    try:
        import zstandard
    except ImportError:
        raise ImageError("zstd-compressed, and no zstd library is installed to read it: "
                         "pip install 'caplint[zstd]' (the zstandard package)") from None
    return zstandard


def compression(head: bytes) -> str | None:
    """'gzip' or 'zstd' by the magic number, None for data that is not compressed."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return None
