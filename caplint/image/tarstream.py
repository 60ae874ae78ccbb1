"""A tar reader for hostile archives: headers only, forwards only, bounded memory.

It reads ustar, GNU (long names, base-256 numbers, old-style sparse members)
and PAX (per-file records, `SCHILY.xattr.*` extended attributes, GNU sparse
0.0/0.1/1.0) headers. Every size is checked before anything is read: a PAX
header or GNU long name larger than a small limit, a member larger than what is
left of the archive, a bad checksum or a short read is an ImageError naming the
member, never a crash or an unbounded read.

It is the hot loop of `caplint image` (a big image has hundreds of thousands of
entries), so it reads its source in 1 MiB chunks and parses each 512-byte
header in place with one `struct.unpack_from`; member data it is not asked for
is passed over inside the chunk, or by the source's `skip` (a seek in a file),
never copied. Only what an entry needs is decoded: a folder's or a symlink's
mode and owner are never parsed, a file's owner only when asked.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

from caplint.image.streams import CHUNK, SEEK_CHUNK, ImageError, Stream, Window

BLOCK = 512
MAX_PAX = 1 << 20  # real PAX headers are a few hundred bytes
MAX_LONG_NAME = 1 << 16
MAX_SPARSE_BLOCKS = 1 << 16  # extension headers of an old GNU sparse member
XATTR_PREFIX = "SCHILY.xattr."
CAPABILITY_XATTR = "security.capability"

ZERO_BLOCK = bytes(BLOCK)
# What every header is read for: name, mode, -uid, gid-, size, -mtime-, checksum, typeflag, linkname, magic;
# the owner (uid, gid, -size, mtime, checksum, typeflag, linkname, magic, version-, uname, gname) only on request.
_HEADER = struct.Struct("100s8s16x12s12x8sc100s6s")
_OWNER = struct.Struct("100x8x8s8s12x12x8xx100x6x2x32s32s")
_NAMES: dict[bytes, str] = {}  # owner and group names, decoded once
_NUL = b"\0"

# Typeflags → what the member is; unknown flags are regular files (POSIX),
# and so is an old GNU sparse member ('S'): its data is stored in pieces.
_KINDS = {b"0": "file", b"\0": "file", b"7": "file", b"S": "file", b"1": "hardlink", b"2": "symlink",
          b"3": "other", b"4": "other", b"5": "dir", b"6": "other"}


class Member:
    """One tar member as its headers describe it (PAX records applied).

    `mode` is parsed for files and hard links only (nothing else is judged by
    its mode); the owner is parsed on request, by `owner()`."""

    __slots__ = ("name", "kind", "size", "mode", "linkname", "xattrs", "_raw", "_pax")

    def __init__(self, name: str, kind: str, size: int, mode: int, linkname: str, xattrs: dict[str, bytes] | None,
                 raw: tuple[bytes, int], pax: dict[str, bytes] | None) -> None:
        self.name = name
        self.kind = kind
        self.size = size
        self.mode = mode
        self.linkname = linkname
        self.xattrs = xattrs
        self._raw = raw  # the buffer holding the header, and where it starts
        self._pax = pax

    @property
    def capability(self) -> bytes | None:
        return self.xattrs.get(CAPABILITY_XATTR) if self.xattrs else None

    def owner(self) -> tuple[int, int, str, str]:
        """(uid, gid, user name, group name), PAX records first."""
        uid, gid, uname, gname = _OWNER.unpack_from(*self._raw)
        pax = self._pax or {}
        return (_pax_int(pax["uid"], "uid", self.name) if "uid" in pax else _number(uid, "uid", self.name),
                _pax_int(pax["gid"], "gid", self.name) if "gid" in pax else _number(gid, "gid", self.name),
                _pax_text(pax, "uname") or _name(uname), _pax_text(pax, "gname") or _name(gname))


def _number(field: bytes, what: str, name: str) -> int:
    """An octal header number, or GNU base-256 when the top bit is set."""
    try:
        return int(field.rstrip(b" \0") or b"0", 8)  # the common case, fast
    except ValueError:
        pass
    if field and field[0] & 0x80:
        if field[0] == 0xFF:
            raise ImageError(f"member {name!r}: negative {what}")
        return int.from_bytes(field[1:], "big")
    text = field.split(_NUL, 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        value = int(text, 8)
    except ValueError:
        value = -1
    if value < 0:
        raise ImageError(f"member {name!r}: {what} {text!r} is not an octal number")
    return value


def _text(raw: bytes) -> str:
    return raw.partition(_NUL)[0].decode("utf-8", "surrogateescape")


def _checksum_ok(buf: bytes, at: int) -> bool:
    """Whether the header at `buf[at:at+512]` has the checksum it claims.

    The sum of its bytes (the checksum field counted as spaces) comes from
    zlib's Adler-32, whose low half is 1 + the byte sum mod 65521: exact for an
    ASCII header (its sum is below 512 × 127 < 65521), which nearly all are;
    any other is summed byte by byte, signed too (some old tars summed chars)."""
    field = buf[at + 148:at + 156]
    try:
        stored = int(field.partition(_NUL)[0] or b"x", 8)
    except ValueError:
        return False
    counted = 256 - sum(field)  # the field's own bytes, counted as 8 spaces
    block = buf[at:at + BLOCK]
    if block.isascii():
        return stored == ((zlib.adler32(block) & 0xFFFF) - 1) % 65521 + counted
    unsigned = sum(block) + counted
    if stored == unsigned:
        return True
    return stored == unsigned - 256 * sum(1 for b in block[:148] + block[156:] if b > 127)


def looks_like_tar(head: bytes) -> bool:
    """Whether `head` (at least one block) starts with a valid tar header."""
    return len(head) >= BLOCK and (head[:BLOCK] == ZERO_BLOCK or _checksum_ok(head, 0))


def _pax_records(data: bytes, name: str) -> dict[str, bytes]:
    """`LEN key=value\\n` records; values stay bytes (xattr values are binary)."""
    records: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            break  # NUL padding
        space = data.find(b" ", pos, pos + 20)
        try:
            length = int(data[pos:space]) if space > pos else 0
        except ValueError:
            length = 0
        end = pos + length
        if length <= 0 or end > len(data) or data[end - 1:end] != b"\n":
            raise ImageError(f"member {name!r}: malformed PAX record at byte {pos} of its header")
        key, eq, value = data[space + 1:end - 1].partition(b"=")
        if not eq:
            raise ImageError(f"member {name!r}: PAX record without '=' at byte {pos} of its header")
        records[key.decode("utf-8", "surrogateescape")] = value
        pos = end
    return records


class TarReader:
    """Members of one tar stream, in order. Unread data is passed over on `next()`.

    The reader buffers its source, so a member's data is read through
    `data()` (which serves the buffered part first)."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream
        # Where data can be passed over by a seek, small reads, so that most of a
        # large file is never read; elsewhere (decompressed, hashed) big ones.
        self._chunk = SEEK_CHUNK if getattr(stream, "seekable", False) else CHUNK
        self._buf = b""
        self._pos = 0
        self._base = 0  # the source's offset of _buf[0]
        self._pending = 0  # bytes of the current member (data and padding) not yet passed over
        self._size = 0  # the current member's data
        self._data: Window | None = None
        self.ended = False

    # -- the buffer ---------------------------------------------------------

    def _more(self, need: int) -> bool:
        """At least `need` bytes buffered from the current position, unless the source ends first."""
        rest = self._buf[self._pos:]
        self._base += self._pos
        self._pos = 0
        while len(rest) < need:
            chunk = self._stream.read(max(self._chunk, need - len(rest)))
            if not chunk:
                self._buf = rest
                return False
            rest = rest + chunk if rest else chunk
        self._buf = rest
        return True

    def _take(self, n: int) -> bytes:
        """Up to `n` bytes: what is buffered first, then the source's."""
        pos, buf = self._pos, self._buf
        if pos + n <= len(buf):
            self._pos = pos + n
            return buf[pos:pos + n]
        head = buf[pos:]
        self._base += len(buf)
        self._buf, self._pos = b"", 0
        want = n - len(head)
        tail = self._stream.read(want)
        self._base += len(tail)
        return head + tail if head else tail

    def _pass(self, n: int) -> None:
        """Pass over `n` bytes (a member's data): inside the buffer, else by the source's skip."""
        pos = self._pos + n
        if pos <= len(self._buf):
            self._pos = pos
            return
        beyond = pos - len(self._buf)
        self._base += len(self._buf)
        self._buf, self._pos = b"", 0
        self._check_room(beyond)
        self._stream.skip(beyond)
        self._base += beyond

    def _check_room(self, size: int, name: str | None = None) -> None:
        remaining = getattr(self._stream, "remaining", None)
        if remaining is not None and size > remaining + len(self._buf) - self._pos:
            left = remaining + len(self._buf) - self._pos
            if name is None:
                raise ImageError(f"truncated: {size} bytes to pass over, only {left} left")
            raise ImageError(f"member {name!r} claims {size} bytes, but only {left} are left: "
                             "the tar is truncated, or the header lies")

    def _payload(self, size: int, limit: int, what: str, name: str) -> bytes:
        if size > limit:
            raise ImageError(f"{what} of member {name!r} is {size} bytes "
                             f"(more than the {limit} bytes any real archive needs): not read")
        padded = -(-size // BLOCK) * BLOCK
        self._check_room(padded, name)
        data = self._take(padded)
        if len(data) != padded:
            raise ImageError(f"truncated in the {what} of member {name!r}")
        return data[:size]

    # -- members ------------------------------------------------------------

    def next(self) -> Member | None:
        """The next member, or None after the end-of-archive marker (or a clean end)."""
        if self._data is not None:
            self._data.finish(-self._size % BLOCK)  # the rest of the data, and its padding
            self._data = None
        elif self._pending:
            pos = self._pos + self._pending
            if pos <= len(self._buf):
                self._pos = pos  # the data is in the buffer: the common case, inline
            else:
                self._pass(self._pending)
            self._pending = 0
        if self.ended:
            return None
        pax: dict[str, bytes] | None = None
        long_name = long_link = None
        while True:
            at = self._pos
            if at + BLOCK > len(self._buf):
                if not self._more(BLOCK):
                    if self._buf[self._pos:]:
                        raise ImageError("truncated in the middle of a header")
                    self._end(pax or long_name is not None or long_link is not None)
                    return None
                at = self._pos
            buf = self._buf
            self._pos = at + BLOCK
            if not buf[at + 148] and buf[at:at + BLOCK] == ZERO_BLOCK:  # a checksum never starts with NUL
                self._end(pax or long_name is not None or long_link is not None)
                return None
            raw_name, mode_field, size_field, checksum, flag, link, magic = _HEADER.unpack_from(buf, at)
            # The checksum, as _checksum_ok computes it; here inline for the common case: six
            # octal digits, NUL, space (what GNU tar, Go and Python write) in an ASCII header,
            # whose byte sum is below 512 × 127 < 65521, so Adler-32's sum mod 65521 is exact.
            # Anything else is summed exactly.
            block = buf[at:at + BLOCK]
            try:
                stored = int(checksum[:6], 8)
            except ValueError:
                stored = -1
            if (stored != ((zlib.adler32(block) & 0xFFFF) + 255 - sum(checksum)) % 65521
                    or not block.isascii()) and not _checksum_ok(buf, at):
                raise ImageError("a header's checksum is wrong: not a tar archive, or a corrupt one")
            name = raw_name.partition(_NUL)[0].decode("utf-8", "surrogateescape")
            if magic == b"ustar\0" and buf[at + 345]:
                name = _text(buf[at + 345:at + 500]) + "/" + name
            kind = _KINDS.get(flag)
            if kind == "file" or kind is None:
                try:  # eleven digits and a NUL, the common case
                    size = int(size_field[:11], 8) if not size_field[11] else _number(size_field, "size", name)
                except ValueError:
                    size = _number(size_field, "size", name)
            else:
                size = 0  # links, folders and devices carry no data, whatever the size field says (as Go's reader)
            if kind is None:
                if flag in (b"x", b"g"):
                    records = _pax_records(self._payload(size, MAX_PAX, "PAX header", name), name)
                    if flag == b"x":  # global headers (rare, and ignored by Docker) are passed over
                        pax = {**pax, **records} if pax else records
                    continue
                if flag in (b"L", b"K"):
                    text = _text(self._payload(size, MAX_LONG_NAME, "GNU long name", name))
                    long_name, long_link = (text, long_link) if flag == b"L" else (long_name, text)
                    continue
                if flag == b"M":
                    raise ImageError(f"member {name!r} is a GNU multi-volume continuation, "
                                     "which image layers never contain")
                kind = "file"  # POSIX: an unknown typeflag is a regular file
            if flag == b"S" and buf[at + 482]:
                self._sparse_extensions(name)
            linkname = long_link if long_link is not None else _text(link) if link[0] else ""
            if long_name is not None:
                name = long_name
            xattrs = None
            if pax:
                name, linkname, size, xattrs = self._apply_pax(pax, name, linkname, size)
            if kind == "file":
                try:  # seven digits and a NUL, the common case
                    mode = (int(mode_field[:7], 8) if not mode_field[7] else _number(mode_field, "mode", name)) & 0o7777
                except ValueError:
                    mode = _number(mode_field, "mode", name) & 0o7777
            else:
                size = 0  # a PAX size too
                mode = _number(mode_field, "mode", name) & 0o7777 if kind == "hardlink" else 0
            padded = -(-size // BLOCK) * BLOCK
            if padded > len(buf) - self._pos:
                self._check_room(padded, name)
            self._pending = padded
            self._size = size
            return Member(name, kind, size, mode, linkname, xattrs, (buf, at), pax)

    def _end(self, dangling: object) -> None:
        # An end marker, or (leniently) the end of the stream between members.
        self.ended = True
        if dangling:
            raise ImageError("an extended header is not followed by its member")
        return None

    def _sparse_extensions(self, name: str) -> None:
        """An old GNU sparse member ('S') whose map did not fit its header: extension
        blocks follow it (outside its size), each ending in an 'is extended' byte."""
        for _ in range(MAX_SPARSE_BLOCKS):
            block = self._take(BLOCK)
            if len(block) != BLOCK:
                raise ImageError(f"truncated in the sparse map of member {name!r}")
            if not block[504]:
                return
        raise ImageError(f"member {name!r}: a sparse map of more than {MAX_SPARSE_BLOCKS} blocks")

    @staticmethod
    def _apply_pax(pax: dict[str, bytes], name: str, linkname: str,
                   size: int) -> tuple[str, str, int, dict[str, bytes] | None]:
        # GNU sparse 0.1/1.0 keep the real name apart (the header's is `GNUSparseFile.N/…`);
        # the member's data (the map, then the pieces) is still `size` bytes.
        name = _pax_text(pax, "GNU.sparse.name") or _pax_text(pax, "path") or name
        linkname = _pax_text(pax, "linkpath") or linkname
        if "size" in pax:
            size = _pax_int(pax["size"], "size", name)
        xattrs = {k[len(XATTR_PREFIX):]: v for k, v in pax.items() if k.startswith(XATTR_PREFIX)} or None
        return name, linkname, size, xattrs

    @property
    def offset(self) -> int:
        """Where in the source the current member's data starts (before any of it is read)."""
        return self._base + self._pos

    def data(self) -> Window:
        """The current member's data (read it before the next `next()`)."""
        if self._data is None:
            self._data = Window(_Unbuffered(self), self._size)
            self._pending = 0
        return self._data

    def __iter__(self) -> Iterator[Member]:
        while (member := self.next()) is not None:
            yield member


class _Unbuffered:
    """The reader's source seen through its buffer: what a member's Window reads."""

    def __init__(self, reader: TarReader) -> None:
        self._reader = reader

    def read(self, n: int) -> bytes:
        return self._reader._take(n)

    def skip(self, n: int) -> None:
        self._reader._pass(n)


def _pax_text(pax: dict[str, bytes], key: str) -> str | None:
    value = pax.get(key)
    return value.decode("utf-8", "surrogateescape") if value is not None else None


def _name(raw: bytes) -> str:
    found = _NAMES.get(raw)
    if found is None:
        found = _text(raw)
        if len(_NAMES) < 4096:
            _NAMES[raw] = found
    return found


def _pax_int(value: bytes, what: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ImageError(f"member {name!r}: PAX {what} {value[:40]!r} is not a number")
    return number
