"""Saved images, read without running or extracting them.

`scan(path)` reads a `docker save` tarball, an OCI image layout (folder or tar),
either possibly compressed as a whole, and returns the model: one `Image` with
`saved` facts per image (per platform), or CAP001 problems saying what is wrong.
"""
from __future__ import annotations

import contextlib
import gc
import os
from dataclasses import dataclass, replace

from caplint.image import layout, vfscap
from caplint.image.filesystem import Filesystem
from caplint.image.layers import Budget, Expect, Meta
from caplint.image.store import FolderStore, Store, TarStore, open_tar
from caplint.image.streams import FileRegion, FileStream, ImageError
from caplint.model import Image, ImageFile, Located, ParseResult, Problem, SavedImage, Span


@dataclass(frozen=True)
class Options:
    platform: str | None = None
    verify: bool = True  # check every blob's digest, as `docker load` does


def scan(path: str, options: Options = Options()) -> ParseResult:
    # The tree of a big image is hundreds of thousands of small objects without a
    # cycle among them: the cyclic collector, run again and again as they are
    # made, would only walk them (5 % of the time on the bench image).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with contextlib.ExitStack() as open_files:
            return _scan(path, options, open_files)
    finally:
        if collecting:
            gc.enable()


def _scan(path: str, options: Options, open_files: contextlib.ExitStack) -> ParseResult:
    result = ParseResult()
    here = Span.point(path, 1)
    try:
        store = _store(path, open_files, options.verify)
        refs = layout.images(store, options.verify)
    except ImageError as err:
        result.problems.append(Problem(here, f"cannot read this image: {err}"))
        return result
    except OSError as err:
        result.problems.append(Problem(here, f"cannot read this image: {err.strerror or err}"))
        return result
    chosen = []
    for ref in refs:
        try:
            chosen.append(_with_config(store, ref, options.verify))
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
            result.images.append(_image(path, store, ref, config, several, options.verify, result.problems))
        except ImageError as err:
            result.problems.append(Problem(here, f"image {ref.reference}: {err}"))
    return result


def _store(path: str, open_files: contextlib.ExitStack, verify: bool) -> Store:
    if os.path.isdir(path):
        return FolderStore(path)
    fh = open_files.enter_context(open(path, "rb", buffering=0))
    size = os.fstat(fh.fileno()).st_size
    head = fh.read(4)
    fh.seek(0)
    seekable = fh.seekable()
    stream = open_tar(FileRegion(fh, 0, size) if seekable else FileStream(fh), head)
    # An uncompressed file can be read again where a layer starts; a stream cannot.
    return TarStore(stream, fh if isinstance(stream, FileRegion) else None, verify)


def _with_config(store: Store, ref: layout.ImageRef, verify: bool) -> tuple[layout.ImageRef, dict[str, object]]:
    config = layout.load_json(store, ref.config, verify)
    if not isinstance(config, dict):
        raise ImageError(f"its config {ref.config.name} is not a JSON object")
    platform = ref.platform or layout.platform_of(config)
    return replace(ref, platform=platform), config


def _image(path: str, store: Store, ref: layout.ImageRef, config: dict[str, object], several: bool, verify: bool,
           problems: list[Problem]) -> Image:
    label = f"{ref.reference} ({ref.platform})" if several and ref.platform else ref.reference
    for number, blob in enumerate(ref.layers, start=1):
        if not store.has(blob.name):
            raise ImageError(f"layer {number} ({blob.name}): not in the {store.where}")
    expects = _expectations(ref, config) if verify else [None] * len(ref.layers)
    fs = Filesystem()
    budget = Budget()
    for number, (blob, expect) in enumerate(zip(ref.layers, expects), start=1):
        try:
            fs.apply(store.layer(blob.name, budget, expect))
        except ImageError as err:
            raise ImageError(f"layer {number} ({blob.name}): {err}") from None
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


def _expectations(ref: layout.ImageRef, config: dict[str, object]) -> list[Expect]:
    """What each layer must hash to: its descriptor's digest and size (OCI), its
    name's digest (docker save since 25), and for a docker save archive the
    config's diff ids, as `docker load` checks them."""
    if not ref.docker_save:
        return [Expect(blob=b.digest, size=b.size) for b in ref.layers]
    rootfs = config.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
        raise ImageError(f"its config {ref.config.name} has no rootfs.diff_ids to check the layers against "
                         "(docker load refuses it); --no-verify reads it unchecked")
    if len(diff_ids) != len(ref.layers):
        raise ImageError(f"its config lists {len(diff_ids)} diff ids for {len(ref.layers)} layers "
                         "(docker load refuses it); --no-verify reads it unchecked")
    return [Expect(blob=b.digest, diff_id=d) for b, d in zip(ref.layers, diff_ids)]


def _file(inner: str, span: Span, entry: Meta, label: str, problems: list[Problem]) -> ImageFile:
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
