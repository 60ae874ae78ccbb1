"""Build saved images in Python for the tests: layer tars made with `tarfile`
(PAX headers carrying `SCHILY.xattr.security.capability`), put together as a
`docker save` tarball or an OCI image layout (folder or tar)."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zlib
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
                           "rootfs": {"type": "layers", "diff_ids": [diff_id(data) for data in self.layers]}}).encode()


def diff_id(blob: bytes) -> str:
    """The digest of a layer's uncompressed tar, as the config lists it. A layer that
    does not decompress (a hostile test's) gets the digest of what does, up to 64 MiB."""
    data = blob
    if blob[:2] == b"\x1f\x8b":
        z = zlib.decompressobj(wbits=31)
        try:
            data = z.decompress(blob, 64 << 20)
        except zlib.error:
            pass
    elif blob[:4] == b"\x28\xb5\x2f\xfd":
        import zstandard

        data = zstandard.ZstdDecompressor().decompressobj().decompress(blob)
    return _digest(data)


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


# GNU sparse members, as GNU tar writes them for a file with holes (`tar -S`).

def _with_checksum(block: bytearray) -> bytes:
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def _pieces(pieces: Sequence[tuple[int, bytes]]) -> bytes:
    data = b"".join(piece for _, piece in pieces)
    return data + bytes(-len(data) % 512)


def gnu_sparse(path: str, mode: int, pieces: Sequence[tuple[int, bytes]], realsize: int) -> bytes:
    """An old GNU sparse member (typeflag 'S'): four map entries in its header, 21
    in each extension block after it, then the pieces' data."""
    info = tarfile.TarInfo(path)
    info.type, info.mode, info.mtime = b"S", mode, 1_700_000_000
    info.size = sum(len(piece) for _, piece in pieces)
    info.uname = info.gname = "root"
    header = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    entries = [b"%011o\0%011o\0" % (offset, len(piece)) for offset, piece in pieces]
    header[386:386 + 24 * min(4, len(entries))] = b"".join(entries[:4])
    header[482] = 1 if len(entries) > 4 else 0
    header[483:495] = b"%011o\0" % realsize
    blocks = [_with_checksum(header)]
    rest = entries[4:]
    while rest:
        block = bytearray(512)
        block[0:24 * min(21, len(rest))] = b"".join(rest[:21])
        rest = rest[21:]
        block[504] = 1 if rest else 0
        blocks.append(bytes(block))
    return b"".join(blocks) + _pieces(pieces)


def pax_sparse(path: str, mode: int, pieces: Sequence[tuple[int, bytes]], realsize: int, version: str,
               caps: bytes | None = None) -> bytes:
    """A PAX sparse member, GNU format 0.0, 0.1 or 1.0."""
    records: dict[str, str] = {}
    name, data = path, _pieces(pieces)
    if version == "0.0":
        records = {"GNU.sparse.size": str(realsize), "GNU.sparse.numblocks": str(len(pieces))}
        for offset, piece in pieces:  # repeated keys: written record by record below
            records[f"GNU.sparse.offset#{offset}"] = str(offset)
    elif version == "0.1":
        records = {"GNU.sparse.size": str(realsize), "GNU.sparse.numblocks": str(len(pieces)),
                   "GNU.sparse.map": ",".join(f"{o},{len(p)}" for o, p in pieces), "GNU.sparse.name": path}
        name = f"{path.rpartition('/')[0]}/GNUSparseFile.0/{path.rpartition('/')[2]}"
    else:
        records = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": path,
                   "GNU.sparse.realsize": str(realsize)}
        name = f"{path.rpartition('/')[0]}/GNUSparseFile.0/{path.rpartition('/')[2]}"
        sparse_map = f"{len(pieces)}\n" + "".join(f"{o}\n{len(p)}\n" for o, p in pieces)
        data = sparse_map.encode() + bytes(-len(sparse_map) % 512) + data
    if caps is not None:
        records["SCHILY.xattr.security.capability"] = caps.decode("latin-1")
    body = b""
    for key, value in records.items():
        if key.startswith("GNU.sparse.offset#"):
            offset = int(value)
            piece = next(p for o, p in pieces if o == offset)
            body += _record("GNU.sparse.offset", str(offset).encode()) + _record("GNU.sparse.numbytes",
                                                                                 str(len(piece)).encode())
        else:
            body += _record(key, value.encode("latin-1") if key.startswith("SCHILY") else value.encode())
    pax = tarfile.TarInfo("././@PaxHeader")
    pax.type, pax.size = tarfile.XHDTYPE, len(body)
    info = tarfile.TarInfo(name)
    info.mode, info.mtime, info.size = mode, 1_700_000_000, len(data)
    info.uname = info.gname = "root"
    return (pax.tobuf(format=tarfile.USTAR_FORMAT) + body + bytes(-len(body) % 512)
            + info.tobuf(format=tarfile.USTAR_FORMAT) + data)


def _record(key: str, value: bytes) -> bytes:
    """One PAX record, `LEN key=value\\n`, LEN counting itself."""
    rest = b" " + key.encode() + b"=" + value + b"\n"
    length = len(rest) + 1
    while len(str(length)) + len(rest) != length:
        length += 1
    return str(length).encode() + rest
