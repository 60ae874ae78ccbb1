"""One layer blob → its entries: decompressed, names checked, nothing kept but headers."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from caplint.image.streams import Decompressed, FileRegion, Hashed, ImageError, Stream, Window, compression
from caplint.image.tarstream import Member, TarReader

# More entries than this over all layers of one image is not an image anyone
# runs (a big one has a few hundred thousand) but a way to exhaust memory.
MAX_ENTRIES = 5_000_000


@dataclass(frozen=True, slots=True)
class Meta:
    """What a notable file's header says: who owns it, its mode, its capabilities."""

    mode: int
    uid: int
    gid: int
    owner: str
    group: str
    capability: bytes | None


# One layer member as the filesystem model needs it: (path, kind, target, meta) —
# path normalised and relative to the image root (`usr/bin/ping`); kind file, dir,
# symlink, hardlink or other; target a hard link's normalised target or a symlink's
# text, else ""; meta for a file or hard link with setuid/setgid bits or
# capabilities only. A plain tuple: one is made per member, and a tuple is the
# cheapest object to make.
Entry = tuple[str, str, str, "Meta | None"]


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


def _meta(m: Member) -> Meta | None:
    """The header's metadata, for a file worth reporting: setuid, setgid, or capabilities."""
    capability = m.capability
    if not m.mode & 0o6000 and capability is None:
        return None
    uid, gid, owner, group = m.owner()
    return Meta(m.mode, uid, gid, owner, group, capability)


@dataclass(frozen=True)
class Expect:
    """The digests a layer blob must have: of its bytes as stored (its name or
    descriptor: `sha256:<hex>`), its size, and its diff id (the digest of its
    uncompressed tar, from the image config)."""

    blob: str | None = None
    size: int | None = None
    diff_id: str | None = None


class Digests:
    """What a layer's bytes hashed to, once read to the end: `sha256:<hex>` each."""

    def __init__(self) -> None:
        self.blob: str | None = None
        self.tar: str | None = None
        self.size = 0

    def check(self, expect: Expect) -> None:
        if expect.size is not None and expect.size != self.size:
            raise ImageError(f"its descriptor gives {expect.size} bytes, the blob has {self.size}: "
                             "a corrupt or altered image (docker load refuses it)")
        for what, want, have in (("blob", expect.blob, self.blob), ("uncompressed tar", expect.diff_id, self.tar)):
            if want is None:
                continue
            if have is None or not have.startswith(want.partition(":")[0] + ":"):
                raise ImageError(f"its {what} digest {want} could not be checked here (an archive read as one "
                                 "stream is hashed with sha256 only); --no-verify reads it unchecked")
            if have != want:
                raise ImageError(f"its {what} has digest {have}, not the {want} the image gives for it: "
                                 "a corrupt or altered image (docker load refuses it)")


def read_layer(window: Window | FileRegion, budget: Budget, expect: Expect | None = None,
               digests: Digests | None = None) -> Iterator[Entry]:
    """The entries of a layer blob, decompressed by its magic number whatever the
    media type claims (gzip and zstd; plain tar otherwise). With `expect` its
    digests are checked once it is read to the end (an ImageError then); with
    `digests` its sha256 digests are only recorded (to be checked later)."""
    kind = compression(window.peek(4))
    size = window.remaining
    stream: Stream = window
    blob = tar = None
    want_blob = digests is not None or (expect is not None and (expect.blob is not None or
                                                                 (kind is None and expect.diff_id is not None)))
    if want_blob:
        algorithm = "sha256" if expect is None or expect.blob is None else expect.blob.partition(":")[0]
        stream = blob = Hashed(stream, algorithm)
    if kind:
        stream = Decompressed(stream, kind)
        if digests is not None or (expect is not None and expect.diff_id is not None):
            algorithm = "sha256" if expect is None or expect.diff_id is None else expect.diff_id.partition(":")[0]
            stream = tar = Hashed(stream, algorithm)
    elif blob is not None and (expect is None or expect.diff_id is None
                               or expect.diff_id.partition(":")[0] == blob.algorithm):
        tar = blob  # an uncompressed blob is its own tar
    elif expect is not None and expect.diff_id is not None:
        stream = tar = Hashed(stream, expect.diff_id.partition(":")[0])
    yield from entries(stream, budget)
    if blob is None and tar is None:
        return
    found = digests if digests is not None else Digests()
    found.size = size
    if tar is not None:
        found.tar = tar.finish()  # what follows the end marker is part of the blob too
    if blob is not None:
        found.blob = found.tar if tar is blob else blob.finish()
    if expect is not None:
        found.check(expect)


def entries(stream: Stream, budget: Budget) -> Iterator[Entry]:
    """The layer's entries; the hot loop of an image's read, so its common case
    (a file or folder with a clean name) costs a few attribute reads."""
    next_member = TarReader(stream).next
    while (m := next_member()) is not None:
        budget.left -= 1
        if budget.left < 0:
            budget.take()  # raises
        path = clean_name(m.name, "member")
        if not path:
            continue  # the root folder itself
        kind = m.kind
        if kind == "file":
            yield path, kind, "", _meta(m) if m.mode & 0o6000 or m.xattrs else None
        elif kind == "hardlink":
            yield path, kind, clean_name(m.linkname.lstrip("/"), f"hard link {path!r} → target"), _meta(m)
        elif kind == "symlink":
            check_symlink(path, m.linkname)
            yield path, kind, m.linkname, None
        else:
            yield path, kind, "", None
