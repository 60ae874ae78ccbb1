"""Build saved images in Python for the tests: layer tars made with `tarfile`
(PAX headers carrying `SCHILY.xattr.security.capability`), put together as a
`docker save` tarball or an OCI image layout (folder or tar)."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from caplint.image import vfscap
from caplint.model import FileCapability


@dataclass(frozen=True)
class Ent:
    path: str
    kind: str = "file"  # file, dir, symlink, hardlink, char
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    uname: str = "root"
    gname: str = "root"
    target: str = ""
    caps: bytes | None = None
    data: bytes = b""


def file(path: str, mode: int = 0o755, caps: bytes | None = None, **kw: object) -> Ent:
    return Ent(path, "file", mode, caps=caps, **kw)  # type: ignore[arg-type]


def folder(path: str, mode: int = 0o755) -> Ent:
    return Ent(path, "dir", mode)


def symlink(path: str, target: str) -> Ent:
    return Ent(path, "symlink", 0o777, target=target)


def hardlink(path: str, target: str, mode: int = 0o755, caps: bytes | None = None) -> Ent:
    return Ent(path, "hardlink", mode, target=target, caps=caps)


def whiteout(path: str) -> Ent:
    head, _, name = path.rpartition("/")
    return Ent(f"{head}/.wh.{name}" if head else f".wh.{name}")


def opaque(folder_path: str) -> Ent:
    return Ent(f"{folder_path}/.wh..wh..opq")


def caps(*names: str, effective: bool = True, inheritable: Sequence[str] = (), version: int = 2,
         rootid: int | None = None) -> bytes:
    return vfscap.encode(FileCapability(version, effective, tuple(names), tuple(inheritable), rootid))


_TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
          "hardlink": tarfile.LNKTYPE, "char": tarfile.CHRTYPE}


def layer(*entries: Ent, compress: str | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.path)
            info.type = _TYPES[e.kind]
            info.mode, info.uid, info.gid, info.uname, info.gname = e.mode, e.uid, e.gid, e.uname, e.gname
            info.mtime = 1_700_000_000
            info.linkname = e.target
            if e.caps is not None:
                info.pax_headers = {"SCHILY.xattr.security.capability": e.caps.decode("utf-8", "surrogateescape")}
            info.size = len(e.data) if e.kind == "file" else 0
            tar.addfile(info, io.BytesIO(e.data) if e.kind == "file" else None)
    data = buf.getvalue()
    if compress == "gzip":
        return gzip.compress(data, mtime=0)
    if compress == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    return data


@dataclass
class Img:
    layers: list[bytes]
    user: str | None = None
    tags: list[str] = field(default_factory=lambda: ["example/app:1"])
    os: str = "linux"
    arch: str = "amd64"

    def config(self) -> bytes:
        cfg: dict[str, object] = {"Env": ["PATH=/usr/bin"]}
        if self.user is not None:
            cfg["User"] = self.user
        return json.dumps({"architecture": self.arch, "os": self.os, "config": cfg,
                           "rootfs": {"type": "layers", "diff_ids": []}}).encode()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1_700_000_000
    tar.addfile(info, io.BytesIO(data))


def docker_save(dest: Path, *images: Img, legacy: bool = True) -> Path:
    """`docker save` before Docker 25 (`<id>/layer.tar`, `<id>.json`) or, with
    legacy=False, Docker 25's (blobs/sha256/…, plus the legacy names as symlinks)."""
    manifest = []
    with tarfile.open(dest, "w") as tar:
        for img in images:
            names = []
            for data in img.layers:
                hexid = hashlib.sha256(data).hexdigest()
                name = f"{hexid}/layer.tar" if legacy else f"blobs/sha256/{hexid}"
                _add(tar, name, data)
                if not legacy:
                    link = tarfile.TarInfo(f"{hexid}/layer.tar")
                    link.type, link.linkname = tarfile.SYMTYPE, f"../blobs/sha256/{hexid}"
                    tar.addfile(link)
                names.append(name)
            config = img.config()
            config_name = f"{hashlib.sha256(config).hexdigest()}.json" if legacy \
                else f"blobs/sha256/{hashlib.sha256(config).hexdigest()}"
            _add(tar, config_name, config)
            manifest.append({"Config": config_name, "RepoTags": img.tags, "Layers": names})
        _add(tar, "manifest.json", json.dumps(manifest).encode())
    return dest


def _descriptor(media: str, data: bytes, **extra: object) -> dict[str, object]:
    return {"mediaType": media, "digest": _digest(data), "size": len(data), **extra}


def oci_blobs(*images: Img, index: bool = False) -> tuple[dict[str, bytes], bytes]:
    """(blob name → bytes, index.json) for an OCI layout; `index` puts the
    images in a nested image index, as a multi-platform image is."""
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> None:
        blobs[f"blobs/sha256/{hashlib.sha256(data).hexdigest()}"] = data

    descriptors = []
    for img in images:
        config = img.config()
        put(config)
        layers = []
        for data in img.layers:
            put(data)
            media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if data[:2] == b"\x1f\x8b" else "")
            layers.append(_descriptor(media, data))
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": _descriptor("application/vnd.oci.image.config.v1+json", config),
                               "layers": layers}).encode()
        put(manifest)
        descriptors.append(_descriptor("application/vnd.oci.image.manifest.v1+json", manifest,
                                       platform={"os": img.os, "architecture": img.arch},
                                       annotations={"org.opencontainers.image.ref.name": img.tags[0]}))
    if index:
        nested = json.dumps({"schemaVersion": 2, "manifests": [
            {k: v for k, v in d.items() if k != "annotations"} for d in descriptors]}).encode()
        put(nested)
        descriptors = [_descriptor("application/vnd.oci.image.index.v1+json", nested,
                                   annotations={"org.opencontainers.image.ref.name": images[0].tags[0]})]
    return blobs, json.dumps({"schemaVersion": 2, "manifests": descriptors}).encode()


def oci_layout(dest: Path, *images: Img, as_tar: bool = False, index: bool = False) -> Path:
    blobs, index_json = oci_blobs(*images, index=index)
    files = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}', "index.json": index_json, **blobs}
    if as_tar:
        with tarfile.open(dest, "w") as tar:
            for name, data in sorted(files.items()):
                _add(tar, name, data)
        return dest
    for name, data in files.items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_bytes(data)
    return dest
