"""One layer blob → its entries: decompressed, names checked, nothing kept but headers."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass

from caplint.image.streams import Decompressed, ImageError, Stream, Window, compression
from caplint.image.tarstream import CAPABILITY_XATTR, Member, TarReader

# More entries than this over all layers of one image is not an image anyone
# runs (a big one has a few hundred thousand) but a way to exhaust memory.
MAX_ENTRIES = 5_000_000


@dataclass(frozen=True, slots=True)
class Entry:
    """One layer member as the filesystem model needs it."""

    path: str  # normalised, relative to the image root: `usr/bin/ping`
    kind: str  # file, dir, symlink, hardlink, other
    mode: int
    uid: int
    gid: int
    owner: str
    group: str
    target: str = ""  # a hard link's normalised target, a symlink's text
    capability: bytes | None = None


class Budget:
    """Entries left for one image, shared by its layers."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit if limit is not None else MAX_ENTRIES
        self.left = self.limit

    def take(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise ImageError(f"more than {self.limit:,} entries: not an image, or one built to exhaust memory")


def clean_name(name: str, what: str) -> str:
    """`./usr/bin/` → `usr/bin`; an absolute name or a `..` step is refused, as
    Docker refuses to extract such a layer."""
    short = name[2:] if name.startswith("./") else name
    if "//" not in short and "/." not in short and not short.startswith((".", "/")) and "\0" not in short:
        return short.rstrip("/")  # already clean: the common case
    if "\0" in name:
        raise ImageError(f"{what} {name!r} contains a NUL byte")
    if name.startswith("/"):
        raise ImageError(f"{what} {name!r} is an absolute path; layer members are relative to the image root")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ImageError(f"{what} {name!r} steps out of the image with '..'")
    return "/".join(parts)


def check_symlink(path: str, target: str) -> None:
    """A relative symlink must not climb above the image root (Docker rejects it
    as a breakout); an absolute one resolves inside the container's root."""
    if target.startswith("/"):
        return
    depth = path.count("/")  # folders above the link
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                raise ImageError(f"symlink {path!r} → {target!r} points outside the image")
        elif part not in ("", "."):
            depth += 1


_INTERNED: dict[int, int] = {}


def _entry(m: Member) -> Entry:
    path = clean_name(m.name, "member")
    target = ""
    if m.kind == "hardlink":
        target = clean_name(m.linkname.lstrip("/"), f"hard link {path!r} → target")
    elif m.kind == "symlink":
        check_symlink(path, m.linkname)
        target = m.linkname
    # Thousands of entries share a few owners and modes: keep one copy of each.
    return Entry(path, m.kind, _INTERNED.setdefault(m.mode, m.mode), m.uid, m.gid, sys.intern(m.uname),
                 sys.intern(m.gname), target, m.xattrs.get(CAPABILITY_XATTR))


def open_layer(window: Window) -> Stream:
    """The layer's tar stream: decompressed by its magic number, whatever the
    media type claims (gzip and zstd; plain tar otherwise)."""
    kind = compression(window.peek(4))
    return Decompressed(window, kind) if kind else window


def entries(window: Window, budget: Budget) -> Iterator[Entry]:
    for member in TarReader(open_layer(window)):
        budget.take()
        entry = _entry(member)
        if entry.path:  # not the root folder itself
            yield entry
