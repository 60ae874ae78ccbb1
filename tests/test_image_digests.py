"""Blob digests: a layer, config or manifest that does not hash to its name or
descriptor is a CAP001, as `docker load` refuses it; `--no-verify` reads it anyway."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from imagebuild import Img, _add, docker_save, file, layer, oci_layout

from caplint.engine import Settings
from caplint.image import Options
from caplint.image.lint import lint

SETUID = layer(file("usr/bin/su", 0o4755))


def rules(path: Path, verify: bool = True) -> list[tuple[str, str]]:
    return [(f.rule_id, f.message) for f in lint([str(path)], Settings(), Options(verify=verify))]


def only_problem(path: Path) -> str:
    found = rules(path)
    assert [r for r, _ in found] == ["CAP001"], found
    return found[0][1]


def rewrite_tar(path: Path, change: dict[str, bytes]) -> None:
    """The same archive with some members' contents replaced (names and order kept)."""
    with tarfile.open(path) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]  # type: ignore[union-attr]
    path.unlink()
    with tarfile.open(path, "w") as tar:
        for member, data in members:
            if member.isfile():
                _add(tar, member.name, change.get(member.name, data or b""))
            else:
                tar.addfile(member)


def layer_member(path: Path) -> str:
    with tarfile.open(path) as tar:
        return next(m.name for m in tar.getmembers() if m.name.endswith("layer.tar"))


@pytest.mark.parametrize("legacy", [True, False], ids=["docker-save", "docker-save-25"])
def test_a_docker_save_layer_that_differs_from_its_diff_id(tmp_path: Path, legacy: bool) -> None:
    path = docker_save(tmp_path / "app.tar", Img([SETUID], user="1000"), legacy=legacy)
    tampered = layer(file("usr/bin/su", 0o755))  # the setuid bit taken away after the build
    name = layer_member(path) if legacy else next(n for n in tarfile.open(path).getnames()
                                                  if n.startswith("blobs/") and not n.endswith(".json"))
    rewrite_tar(path, {name: tampered})
    message = only_problem(path)
    assert f"layer 1 ({name}): its " in message and "has digest sha256:" + hashlib.sha256(tampered).hexdigest() in message
    assert "a corrupt or altered image (docker load refuses it)" in message
    # Unchecked, the altered layer is what is read.
    assert rules(path, verify=False) == []


@pytest.mark.parametrize("as_tar", [False, True], ids=["folder", "tar"])
def test_an_oci_layer_that_differs_from_its_descriptor(tmp_path: Path, as_tar: bool) -> None:
    dest = tmp_path / ("app.tar" if as_tar else "app")
    if not as_tar:
        dest.mkdir()
    oci_layout(dest, Img([SETUID, layer(file("etc/motd"))], user="1000"), as_tar=as_tar)
    blob = f"blobs/sha256/{hashlib.sha256(SETUID).hexdigest()}"
    tampered = layer(file("usr/bin/su", 0o4755), file("usr/bin/extra", 0o4755))
    if as_tar:
        rewrite_tar(dest, {blob: tampered})
    else:
        (dest / blob).write_bytes(tampered)
    message = only_problem(dest)
    assert message.startswith("image example/app:1: layer 1 (" + blob + "): ")
    assert f"its blob has digest sha256:{hashlib.sha256(tampered).hexdigest()}, not the sha256:" in message
    assert sorted(r for r, _ in rules(dest, verify=False)) == ["CAP402", "CAP402"]


def test_same_size_different_bytes(tmp_path: Path) -> None:
    oci_layout(tmp_path, Img([SETUID], user="1000"))
    blob = tmp_path / "blobs" / "sha256" / hashlib.sha256(SETUID).hexdigest()
    data = bytearray(SETUID)
    data[-1] ^= 1  # in the end-of-archive padding: no entry changes, the digest does
    blob.write_bytes(bytes(data))
    assert "has digest sha256:" + hashlib.sha256(bytes(data)).hexdigest() in only_problem(tmp_path)


def test_a_gzip_layer_is_checked_as_stored(tmp_path: Path) -> None:
    gz = layer(file("usr/bin/su", 0o4755), compress="gzip")
    oci_layout(tmp_path, Img([gz], user="1000"))
    assert [r for r, _ in rules(tmp_path)] == ["CAP402"]
    blob = tmp_path / "blobs" / "sha256" / hashlib.sha256(gz).hexdigest()
    blob.write_bytes(gz + bytes(16))  # trailing zeros: still the same layer, not the same blob
    assert f"its descriptor gives {len(gz)} bytes, the blob has {len(gz) + 16}" in only_problem(tmp_path)


