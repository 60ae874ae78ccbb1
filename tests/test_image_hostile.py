"""Hostile saved images: each a clear CAP001 naming the problem, nothing written,
memory bounded, no hang — through the real CLI process, each under a timeout."""
from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from imagebuild import Img, caps, docker_save, file, folder, layer, oci_layout, opaque

from caplint.engine import Settings
from caplint.image import Options, layers, store, streams
from caplint.image.lint import lint

TIMEOUT = 60
# Each caplint process gets at most this much heap (RLIMIT_DATA counts malloc and
# anonymous mmap): reading a hostile archive into memory fails the test at once.
MAX_DATA_MIB = 128


def raw_member(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE, linkname: str = "",
               data: bytes = b"") -> bytes:
    """A tar header exactly as given (tarfile.add would clean the name), then `data` padded."""
    info = tarfile.TarInfo(name)
    info.size, info.type, info.linkname, info.mode = size, kind, linkname, 0o755
    header = info.tobuf(format=tarfile.GNU_FORMAT)
    return header + data + bytes(-len(data) % 512)


def raw_layer(*members: bytes) -> bytes:
    return b"".join(members) + bytes(1024)


def saved(tmp_path: Path, *layer_blobs: bytes) -> Path:
    return docker_save(tmp_path / "app.tar", Img([layer(folder("etc")), *layer_blobs], user="1000"))


def _bounded() -> None:
    limit = MAX_DATA_MIB << 20
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def cli(path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "caplint", "image", "-f", "gnu", *flags, str(path)], capture_output=True,
                          text=True, cwd=path.parent, env=env, timeout=TIMEOUT, preexec_fn=_bounded)


def _bomb(tmp_path: Path) -> Path:
    # A layer whose one member claims 4 GiB of zeros: gzip shrinks them a thousand times.
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = tarfile.TarInfo("zeros")
    head.size = 4 << 30
    parts = [z.compress(head.tobuf(format=tarfile.GNU_FORMAT))]
    chunk = bytes(1 << 20)
    parts.extend(z.compress(chunk) for _ in range(1300))  # 1.3 GiB is past the limit
    parts.append(z.flush())
    return saved(tmp_path, b"".join(parts))


def _huge_pax(tmp_path: Path) -> Path:
    # A PAX header of 300 MB, really there (sparse on disk, so cheap to make).
    info = tarfile.TarInfo("././@PaxHeader")
    info.type, info.size = tarfile.XHDTYPE, 300 << 20
    path = tmp_path / "pax.tar"
    with open(path, "wb") as fh:
        fh.write(info.tobuf(format=tarfile.GNU_FORMAT))
        fh.seek((300 << 20) + 512)
        fh.write(raw_member("x") + bytes(1024))
    return path


def _member_larger_than_archive(tmp_path: Path) -> Path:
    return saved(tmp_path, raw_layer(raw_member("etc/big", size=10 << 30)))


def _outer_member_larger_than_archive(tmp_path: Path) -> Path:
    path = tmp_path / "outer.tar"
    path.write_bytes(raw_member("manifest.json", size=1 << 40) + bytes(4096))
    return path


def _truncated(tmp_path: Path) -> Path:
    good = saved(tmp_path, layer(*[file(f"bin/f{i}", data=os.urandom(2000)) for i in range(40)]))
    data = good.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) // 2])
    return cut


