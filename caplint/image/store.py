"""Where an image's blobs are: an OCI layout folder, or a tar (`docker save`, or
an OCI layout packed in a tar), read in one pass from start to end.

A tar cannot be read out of order without seeking through it again (and not at
all once compressed), and `docker save` writes `manifest.json` after the
layers. So one pass keeps every small JSON document and each layer's entries
(headers only, never file contents), and the images are put together after it.
"""
from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from typing import BinaryIO, Protocol

from caplint.image.layers import Budget, Digests, Entry, Expect, clean_name, read_layer
from caplint.image.streams import Decompressed, FileRegion, ImageError, Stream, Window, compression
from caplint.image.tarstream import BLOCK, TarReader, looks_like_tar

MAX_DOCUMENT = 16 << 20  # manifests, indexes and configs are kilobytes
MAX_DOCUMENTS = 64 << 20  # all of them in one archive
MAX_ALIASES = 16


class Store(Protocol):
    where: str  # "layout" or "archive", for messages

    def has(self, name: str) -> bool: ...

    def document(self, name: str) -> bytes: ...

    def layer(self, name: str, budget: Budget, expect: Expect | None) -> Iterator[Entry]:
        """The layer's entries; with `expect`, an ImageError at its end when its digests differ."""


class FolderStore:
    """An OCI image layout (or an unpacked `docker save`) in a folder."""

    where = "layout"

    def __init__(self, root: str) -> None:
        self.root = root

    def _path(self, name: str) -> str:
        return os.path.join(self.root, *clean_name(name, "blob").split("/"))

    def has(self, name: str) -> bool:
        return os.path.isfile(self._path(name))

    def document(self, name: str) -> bytes:
        path = self._path(name)
        try:
            size = os.path.getsize(path)
            if size > MAX_DOCUMENT:
                raise ImageError(f"{name} is {size} bytes, too large for a manifest or config")
            with open(path, "rb") as fh:
                return fh.read(MAX_DOCUMENT)
        except OSError as err:
            raise ImageError(f"cannot read {name}: {err.strerror}") from None

    def layer(self, name: str, budget: Budget, expect: Expect | None) -> Iterator[Entry]:
        path = self._path(name)
        if not os.path.isfile(path):
            raise ImageError("not in the layout")
        try:
            fh = open(path, "rb", buffering=0)
            size = os.fstat(fh.fileno()).st_size
        except OSError as err:
            raise ImageError(f"cannot read layer {name}: {err.strerror}") from None
        with fh:
            yield from read_layer(FileRegion(fh, 0, size), budget, expect)


class TarStore:
    """The blobs of a tar archive, gathered in one pass.

    With `file` (the archive is an uncompressed file, as `docker save` writes
    it) a layer is only located in the pass and read when an image applies
    it, by seeking back to it: then memory holds the merged filesystem, not
    every layer's entries."""

    where = "archive"

    def __init__(self, stream: Stream, file: BinaryIO | None = None, verify: bool = True) -> None:
        self._file = file
        self._verify = verify
        self.places: dict[str, tuple[int, int]] = {}  # layer → (offset of its data, size), with `file`
        self.documents: dict[str, bytes] = {}
        self.layers: dict[str, list[Entry]] = {}
        self.broken: dict[str, str] = {}  # a layer that could not be read → why
        self.digests: dict[str, Digests] = {}  # a layer read in the pass → what it hashed to
        self.aliases: dict[str, str] = {}
        self.budget = Budget()
        self._kept = 0
        reader = TarReader(stream)
        for member in reader:
            self.budget.take()
            name = clean_name(member.name, "archive member")
            if member.kind == "symlink":
                self.aliases[name] = _symlink_target(name, member.linkname)
            elif member.kind == "hardlink":
                self.aliases[name] = clean_name(member.linkname.lstrip("/"), f"hard link {name!r} → target")
            elif member.kind == "file":
                offset = reader.offset
                self._member(name, reader.data(), member.size, offset)

    def _member(self, name: str, data: Window, size: int, offset: int) -> None:
        head = data.peek(BLOCK)
        for table in (self.documents, self.layers, self.broken, self.aliases, self.places, self.digests):
            table.pop(name, None)  # a later member of the same name replaces it
        if (compression(head) or looks_like_tar(head)) and self._file is not None:
            self.places[name] = (offset, size)
        elif compression(head) or looks_like_tar(head):
            digests = Digests() if self._verify else None
            try:
                self.layers[name] = list(read_layer(data, self.budget, digests=digests))
                if digests is not None:
                    self.digests[name] = digests
            except ImageError as err:
                self.broken[name] = str(err)
        elif head.lstrip()[:1] in (b"{", b"[") and size <= MAX_DOCUMENT:
            self._kept += size
            if self._kept > MAX_DOCUMENTS:
                raise ImageError(f"more than {MAX_DOCUMENTS >> 20} MiB of JSON documents: not an image archive")
            self.documents[name] = data.read(size)

    def _resolve(self, name: str) -> str:
        seen = 0
        while name in self.aliases:
            name = self.aliases[name]
            seen += 1
            if seen > MAX_ALIASES:
                raise ImageError(f"{name}: a loop of links inside the archive")
        return name

    def has(self, name: str) -> bool:
        name = self._resolve(name)
        return any(name in table for table in (self.documents, self.layers, self.broken, self.places))

    def document(self, name: str) -> bytes:
        found = self.documents.get(self._resolve(name))
        if found is None:
            raise ImageError(f"{name} is not in the archive (or is not a JSON document)")
        return found

    def layer(self, name: str, budget: Budget, expect: Expect | None) -> Iterator[Entry]:
        real = self._resolve(name)
        if real in self.places and self._file is not None:
            return self._read_at(*self.places[real], budget, expect)
        if real in self.broken:
            raise ImageError(self.broken[real])
        if real not in self.layers:
            raise ImageError("not in the archive")
        if expect is not None:
            self.digests[real].check(expect)
        return iter(self.layers[real])

    def _read_at(self, offset: int, size: int, budget: Budget, expect: Expect | None) -> Iterator[Entry]:
        assert self._file is not None
        yield from read_layer(FileRegion(self._file, offset, size), budget, expect)


def _symlink_target(name: str, target: str) -> str:
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    if target.startswith("/") or joined == ".." or joined.startswith("../"):
        raise ImageError(f"archive member {name!r} is a link to {target!r}, outside the archive")
    return joined


def open_tar(fh: Stream, head: bytes) -> Stream:
    """A tar file's stream, decompressed when the whole archive is (`app.tar.gz`)."""
    kind = compression(head)
    return Decompressed(fh, kind) if kind else fh
