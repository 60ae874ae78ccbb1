"""`caplint image` on a generated ~2 GB image: peak RSS and read rate against `tar -t`.

    python bench/image.py              # builds bench/corpus/image/ once, measures, rewrites bench/README.md's image section
    python bench/image.py --size-mb 500 --no-readme

The image (seed 20261201, byte-identical every run): a `docker save` tarball of
uncompressed layers as Docker writes it, and the same image as an OCI layout
tar with gzip layers (level 1). Each layer holds thousands of files (sizes
log-uniform up to 256 KiB), folders, symlinks, hard links, whiteouts, and a few
setuid files and files with capabilities, so every path of the reader runs.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "corpus" / "image"
SEED = 20261201
LAYERS = 6
START, END = "<!-- image-results:start -->", "<!-- image-results:end -->"
CAP_NET_ADMIN = bytes.fromhex("01000002" "00100000" "00000000" "00000000" "00000000")


def _layer(path: Path, rng: random.Random, budget: int, number: int) -> None:
    """One uncompressed layer tar of about `budget` bytes."""
    block = rng.randbytes(1 << 20)  # file contents: slices of one random MiB
    written = 0
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        def add(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, mode: int = 0o644, **extra: object) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.size, info.mode, info.mtime = kind, size, mode, 1_700_000_000
            for key, value in extra.items():
                setattr(info, key, value)
            start = rng.randrange(0, len(block) - size) if size else 0
            tar.addfile(info, io.BytesIO(block[start:start + size]) if size else None)

        folders = [f"l{number}/d{i}" for i in range(40)]
        add(f"l{number}", tarfile.DIRTYPE, mode=0o755)
        for d in folders:
            add(d, tarfile.DIRTYPE, mode=0o755)
        if number:
            add(f"l{number - 1}/d0/.wh..wh..opq")
            add(f"l{number - 1}/.wh.d1")
        i = 0
        while written < budget:
            size = min(int(2 ** rng.uniform(5, 17)), (1 << 20) - 1)
            name = f"{rng.choice(folders)}/f{i}"
            mode = 0o4755 if i % 5000 == 1 else 0o755
            extra = {"pax_headers": {"SCHILY.xattr.security.capability": CAP_NET_ADMIN.decode("latin-1")}} \
                if i % 7000 == 3 else {}
            add(name, size=size, mode=mode, **extra)
            if i % 97 == 0:
                add(f"{name}.link", tarfile.SYMTYPE, linkname=f"f{i}")
            if i % 89 == 0:
                add(f"{name}.hard", tarfile.LNKTYPE, linkname=name, mode=mode)
            written += size + 512
            i += 1


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def layer_names(diff_ids: list[str]) -> list[str]:
    """`docker save`'s (pre-25) layer folders: a v1 id chained from the diff ids, not a content digest."""
    names, parent = [], ""
    for diff_id in diff_ids:
        parent = hashlib.sha256(f"{parent} {diff_id}".encode()).hexdigest()
        names.append(f"{parent}/layer.tar")
    return names


