"""Which images a store holds: `docker save`'s manifest.json, or an OCI
index.json walked through nested indexes, with each image's config and layers."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from caplint.image.store import Store
from caplint.image.streams import ImageError

MAX_DEPTH = 8
_DIGEST = re.compile(r"([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)")
_INDEXES = {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
_MANIFESTS = {"application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"}
_NAMED = re.compile(r"blobs/sha256/([0-9a-f]{64})|([0-9a-f]{64})\.json")
_NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


@dataclass(frozen=True)
class Blob:
    """A blob's name in the store and what it must be: its digest (`sha256:<hex>`)
    and size, as a descriptor or the name itself gives them."""

    name: str
    digest: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class ImageRef:
    reference: str
    names: tuple[str, ...]  # its tags
    platform: str  # os/arch[/variant], or "" until the config says
    config: Blob
    layers: tuple[Blob, ...]
    docker_save: bool = False  # from manifest.json: layers are checked by the config's diff ids


def load_json(store: Store, name: str | Blob, verify: bool = False) -> Any:
    blob = name if isinstance(name, Blob) else Blob(name)
    data = store.document(blob.name)
    if verify:
        check_document(blob, data)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as err:
        raise ImageError(f"{blob.name} is not valid JSON ({str(err)[:120]})") from None


def check_document(blob: Blob, data: bytes) -> None:
    """A manifest, index or config must hash to its digest, as `docker load` checks."""
    import hashlib

    if blob.size is not None and blob.size != len(data):
        raise ImageError(f"{blob.name} is {len(data)} bytes, not the {blob.size} its descriptor gives: "
                         "a corrupt or altered image (docker load refuses it)")
    if blob.digest is None:
        return
    algorithm, _, want = blob.digest.partition(":")
    if algorithm not in ("sha256", "sha512"):
        raise ImageError(f"{blob.name}: digest algorithm {algorithm!r} is not one caplint can check "
                         "(sha256, sha512); --no-verify reads the image unchecked")
    have = hashlib.new(algorithm, data).hexdigest()
    if have != want:
        raise ImageError(f"{blob.name} has digest {algorithm}:{have}, not the {blob.digest} the image gives "
                         "for it: a corrupt or altered image (docker load refuses it)")


def blob_name(digest: object, where: str) -> str:
    m = _DIGEST.fullmatch(digest) if isinstance(digest, str) else None
    if m is None:
        raise ImageError(f"{where}: {digest!r} is not a digest")
    return f"blobs/{m.group(1)}/{m.group(2)}"


def descriptor_blob(d: object, where: str) -> Blob:
    digest = d.get("digest") if isinstance(d, dict) else None
    size = d.get("size") if isinstance(d, dict) else None
    return Blob(blob_name(digest, where), str(digest), size if isinstance(size, int) and size >= 0 else None)


def named_blob(name: str) -> Blob:
    """A docker save member named by its content: `blobs/sha256/<hex>` or a config's `<hex>.json`."""
    m = _NAMED.fullmatch(name)
    return Blob(name, f"sha256:{m.group(1) or m.group(2)}" if m else None)


def platform_of(value: object) -> str:
    """`os/architecture[/variant]` of an OCI platform object or an image config."""
    if not isinstance(value, dict):
        return ""
    parts = [value.get("os"), value.get("architecture"), value.get("variant")]
    return "/".join(p for p in parts if isinstance(p, str) and p)


def images(store: Store, verify: bool = True) -> list[ImageRef]:
    if store.has("manifest.json"):
        return _docker_save(store)
    if store.has("index.json"):
        found: list[ImageRef] = []
        _walk_index(store, "index.json", None, (), found, verify)
        return found
    raise ImageError("neither a docker save archive (no manifest.json) nor an OCI image layout (no index.json)")


