"""Which images a store holds: `docker save`'s manifest.json, or an OCI
index.json walked through nested indexes, with each image's config and layers."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from caplint.image.store import Store
from caplint.image.streams import ImageError
from caplint import lazyre

MAX_DEPTH = 8
_DIGEST = lazyre.compile(r"([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)")
_INDEXES = {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
_MANIFESTS = {"application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"}
_NAME_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


@dataclass(frozen=True)
class ImageRef:
    reference: str
    names: tuple[str, ...]  # its tags
    platform: str  # os/arch[/variant], or "" until the config says
    config: str  # the config's name in the store
    layers: tuple[str, ...]


def load_json(store: Store, name: str) -> Any:
    try:
        return json.loads(store.document(name))
    except (ValueError, RecursionError) as err:
        raise ImageError(f"{name} is not valid JSON ({str(err)[:120]})") from None


def blob_name(digest: object, where: str) -> str:
    m = _DIGEST.fullmatch(digest) if isinstance(digest, str) else None
    if m is None:
        raise ImageError(f"{where}: {digest!r} is not a digest")
    return f"blobs/{m.group(1)}/{m.group(2)}"


def platform_of(value: object) -> str:
    """`os/architecture[/variant]` of an OCI platform object or an image config."""
    if not isinstance(value, dict):
        return ""
    parts = [value.get("os"), value.get("architecture"), value.get("variant")]
    return "/".join(p for p in parts if isinstance(p, str) and p)


def images(store: Store) -> list[ImageRef]:
    if store.has("manifest.json"):
        return _docker_save(store)
    if store.has("index.json"):
        found: list[ImageRef] = []
        _walk_index(store, "index.json", None, (), found)
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
        found.append(ImageRef(", ".join(tags) or _config_id(item["Config"]), tags, "", item["Config"],
                              tuple(item["Layers"])))
    return found


def _config_id(name: str) -> str:
    """An untagged image's id from its config's name (`<hex>.json`, `blobs/sha256/<hex>`)."""
    stem = name.rsplit("/", 1)[-1].removesuffix(".json")
    return f"sha256:{stem}" if "/" not in name or name.startswith("blobs/sha256/") else name


def _walk_index(store: Store, name: str, reference: str | None, path: tuple[str, ...], found: list[ImageRef]) -> None:
    if name in path:
        raise ImageError(f"index loop: {name} refers back to itself through {' → '.join(path[path.index(name):])}")
    if len(path) >= MAX_DEPTH:
        raise ImageError(f"indexes nested more than {MAX_DEPTH} deep at {name}")
    doc = load_json(store, name)
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
        blob = blob_name(d.get("digest"), where)
        if not store.has(blob):
            raise ImageError(f"{where} points at {blob}, which is not in the layout")
        ref = reference or next((str(annotations[k]) for k in _NAME_ANNOTATIONS
                                 if isinstance(annotations.get(k), str)), None)
        media = d.get("mediaType")
        if media in _INDEXES:
            _walk_index(store, blob, ref, (*path, name), found)
        elif media in _MANIFESTS or media is None:
            found.append(_manifest(store, blob, ref, str(d.get("digest")), platform_of(d.get("platform"))))


def _manifest(store: Store, name: str, tag: str | None, digest: str, platform: str) -> ImageRef:
    doc = load_json(store, name)
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
        names.append(blob_name(layer.get("digest"), f"{name} layer {i + 1}"))
    return ImageRef(tag or digest, (tag,) if tag else (), platform, blob_name(config.get("digest"), f"{name} config"),
                    tuple(names))


def matches(platform: str, wanted: str) -> bool:
    """`linux/arm64` matches `linux/arm64` and `linux/arm64/v8`; a variant, when
    asked for, must match."""
    have, want = platform.split("/"), wanted.strip().lower().split("/")
    return [p.lower() for p in have[:len(want)]] == want