def build(size_mb: int) -> tuple[Path, Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    plain, oci = OUT / f"docker-save-{size_mb}m.tar", OUT / f"oci-gzip-{size_mb}m.tar"
    if plain.exists() and oci.exists():
        return plain, oci
    rng = random.Random(SEED)
    layers = []
    for n in range(LAYERS):
        path = OUT / f"layer{n}.tar"
        _layer(path, rng, (size_mb << 20) // LAYERS, n)
        layers.append(path)
    diff_ids = [f"sha256:{_file_digest(path)}" for path in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"User": "1000"},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()

    def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(plain, "w") as tar:  # as Docker before 25 writes it: `<v1 id>/layer.tar`, `<config digest>.json`
        names = layer_names(diff_ids)
        for name, path in zip(names, layers):
            tar.add(path, arcname=name)
        config_name = f"{hashlib.sha256(config).hexdigest()}.json"
        add_bytes(tar, config_name, config)
        add_bytes(tar, "manifest.json", json.dumps([{"Config": config_name, "RepoTags": ["bench:1"],
                                                    "Layers": names}]).encode())
    with tarfile.open(oci, "w") as tar:
        descriptors = []
        for path in layers:
            gz = path.with_suffix(".tar.gz")
            with open(path, "rb") as src, open(gz, "wb") as raw, \
                    gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            digest = hashlib.sha256(gz.read_bytes()).hexdigest()
            tar.add(gz, arcname=f"blobs/sha256/{digest}")
            descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                "digest": f"sha256:{digest}", "size": gz.stat().st_size})
            gz.unlink()
        cfg_digest = hashlib.sha256(config).hexdigest()
        add_bytes(tar, f"blobs/sha256/{cfg_digest}", config)
        manifest = json.dumps({"schemaVersion": 2, "config": {"digest": f"sha256:{cfg_digest}",
                                                               "size": len(config)}, "layers": descriptors}).encode()
        man_digest = hashlib.sha256(manifest).hexdigest()
        add_bytes(tar, f"blobs/sha256/{man_digest}", manifest)
        add_bytes(tar, "index.json", json.dumps({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": f"sha256:{man_digest}",
             "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "bench:1"}}]}).encode())
        add_bytes(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    for path in layers:
        path.unlink()
    return plain, oci


# As an installed caplint runs: its bytecode cached (bench/README.md, "Bytecode").
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
       "PYTHONPYCACHEPREFIX": str(HERE / "corpus" / ".pycache")}


def run(cmd: str) -> tuple[float, float, int]:
    """(wall seconds, cpu seconds, peak RSS MiB of the largest process) of a shell command.

    GNU time starts it: a child forked from this Python process would carry
    this process's RSS into its own ru_maxrss (Linux keeps the high-water mark
    across exec), a child of the small `time` process does not."""
    proc = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "/bin/sh", "-c", f"{cmd} >/dev/null"],
                          stderr=subprocess.PIPE, text=True, env=ENV)
    last = proc.stderr.strip().splitlines()[-1].split()
    if proc.returncode not in (0, 1) or len(last) != 4:
        raise SystemExit(f"{cmd} failed: {proc.stderr}")
    wall, user, system, rss_kib = map(float, last)
    return wall, user + system, int(rss_kib) >> 10


def best(cmd: str, repeat: int) -> tuple[float, float, int]:
    runs = [run(cmd) for _ in range(repeat)]
    return min(runs, key=lambda r: r[1])  # the least CPU: the least disturbed run on a shared machine


def measure(size_mb: int, repeat: int) -> list[str]:
    plain, oci = build(size_mb)
    caplint = f"{sys.executable} -m caplint image"
    outer = subprocess.run(["tar", "-tf", str(plain)], capture_output=True, text=True, check=True).stdout.split()
    layers = " ".join(name for name in outer if name.endswith("/layer.tar"))
    blobs = subprocess.run(["tar", "-tf", str(oci)], capture_output=True, text=True, check=True).stdout.split()
    gz_blobs = " ".join(b for b in blobs if b.startswith("blobs/") and
                        subprocess.run(f"tar -xOf {oci} {b} | head -c2 | od -An -tx1", shell=True,
                                       capture_output=True, text=True).stdout.split() == ["1f", "8b"])
    rows = []
    for label, path, cmds in [
        ("docker save, plain layers", plain, [
            ("`caplint image` (digests checked)", f"{caplint} {plain}"),
            ("`caplint image --no-verify`", f"{caplint} --no-verify {plain}"),
            ("`tar -t` (the outer tar only)", f"tar -tf {plain}"),
            ("`tar -xO` layers `\\| tar -ti` (every entry)", f"tar -xOf {plain} {layers} | tar -ti"),
        ]),
        ("OCI tar, gzip layers", oci, [
            ("`caplint image` (digests checked)", f"{caplint} {oci}"),
            ("`caplint image --no-verify`", f"{caplint} --no-verify {oci}"),
            ("`tar -xO` blobs `\\| gzip -dc \\| tar -ti`", f"tar -xOf {oci} {gz_blobs} | gzip -dc | tar -ti"),
        ]),
    ]:
        size = path.stat().st_size
        for what, cmd in cmds:
            wall, cpu, rss = best(cmd, repeat)
            rows.append(f"| {label} ({size / 1e9:.2f} GB) | {what} | {wall:.2f} s | {cpu:.2f} s | "
                        f"{size / max(wall, 0.01) / 1e6:.0f} MB/s | {size / max(cpu, 0.01) / 1e6:.0f} MB/s | {rss} MiB |")
    entries = int(subprocess.run(f"tar -xOf {plain} {layers} | tar -ti | wc -l", shell=True, capture_output=True,
                                 text=True).stdout)
    head = [
        f"- command: `python bench/image.py{' --size-mb ' + str(size_mb) if size_mb != 2048 else ''}`; "
        f"best of {repeat} runs; {entries:,} entries in {LAYERS} layers",
        f"- machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
        f"Python {sys.version.split()[0]}; date {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        "| image | command | wall | cpu | rate (wall) | rate (cpu) | peak RSS |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    return head + rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    lines = measure(args.size_mb, args.repeat)
    print("\n".join(lines))
    if not args.no_readme:
        readme = HERE / "README.md"
        text = readme.read_text()
        block = f"{START}\n" + "\n".join(lines) + f"\n{END}"
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
        readme.write_text(text)


if __name__ == "__main__":
    main()