def _docker_save(store: Store) -> list[ImageRef]:
    doc = load_json(store, "manifest.json")
    if not isinstance(doc, list):
        raise ImageError("manifest.json is not a list of images")
    found = []
    for i, item in enumerate(doc):
        where = f"manifest.json image {i + 1}"
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str) \
                or not isinstance(item.get("Layers"), list) or not all(isinstance(x, str) for x in item["Layers"]):
            raise ImageError(f"{where} lacks a Config name or a Layers list")
        tags = tuple(t for t in item.get("RepoTags") or () if isinstance(t, str))
        # Before Docker 25 a layer's folder is a v1 id, no digest: its config's diff ids check it.
        found.append(ImageRef(", ".join(tags) or _config_id(item["Config"]), tags, "", named_blob(item["Config"]),
                              tuple(named_blob(name) for name in item["Layers"]), docker_save=True))
    return found


def _config_id(name: str) -> str:
    """An untagged image's id from its config's name (`<hex>.json`, `blobs/sha256/<hex>`)."""
    stem = name.rsplit("/", 1)[-1].removesuffix(".json")
    return f"sha256:{stem}" if "/" not in name or name.startswith("blobs/sha256/") else name


def _walk_index(store: Store, index: str | Blob, reference: str | None, path: tuple[str, ...], found: list[ImageRef],
                verify: bool) -> None:
    name = index.name if isinstance(index, Blob) else index
    if name in path:
        raise ImageError(f"index loop: {name} refers back to itself through {' → '.join(path[path.index(name):])}")
    if len(path) >= MAX_DEPTH:
        raise ImageError(f"indexes nested more than {MAX_DEPTH} deep at {name}")
    doc = load_json(store, index, verify)
    manifests = doc.get("manifests") if isinstance(doc, dict) else None
    if not isinstance(manifests, list):
        raise ImageError(f"{name} has no manifests list")
    for i, d in enumerate(manifests):
        where = f"{name} manifest {i + 1}"
        if not isinstance(d, dict):
            raise ImageError(f"{where} is not a descriptor")
        given = d.get("annotations")
        annotations: dict[str, object] = given if isinstance(given, dict) else {}
        if annotations.get("vnd.docker.reference.type") == "attestation-manifest" \
                or platform_of(d.get("platform")).startswith("unknown/"):
            continue  # build provenance and SBOMs (platform unknown/unknown), not a runnable image
        blob = descriptor_blob(d, where)
        if not store.has(blob.name):
            raise ImageError(f"{where} points at {blob.name}, which is not in the layout")
        ref = reference or next((str(annotations[k]) for k in _NAME_ANNOTATIONS
                                 if isinstance(annotations.get(k), str)), None)
        media = d.get("mediaType")
        if media in _INDEXES:
            _walk_index(store, blob, ref, (*path, name), found, verify)
        elif media in _MANIFESTS or media is None:
            found.append(_manifest(store, blob, ref, platform_of(d.get("platform")), verify))


def _manifest(store: Store, blob: Blob, tag: str | None, platform: str, verify: bool) -> ImageRef:
    name, digest = blob.name, str(blob.digest)
    doc = load_json(store, blob, verify)
    if isinstance(doc, dict) and isinstance(doc.get("manifests"), list):
        raise ImageError(f"{name} is an index where a manifest was expected")
    config = doc.get("config") if isinstance(doc, dict) else None
    layers = doc.get("layers") if isinstance(doc, dict) else None
    if not isinstance(config, dict) or not isinstance(layers, list):
        raise ImageError(f"{name} is not an image manifest (no config or layers)")
    names = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict):
            raise ImageError(f"{name} layer {i + 1} is not a descriptor")
        names.append(descriptor_blob(layer, f"{name} layer {i + 1}"))
    return ImageRef(tag or digest, (tag,) if tag else (), platform, descriptor_blob(config, f"{name} config"),
                    tuple(names))


def matches(platform: str, wanted: str) -> bool:
    """`linux/arm64` matches `linux/arm64` and `linux/arm64/v8`; a variant, when
    asked for, must match."""
    have, want = platform.split("/"), wanted.strip().lower().split("/")
    return [p.lower() for p in have[:len(want)]] == want