def _truncated_gzip_layer(tmp_path: Path) -> Path:
    blob = layer(*[file(f"bin/f{i}", data=os.urandom(3000)) for i in range(20)], compress="gzip")
    return saved(tmp_path, blob[: len(blob) // 2])


def _index_loop(tmp_path: Path) -> Path:
    index = "application/vnd.oci.image.index.v1+json"
    a, b = "a" * 64, "b" * 64
    files = {
        "oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
        "index.json": json.dumps({"manifests": [{"mediaType": index, "digest": f"sha256:{a}"}]}).encode(),
        f"blobs/sha256/{a}": json.dumps({"manifests": [{"mediaType": index, "digest": f"sha256:{b}"}]}).encode(),
        f"blobs/sha256/{b}": json.dumps({"manifests": [{"mediaType": index, "digest": f"sha256:{a}"}]}).encode(),
    }
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    return tmp_path


def _missing_layer(tmp_path: Path) -> Path:
    path = tmp_path / "app.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in {"cfg.json": b'{"config": {"User": "1"}}',
                           "manifest.json": json.dumps([{"Config": "cfg.json", "RepoTags": ["a:1"],
                                                         "Layers": ["gone/layer.tar"]}]).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _missing_oci_blob(tmp_path: Path) -> Path:
    oci_layout(tmp_path, Img([layer(file("su", 0o4755))]))
    for blob in (tmp_path / "blobs" / "sha256").iterdir():
        if blob.read_bytes()[:1] != b"{":
            blob.unlink()
    return tmp_path


def _outer_symlink_escape(tmp_path: Path) -> Path:
    path = tmp_path / "app.tar"
    path.write_bytes(raw_member("layer.tar", kind=tarfile.SYMTYPE, linkname="../../../etc/shadow") + bytes(1024))
    return path


def _json_bomb(tmp_path: Path) -> Path:
    path = tmp_path / "app.tar"
    data = b"[" * 200_000 + b"]" * 200_000
    path.write_bytes(raw_member("manifest.json", size=len(data), data=data) + bytes(1024))
    return path


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "dot-dot name": (lambda t: saved(t, raw_layer(raw_member("../../etc/cron.d/x"))),
                     "member '../../etc/cron.d/x' steps out of the image with '..'"),
    "absolute name": (lambda t: saved(t, raw_layer(raw_member("/etc/passwd"))),
                      "member '/etc/passwd' is an absolute path"),
    "hard link out of the tree": (lambda t: saved(t, raw_layer(raw_member("x", kind=tarfile.LNKTYPE,
                                                                          linkname="../../etc/shadow"))),
                                  "hard link 'x' → target '../../etc/shadow' steps out of the image"),
    "symlink out of the tree": (lambda t: saved(t, raw_layer(raw_member("etc/x", kind=tarfile.SYMTYPE,
                                                                        linkname="../../../host"))),
                                "symlink 'etc/x' → '../../../host' points outside the image"),
    "hard link to nothing": (lambda t: saved(t, raw_layer(raw_member("x", kind=tarfile.LNKTYPE, linkname="nope"))),
                             "hard link 'x' → 'nope': no such file in the image"),
    "archive link out of the tree": (_outer_symlink_escape, "is a link to '../../../etc/shadow', outside the archive"),
    "member larger than the layer": (_member_larger_than_archive, "member 'etc/big' claims 10737418240 bytes"),
    "member larger than the archive": (_outer_member_larger_than_archive,
                                       "member 'manifest.json' claims 1099511627776 bytes, but only"),
    "truncated archive": (_truncated, "truncated"),
    "truncated gzip layer": (_truncated_gzip_layer, "truncated gzip data"),
    "gzip bomb": (_bomb, "gzip data expands more than 200 times"),
    "huge PAX header": (_huge_pax, "PAX header of member '././@PaxHeader' is 314572800 bytes"),
    "missing layer": (_missing_layer, "image a:1: layer 1 (gone/layer.tar): not in the archive"),
    "missing OCI blob": (_missing_oci_blob, "): not in the layout"),
    # Blobs are named by their digests, so a loop of indexes cannot hash right (CAP001 for
    # that), and without the check the walk still stops at the loop.
    "index loop": (_index_loop, "the image gives for it: a corrupt or altered image"),
    "index loop, unverified": (_index_loop, "index loop: blobs/sha256/aaaa"),
    "JSON nesting bomb": (_json_bomb, "manifest.json is not valid JSON"),
    "not an archive": (lambda t: (t / "x.tar").write_bytes(os.urandom(4096)) and t / "x.tar",
                       "a header's checksum is wrong"),
    "empty file": (lambda t: (t / "x.tar").write_bytes(b"") or t / "x.tar",
                   "neither a docker save archive (no manifest.json) nor an OCI image layout"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_image(tmp_path: Path, case: str) -> None:
    make, message = CASES[case]
    (tmp_path / "in").mkdir()
    path = make(tmp_path / "in")
    before = sorted(p for p in tmp_path.rglob("*"))
    run = cli(path, *(["--no-verify"] if case.endswith(", unverified") else []))
    assert "Traceback" not in run.stderr
    assert run.returncode == 1, run.stderr
    assert "[CAP001]" in run.stdout and message in run.stdout, run.stdout
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing written


def test_too_many_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layers, "MAX_ENTRIES", 50)
    path = saved(tmp_path, layer(*[file(f"f{i}") for i in range(60)]))
    (problem,) = lint([str(path)], Settings(), Options())
    assert problem.rule_id == "CAP001" and "more than 50 entries" in problem.message


def test_a_small_bomb_with_a_lower_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streams, "BOMB_FLOOR", 1 << 20)
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    blob = z.compress(raw_member("zeros", size=64 << 20)[:512]) + z.compress(bytes(64 << 20)) + z.flush()
    found = lint([str(saved(tmp_path, blob))], Settings(), Options())
    assert [f.rule_id for f in found] == ["CAP001"]
    assert "compression bomb" in found[0].message


def test_a_hostile_image_does_not_hide_the_good_one_beside_it(tmp_path: Path) -> None:
    bad = saved(tmp_path, raw_layer(raw_member("../x")))
    (tmp_path / "good").mkdir()
    good = docker_save(tmp_path / "good" / "app.tar", Img([layer(file("usr/bin/tool", caps=caps("NET_ADMIN")))],
                                                           user="1000"))
    found = lint([str(bad), str(good)], Settings(), Options())
    assert {(f.span.path, f.rule_id) for f in found} == {(str(bad), "CAP001"), (str(good), "CAP207")}


def test_folders_nested_thousands_deep(tmp_path: Path) -> None:
    deep = "/".join(["d"] * 5000)
    lower = layer(folder("d"), file(f"{deep}/su", 0o4755))
    upper = layer(opaque("d"), file("d/x", 0o4755))
    found = lint([str(saved(tmp_path, lower, upper))], Settings(), Options())
    assert [(f.rule_id, f.span.member) for f in found] == [("CAP402", "/d/x")]


def test_too_many_json_documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "MAX_DOCUMENTS", 10_000)
    path = tmp_path / "app.tar"
    doc = b'{"x": "' + b"y" * 3000 + b'"}'
    path.write_bytes(b"".join(raw_member(f"doc{i}.json", size=len(doc), data=doc) for i in range(5)) + bytes(1024))
    (problem,) = lint([str(path)], Settings(), Options())
    assert "of JSON documents: not an image archive" in problem.message
