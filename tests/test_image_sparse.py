"""GNU sparse members (old GNU 'S' headers, PAX sparse 0.0, 0.1 and 1.0) are regular
files: their mode, owner and xattrs are judged like any other file's, and the
members after them are read in step."""
from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from imagebuild import Img, caps, docker_save, file, folder, gnu_sparse, layer, pax_sparse

from caplint.engine import Settings
from caplint.image import Options
from caplint.image.lint import lint

HOLES = [(0, b"\x7fELF" + bytes(508)), (1 << 20, b"x" * 700), (5 << 20, b"tail")]
MANY = [(i * 100_000, bytes([65 + i % 26]) * (i + 1)) for i in range(30)]  # two extension blocks


def judged(tmp_path: Path, member: bytes) -> list[tuple[str, str]]:
    # The sparse member between ordinary ones: a misread size would lose the one after it.
    before = layer(folder("usr"), folder("usr/bin"))[:1024]
    after = layer(file("usr/bin/after", caps=caps("NET_ADMIN")))
    raw = before + member + after
    path = docker_save(tmp_path / "app.tar", Img([raw], user="1000"))
    return [(f.rule_id, f.message.split(" in ")[0]) for f in lint([str(path)], Settings(), Options())]


@pytest.mark.parametrize("pieces", [HOLES, MANY], ids=["in-header map", "extension blocks"])
def test_old_gnu_sparse(tmp_path: Path, pieces: list[tuple[int, bytes]]) -> None:
    member = gnu_sparse("usr/bin/sparse-su", 0o4755, pieces, realsize=8 << 20)
    assert judged(tmp_path, member) == [("CAP207", "/usr/bin/after"), ("CAP402", "/usr/bin/sparse-su")]


@pytest.mark.parametrize("version", ["0.0", "0.1", "1.0"])
@pytest.mark.parametrize("pieces", [HOLES, MANY], ids=["3 pieces", "30 pieces"])
def test_pax_sparse(tmp_path: Path, version: str, pieces: list[tuple[int, bytes]]) -> None:
    member = pax_sparse("usr/bin/sparse-tool", 0o2755, pieces, realsize=8 << 20, version=version,
                        caps=caps("SYS_ADMIN"))
    # 0.1 and 1.0 keep the real name in GNU.sparse.name, not GNUSparseFile.0/…
    assert judged(tmp_path, member) == [("CAP207", "/usr/bin/after"), ("CAP207", "/usr/bin/sparse-tool"),
                                        ("CAP402", "/usr/bin/sparse-tool")]


def _gnu_tar() -> str | None:
    tar = shutil.which("tar")
    if tar is None:
        return None
    version = subprocess.run([tar, "--version"], capture_output=True, text=True).stdout
    return tar if "GNU tar" in version else None


@pytest.mark.skipif(_gnu_tar() is None, reason="GNU tar is not installed")
@pytest.mark.parametrize("fmt", ["gnu", "pax-0.0", "pax-0.1", "pax-1.0"])
def test_what_gnu_tar_writes(tmp_path: Path, fmt: str) -> None:
    root = tmp_path / "root"
    (root / "usr" / "bin").mkdir(parents=True)
    holes = root / "usr" / "bin" / "holes"
    with open(holes, "wb") as fh:
        for offset, piece in MANY:
            fh.seek(offset)
            fh.write(piece)
        fh.truncate(8 << 20)
    os.chmod(holes, 0o4755)
    (root / "usr" / "bin" / "plain").write_bytes(b"#!/bin/sh\n")
    os.chmod(root / "usr" / "bin" / "plain", 0o6755)
    out = tmp_path / "layer.tar"
    kind, _, version = fmt.partition("-")
    options = ["--format=gnu"] if kind == "gnu" else ["--format=pax", f"--sparse-version={version}"]
    subprocess.run([str(_gnu_tar()), *options, "-S", "--owner=0", "--group=0", "--numeric-owner", "-cf", str(out),
                    "-C", str(root), "usr"], check=True)
    with tarfile.open(out) as tar:  # it really is stored sparse
        member = tar.getmember("usr/bin/holes")
    assert member.type == tarfile.GNUTYPE_SPARSE if kind == "gnu" else b"GNU.sparse." in out.read_bytes()
    path = docker_save(tmp_path / "app.tar", Img([out.read_bytes()], user="1000"))
    found = [(f.rule_id, f.message.split(" (owner")[0]) for f in lint([str(path)], Settings(), Options())]
    assert found == [("CAP402", "/usr/bin/holes in example/app:1 is setuid root"),
                     ("CAP402", "/usr/bin/plain in example/app:1 is setuid root and setgid root")]
