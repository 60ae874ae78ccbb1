"""Layers applied in order, as overlayfs shows them to a container.

Each layer is a change set over the ones below (OCI image spec, "Applying
Changesets"; Docker and containerd apply each into its own upper folder):
- an entry replaces whatever lower layers had at its path, except that a
  folder over a folder merges with it; a non-folder over a folder hides the
  folder's whole tree; a member's parent folders exist in its layer, so a lower
  file or symlink where a parent should be is hidden (paths are taken as
  written: a lower symlink is never followed to place an upper entry);
- `.wh.NAME` hides NAME and everything below it, `.wh..wh..opq` hides all that
  lower layers had in its folder — both only what lower layers had, never
  entries of their own layer, whatever their order in the tar;
- a hard link names the file of an existing path (symlinks and devices too),
  and its own header decides the shared file's owner, mode and capabilities:
  Docker extracts it with link(), lchown() (which clears capabilities and
  setuid bits), the header's xattrs, then chmod().

Only regular files with setuid/setgid bits or a `security.capability` keep
their metadata; every other path costs one small node.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from caplint.image.layers import Entry, Meta
from caplint.image.streams import ImageError

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


class _Dir:
    __slots__ = ("children", "layer")

    def __init__(self, layer: int) -> None:
        self.children: dict[str, _Dir | _Leaf] = {}
        self.layer = layer


# Anything but a folder: (kind, layer, inode) — a tuple, the cheapest node to make,
# as most entries of an image are files.
_Leaf = tuple[str, int, int]
KIND: Final = 0
LAYER: Final = 1
INODE: Final = 2


class Filesystem:
    def __init__(self) -> None:
        self.root = _Dir(-1)
        self._inodes = 0
        # inode → the header that last set its metadata, for notable files only.
        self._meta: dict[int, Meta] = {}
        self._layer = -1
        # Folders this layer's entries went into, by path: most entries follow a sibling,
        # and finding the folder again is one lookup. Emptied when a folder may have gone.
        self._folders: dict[str, _Dir] = {}

    def apply(self, layer: Iterable[Entry]) -> None:
        self._layer += 1
        self._folders = {}
        for entry in layer:
            self._apply(entry)

    def _apply(self, e: Entry) -> None:
        parent, _, name = e[0].rpartition("/")
        folder = self._folders.get(parent)
        if folder is None:
            folder = self._folders[parent] = self._folder(parent.split("/") if parent else [])
        kind = e[1]
        if name.startswith(WHITEOUT):
            if name == OPAQUE:
                for child in list(folder.children):
                    self._hide_lower(folder, child)
            elif not name.startswith(WHITEOUT + WHITEOUT):  # other aufs metadata (.wh..wh.plnk): nothing to apply
                self._hide_lower(folder, name[len(WHITEOUT):])
        elif kind == "dir":
            existing = folder.children.get(name)
            if isinstance(existing, _Dir):
                existing.layer = self._layer
            else:
                folder.children[name] = _Dir(self._layer)  # over a non-folder: never one of the cached folder's
        elif kind == "hardlink":
            self._link(folder, name, e)
        else:
            self._inodes += 1
            if isinstance(folder.children.get(name), _Dir):
                self._folders = {}  # a folder replaced by a file: cached ones may have been inside it
            folder.children[name] = (kind, self._layer, self._inodes)
            if e[3] is not None:
                self._meta[self._inodes] = e[3]

    def _folder(self, parts: list[str]) -> _Dir:
        """The folder at `parts`, created in this layer where missing or not a folder."""
        node = self.root
        for part in parts:
            child = node.children.get(part)
            if not isinstance(child, _Dir):
                child = node.children[part] = _Dir(self._layer)
            else:
                child.layer = self._layer
            node = child
        return node

    def _hide_lower(self, folder: _Dir, name: str) -> None:
        """Remove what lower layers had at `name`, keeping this layer's own entries
        (a node of this layer has all its folders stamped with this layer too)."""
        stack = [(folder, name)]
        while stack:  # not recursive: a hostile layer may nest folders thousands deep
            parent, child = stack.pop()
            node = parent.children.get(child)
            if node is None:
                continue
            if (node.layer if isinstance(node, _Dir) else node[LAYER]) < self._layer:
                del parent.children[child]
            elif isinstance(node, _Dir):
                stack.extend((node, grandchild) for grandchild in node.children)

    def _link(self, folder: _Dir, name: str, e: Entry) -> None:
        path, _, link, meta = e
        target = self._lookup(link)
        if target is None:
            raise ImageError(f"hard link {path!r} → {link!r}: no such file in the image")
        if isinstance(target, _Dir):
            raise ImageError(f"hard link {path!r} → {link!r}: the target is a folder")
        if isinstance(folder.children.get(name), _Dir):
            self._folders = {}
        kind, _, inode = target
        folder.children[name] = (kind, self._layer, inode)
        if kind == "file":
            if meta is not None:
                self._meta[inode] = meta
            else:
                self._meta.pop(inode, None)

    def _lookup(self, path: str) -> _Dir | _Leaf | None:
        node: _Dir | _Leaf | None = self.root
        for part in path.split("/") if path else ():
            if not isinstance(node, _Dir):
                return None
            node = node.children.get(part)
        return node

    def notable_files(self) -> Iterator[tuple[str, Meta]]:
        """(absolute path, the header that set its metadata), sorted by path."""
        stack: list[tuple[str, _Dir]] = [("", self.root)]
        found: list[tuple[str, Meta]] = []
        while stack:
            prefix, folder = stack.pop()
            for name, node in folder.children.items():
                path = f"{prefix}/{name}"
                if isinstance(node, _Dir):
                    stack.append((path, node))
                elif node[KIND] == "file" and node[INODE] in self._meta:
                    found.append((path, self._meta[node[INODE]]))
        return iter(sorted(found, key=lambda item: item[0]))
