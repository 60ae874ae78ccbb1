"""A tar reader for hostile archives: headers only, forwards only, bounded memory.

It reads ustar, GNU (long names, base-256 numbers) and PAX (per-file records,
`SCHILY.xattr.*` extended attributes) headers. Every size is checked before
anything is read: a PAX header or GNU long name larger than a small limit, a
member larger than what is left of the archive, a bad checksum or a short read
is an ImageError naming the member, never a crash or an unbounded read. Member
data is passed over (a seek where the archive is a file) unless asked for.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from caplint.image.streams import ImageError, Stream, Window

BLOCK = 512
MAX_PAX = 1 << 20  # real PAX headers are a few hundred bytes
MAX_LONG_NAME = 1 << 16
XATTR_PREFIX = "SCHILY.xattr."
CAPABILITY_XATTR = "security.capability"

ZERO_BLOCK = bytes(BLOCK)
# name, mode, uid, gid, size, mtime, checksum, typeflag, linkname, magic+version, uname, gname, -, prefix
_FIELDS = struct.Struct("100s8s8s8s12s12s8sc100s8s32s32s16s155s12x")
_NAMES: dict[bytes, str] = {}  # owner and group names, decoded once

# Typeflags → what the member is; unknown flags are regular files (POSIX).
_KINDS = {b"0": "file", b"\0": "file", b"7": "file", b"1": "hardlink", b"2": "symlink", b"3": "other",
          b"4": "other", b"5": "dir", b"6": "other"}


@dataclass(slots=True)
class Member:
    """One tar member as its headers describe it (PAX records applied)."""

    name: str
    kind: str  # file, dir, symlink, hardlink, other
    size: int
    mode: int
    uid: int
    gid: int
    uname: str
    gname: str
    linkname: str
    xattrs: dict[str, bytes] = field(default_factory=dict)


def _number(field_: bytes, what: str, name: str) -> int:
    """An octal header number, or GNU base-256 when the top bit is set."""
    try:
        value = int(field_.strip(b" \0") or b"0", 8)  # the common case, fast
        if value >= 0:
            return value
    except ValueError:
        pass
    if field_ and field_[0] & 0x80:
        value = int.from_bytes(field_[1:], "big")
        if field_[0] == 0xFF:
            raise ImageError(f"member {name!r}: negative {what}")
        return value
    text = field_.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise ImageError(f"member {name!r}: {what} {text!r} is not an octal number") from None


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _checksum_ok(block: bytes) -> bool:
    stored = block[148:156].split(b"\0", 1)[0].strip(b" ")
    try:
        expected = int(stored, 8)
    except ValueError:
        return False
    unsigned = sum(block) - sum(block[148:156]) + 8 * 32
    if expected == unsigned:
        return True
    # Some old tars summed signed chars.
    return expected == unsigned - 256 * sum(1 for b in block[:148] + block[156:] if b > 127)


def looks_like_tar(head: bytes) -> bool:
    """Whether `head` (at least one block) starts with a valid tar header."""
    return len(head) >= BLOCK and (head[:BLOCK] == ZERO_BLOCK or _checksum_ok(head[:BLOCK]))


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
    """Members of one tar stream, in order. Unread data is passed over on `next()`."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream
        self._data: Window | None = None
        self.ended = False

    def _block(self, what: str) -> bytes:
        block = self._stream.read(BLOCK)
        if len(block) != BLOCK:
            raise ImageError(f"truncated in the middle of {what}")
        return block

    def _payload(self, size: int, limit: int, what: str, name: str) -> bytes:
        if size > limit:
            raise ImageError(f"{what} of member {name!r} is {size} bytes "
                             f"(more than the {limit} bytes any real archive needs): not read")
        padded = -(-size // BLOCK) * BLOCK
        self._check_room(padded, name)
        data = self._stream.read(padded)
        if len(data) != padded:
            raise ImageError(f"truncated in the {what} of member {name!r}")
        return data[:size]

    def _check_room(self, size: int, name: str) -> None:
        remaining = getattr(self._stream, "remaining", None)
        if remaining is not None and size > remaining:
            raise ImageError(f"member {name!r} claims {size} bytes, but only {remaining} are left: "
                             "the tar is truncated, or the header lies")

    def next(self) -> Member | None:
        """The next member, or None after the end-of-archive marker (or a clean end)."""
        if self._data is not None:
            self._data.finish(-self._data_size % BLOCK)  # the rest of the data, and its padding
            self._data = None
        if self.ended:
            return None
        pax: dict[str, bytes] = {}
        long_name = long_link = None
        while True:
            block = self._stream.read(BLOCK)
            if not block or block == ZERO_BLOCK:
                # An end marker, or (leniently) the end of the stream between members.
                self.ended = True
                if pax or long_name is not None or long_link is not None:
                    raise ImageError("an extended header is not followed by its member")
                return None
            if len(block) != BLOCK:
                raise ImageError("truncated in the middle of a header")
            if not _checksum_ok(block):
                raise ImageError("a header's checksum is wrong: not a tar archive, or a corrupt one")
            raw_name = _text(block[0:100])
            if block[257:263] == b"ustar\0" and block[345] != 0:
                raw_name = _text(block[345:500]) + "/" + raw_name
            flag = block[156:157]
            size = _number(block[124:136], "size", raw_name)
            if flag in (b"x", b"g"):
                records = _pax_records(self._payload(size, MAX_PAX, "PAX header", raw_name), raw_name)
                if flag == b"x":  # global headers (rare, and ignored by Docker) are passed over
                    pax.update(records)
                continue
            if flag in (b"L", b"K"):
                text = _text(self._payload(size, MAX_LONG_NAME, "GNU long name", raw_name))
                long_name, long_link = (text, long_link) if flag == b"L" else (long_name, text)
                continue
            if flag in (b"S", b"M"):
                raise ImageError(f"member {raw_name!r} is a GNU sparse or multi-volume "
                                 "member, which image layers never contain")
            return self._member(block, flag, size, pax, long_name, long_link, raw_name)

    def _member(self, block: bytes, flag: bytes, size: int, pax: dict[str, bytes], long_name: str | None,
                long_link: str | None, raw_name: str) -> Member:
        _, mode, uid, gid, _, _, _, _, link, _, uname, gname, _, _ = _FIELDS.unpack(block)
        name, linkname = raw_name, long_link or _text(link)
        if long_name is not None:
            name = long_name
        if pax:
            name = _pax_text(pax, "path") or name
            linkname = _pax_text(pax, "linkpath") or linkname
            if "size" in pax:
                size = _pax_int(pax["size"], "size", name)
        kind = _KINDS.get(flag, "file")
        if kind != "file":
            size = 0  # links, folders and devices carry no data, whatever the size field says (as Go's reader)
        member = Member(
            name=name,
            kind=kind,
            size=size,
            mode=_number(mode, "mode", name) & 0o7777,
            uid=_pax_int(pax["uid"], "uid", name) if "uid" in pax else _number(uid, "uid", name),
            gid=_pax_int(pax["gid"], "gid", name) if "gid" in pax else _number(gid, "gid", name),
            uname=(pax and _pax_text(pax, "uname")) or _name(uname),
            gname=(pax and _pax_text(pax, "gname")) or _name(gname),
            linkname=linkname,
            xattrs={k[len(XATTR_PREFIX):]: v for k, v in pax.items() if k.startswith(XATTR_PREFIX)} if pax else {},
        )
        self._check_room(-(-size // BLOCK) * BLOCK, name)
        self._data = Window(self._stream, size)
        self._data_size = size
        return member

    def data(self) -> Window:
        """The current member's data (read it before the next `next()`)."""
        if self._data is None:
            raise ValueError("no current member")
        return self._data

    def __iter__(self) -> Iterator[Member]:
        while (member := self.next()) is not None:
            yield member


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