def test_a_config_that_differs_from_its_name(tmp_path: Path) -> None:
    path = docker_save(tmp_path / "app.tar", Img([SETUID], user="1000"))
    config = next(n for n in tarfile.open(path).getnames() if n.endswith(".json") and n != "manifest.json")
    rewrite_tar(path, {config: Img([SETUID], user="0").config()})  # root, where the build said 1000
    message = only_problem(path)
    assert message.startswith(f"image example/app:1: {config} has digest sha256:")
    assert {r for r, _ in rules(path, verify=False)} == {"CAP402", "CAP401"}


def test_an_oci_manifest_that_differs_from_the_index(tmp_path: Path) -> None:
    oci_layout(tmp_path, Img([SETUID], user="1000"))
    index = json.loads((tmp_path / "index.json").read_text())
    manifest = tmp_path / "blobs" / "sha256" / index["manifests"][0]["digest"].split(":")[1]
    manifest.write_bytes(manifest.read_bytes() + b" ")
    message = only_problem(tmp_path)
    assert "cannot read this image: blobs/sha256/" in message and "bytes, not the" in message


def test_a_docker_save_config_without_diff_ids(tmp_path: Path) -> None:
    path = tmp_path / "app.tar"
    config = json.dumps({"config": {"User": "1000"}}).encode()
    name = hashlib.sha256(config).hexdigest() + ".json"
    with tarfile.open(path, "w") as tar:
        _add(tar, "abc/layer.tar", SETUID)
        _add(tar, name, config)
        _add(tar, "manifest.json", json.dumps([{"Config": name, "RepoTags": ["a:1"],
                                                  "Layers": ["abc/layer.tar"]}]).encode())
    assert "has no rootfs.diff_ids to check the layers against" in only_problem(path)
    assert [r for r, _ in rules(path, verify=False)] == ["CAP402"]


def test_a_docker_save_config_with_too_few_diff_ids(tmp_path: Path) -> None:
    img = Img([SETUID, layer(file("etc/motd"))], user="1000")
    real = img.config
    img.config = lambda: real().replace(b'"diff_ids": [', b'"diff_ids": ["sha256:' + b"0" * 64 + b'", ')  # type: ignore[method-assign]
    path = docker_save(tmp_path / "app.tar", img)
    assert "its config lists 3 diff ids for 2 layers" in only_problem(path)


def test_an_untagged_config_name_is_not_a_digest(tmp_path: Path) -> None:
    # A hand-made archive whose config is not named by its digest: nothing to check it against.
    path = tmp_path / "app.tar"
    img = Img([SETUID], user="1000")
    with tarfile.open(path, "w") as tar:
        _add(tar, "abc/layer.tar", SETUID)
        _add(tar, "config.json", img.config())
        _add(tar, "manifest.json", json.dumps([{"Config": "config.json", "Layers": ["abc/layer.tar"]}]).encode())
    assert [r for r, _ in rules(path)] == ["CAP402"]


def test_a_compressed_archive_is_checked_in_its_one_pass(tmp_path: Path) -> None:
    import gzip

    path = docker_save(tmp_path / "app.tar", Img([SETUID], user="1000"))
    rewrite_tar(path, {layer_member(path): layer(file("usr/bin/su", 0o755))})
    packed = tmp_path / "app.tar.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert "a corrupt or altered image" in only_problem(packed)


def test_cli_no_verify(tmp_path: Path) -> None:
    path = docker_save(tmp_path / "app.tar", Img([SETUID], user="1000"))
    rewrite_tar(path, {layer_member(path): layer(file("usr/bin/su", 0o4711))})
    run = [sys.executable, "-m", "caplint", "image", "-f", "gnu"]
    checked = subprocess.run([*run, str(path)], capture_output=True, text=True)
    unchecked = subprocess.run([*run, "--no-verify", str(path)], capture_output=True, text=True)
    assert "[CAP001]" in checked.stdout and "[CAP402]" not in checked.stdout
    assert "[CAP402]" in unchecked.stdout and "[CAP001]" not in unchecked.stdout
