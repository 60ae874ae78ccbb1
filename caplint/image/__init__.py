"""Saved images, read without running or extracting them.

`scan(path)` reads a `docker save` tarball, an OCI image layout (folder or tar),
either possibly compressed as a whole, and returns the model: one `Image` with
`saved` facts per image (per platform), or CAP001 problems saying what is wrong.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, replace

from caplint.image import layout, vfscap
from caplint.image.filesystem import Filesystem
from caplint.image.layers import Budget, Entry
from caplint.image.store import FolderStore, Store, TarStore, open_tar
from caplint.image.streams import FileStream, ImageError
from caplint.model import Image, ImageFile, Located, ParseResult, Problem, SavedImage, Span


@dataclass(frozen=True)
class Options:
    platform: str | None = None


def scan(path: str, options: Options = Options()) -> ParseResult:
    with contextlib.ExitStack() as open_files:
        return _scan(path, options, open_files)


def _scan(path: str, options: Options, open_files: contextlib.ExitStack) -> ParseResult:
    result = ParseResult()
    here = Span.point(path, 1)
    try:
        store = _store(path, open_files)
        refs = layout.images(store)
    except ImageError as err:
        result.problems.append(Problem(here, f"cannot read this image: {err}"))
        return result
    except OSError as err:
        result.problems.append(Problem(here, f"cannot read this image: {err.strerror or err}"))
        return result
    chosen = []
    for ref in refs:
        try:
            chosen.append(_with_config(store, ref))
        except ImageError as err:
            result.problems.append(Problem(here, f"image {ref.reference}: {err}"))
    if options.platform:
        picked = [(r, c) for r, c in chosen if layout.matches(r.platform, options.platform)]
        if not picked and chosen:
            have = ", ".join(sorted({r.platform or "unknown" for r, _ in chosen}))
            result.problems.append(Problem(here, f"no image for platform {options.platform} here (it has {have})"))
        chosen = picked
    for ref, config in chosen:
        # Platforms of one image are told apart by the platform in their name.
        several = sum(r.reference == ref.reference for r, _ in chosen) > 1
        try:
            result.images.append(_image(path, store, ref, config, several, result.problems))
        except ImageError as err:
            result.problems.append(Problem(here, f"image {ref.reference}: {err}"))
    return result


def _store(path: str, open_files: contextlib.ExitStack) -> Store:
    if os.path.isdir(path):
        return FolderStore(path)
    fh = open_files.enter_context(open(path, "rb"))
    size = os.fstat(fh.fileno()).st_size
    head = fh.read(4)
    fh.seek(0)
    stream = open_tar(FileStream(fh, size), head)
    # An uncompressed file can be read again where a layer starts; a stream cannot.
    return TarStore(stream, fh if isinstance(stream, FileStream) and fh.seekable() else None)


def _with_config(store: Store, ref: layout.ImageRef) -> tuple[layout.ImageRef, dict[str, object]]:
    config = layout.load_json(store, ref.config)
    if not isinstance(config, dict):
        raise ImageError(f"its config {ref.config} is not a JSON object")
    platform = ref.platform or layout.platform_of(config)
    return replace(ref, platform=platform), config


def _image(path: str, store: Store, ref: layout.ImageRef, config: dict[str, object], several: bool,
           problems: list[Problem]) -> Image:
    label = f"{ref.reference} ({ref.platform})" if several and ref.platform else ref.reference
    fs = Filesystem()
    budget = Budget()
    for number, name in enumerate(ref.layers, start=1):
        try:
            fs.apply(store.layer(name, budget))
        except ImageError as err:
            raise ImageError(f"layer {number} ({name}): {err}") from None
    files = []
    for inner, entry in fs.notable_files():
        span = Span(path, 1, 1, 1, 1, member=inner)
        file = _file(inner, span, entry, label, problems)
        files.append(file)
    inner_config = config.get("config")
    user = inner_config.get("User") if isinstance(inner_config, dict) else None
    here = Span(path, 1, 1, 1, 1)
    located_user = Located(user, here, user) if isinstance(user, str) and user.strip() else None
    saved = SavedImage(label, ref.platform, ref.names, located_user, tuple(files))
    return Image(path=path, span=here, saved=saved)


def _file(inner: str, span: Span, entry: Entry, label: str, problems: list[Problem]) -> ImageFile:
    capability = None
    if entry.capability is not None:
        try:
            capability = vfscap.decode(entry.capability)
        except vfscap.CapabilityError as err:
            problems.append(Problem(span, f"image {label}: {inner} has a security.capability xattr that "
                                          f"cannot be decoded ({err}); it was not judged"))
    return ImageFile(inner, span, entry.mode, entry.uid, entry.gid, entry.owner or _id_name(entry.uid),
                     entry.group or _id_name(entry.gid), capability)


def _id_name(number: int) -> str:
    """A header without names (umoci writes none): 0 is root everywhere, others stay numbers."""
    return "root" if number == 0 else str(number)
