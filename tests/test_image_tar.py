"""The tar reader's header parsing: the fast path (numbers as GNU tar, Go and
Python write them) and every other spelling a header may use, against what the
header says; a wrong checksum is refused however the sum is taken."""
from __future__ import annotations

import io
import tarfile

import pytest

from caplint.image.streams import FileStream, ImageError
from caplint.image.tarstream import TarReader


def header(**fields: bytes) -> bytearray:
    """usr/bin/tool, mode 4755, 3 bytes, owner 7:8 (u:g); `fields` overwrite raw header fields."""
    info = tarfile.TarInfo("usr/bin/tool")
    info.mode, info.size, info.uid, info.gid, info.uname, info.gname = 0o4755, 3, 7, 8, "u", "g"
    block = bytearray(info.tobuf(format=tarfile.USTAR_FORMAT))
    offsets = {"mode": (100, 8), "uid": (108, 8), "size": (124, 12), "name": (0, 100), "linkname": (157, 100),
               "prefix": (345, 155)}
    for key, value in fields.items():
        start, length = offsets[key]
        block[start:start + length] = value.ljust(length, b"\0")
    return block


def checksummed(block: bytearray, spelling: str = "%06o\0 ") -> bytes:
    block[148:156] = b" " * 8
    block[148:156] = (spelling % sum(block)).encode().ljust(8, b"\0")[:8]
    return bytes(block)


def read(*blocks: bytes) -> list[tuple[str, str, int, int, tuple[int, int, str, str]]]:
    data = b"".join(blocks) + bytes(1024)
    reader = TarReader(FileStream(io.BytesIO(data), len(data)))
    return [(m.name, m.kind, m.mode, m.size, m.owner()) for m in reader]


def member(block: bytes, size: int = 3) -> bytes:
    return block + b"abc".ljust(-(-size // 512) * 512, b"\0")


WANT = [("usr/bin/tool", "file", 0o4755, 3, (7, 8, "u", "g"))]


@pytest.mark.parametrize("spelling", ["%06o\0 ", "%07o\0", "%o\0", " %06o ", "%08o"])
def test_checksum_spellings(spelling: str) -> None:
    assert read(member(checksummed(header(), spelling))) == WANT


@pytest.mark.parametrize("fields", [
    {"mode": b"   4755 "}, {"mode": b"0004755"}, {"mode": b"4755\0\0\0\0"}, {"mode": b"00004755"},
    {"size": b"3"}, {"size": b"00000000003 "}, {"size": b"000000000003"}, {"size": b"\x80" + bytes(10) + b"\x03"},
    {"uid": b"7\0", "size": b"        3\0 "},
])
def test_number_spellings(fields: dict[str, bytes]) -> None:
    assert read(member(checksummed(header(**fields)))) == WANT


def test_a_header_whose_bytes_sum_past_65521() -> None:
    # Non-ASCII names (here bytes that are not UTF-8) need the exact sum, not the Adler-32 shortcut.
    name, link, prefix = b"\xff" * 100, b"\xfe" * 100, b"\xfd" * 154
    block = header(name=name, linkname=link, prefix=prefix)
    assert sum(block) > 65521
    (got,) = read(member(checksummed(block, "%07o\0")))
    assert got[0] == (prefix + b"/" + name).decode("utf-8", "surrogateescape") and got[2:4] == (0o4755, 3)


def test_a_signed_checksum_as_old_tars_wrote_it() -> None:
    block = header(name=b"\xe9t\xe9")
    block[148:156] = b" " * 8
    signed = sum(b - 256 if b > 127 else b for b in block)
    block[148:156] = b"%06o\0 " % signed
    assert read(member(bytes(block)))[0][0] == "\udce9t\udce9"


@pytest.mark.parametrize("where", [0, 101, 130, 300])
def test_a_changed_byte_fails_the_checksum(where: int) -> None:
    block = bytearray(checksummed(header()))
    block[where] ^= 0x11
    with pytest.raises(ImageError, match="checksum is wrong"):
        read(member(bytes(block)))


@pytest.mark.parametrize("high", [False, True], ids=["ascii", "sum past 65521"])
def test_a_checksum_off_by_65521_is_refused(high: bool) -> None:
    block = header(name=b"\xff" * 100, linkname=b"\xfe" * 100, prefix=b"\xfd" * 154) if high else header()
    block[148:156] = b" " * 8
    total = sum(block)
    assert (total > 65521) == high
    block[148:156] = b"%06o\0 " % (total - 65521 if high else total + 65521)
    with pytest.raises(ImageError, match="checksum is wrong"):
        read(member(bytes(block)))


def test_members_after_large_and_small_data_are_read_in_step() -> None:
    # Data inside the reader's buffer and beyond it (passed over by skip) alike.
    sizes = [0, 1, 511, 512, 513, 20_000, 70_000, 3, 1 << 20]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for i, size in enumerate(sizes):
            info = tarfile.TarInfo(f"f{i}")
            info.size = size
            tar.addfile(info, io.BytesIO(bytes(size)))
    data = buf.getvalue()
    reader = TarReader(FileStream(io.BytesIO(data), len(data)))
    assert [(m.name, m.size) for m in reader] == [(f"f{i}", size) for i, size in enumerate(sizes)]
