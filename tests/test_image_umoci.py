"""An OCI image made by the real umoci from a root filesystem on which the real
`setcap` ran: caplint must list exactly what `getcap -r` and `find -perm /6000`
list on that filesystem. Skips, with the reason, where the tools are missing
(`.ci/run` installs Debian's umoci and libcap2-bin, so CI never skips)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from conftest import run_caplint

from caplint.engine import Settings
from caplint.image import Options
from caplint.image.lint import lint

TOOLS = ("umoci", "setcap", "getcap")
pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS) or os.geteuid() != 0,
    reason="needs umoci and libcap2-bin (apt-get install umoci libcap2-bin) and root for setcap",
)


def sh(*args: str | Path, cwd: Path | None = None) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True, cwd=cwd).stdout


def getcap(rootfs: Path) -> list[str]:
    lines = sh("getcap", "-r", rootfs).splitlines()
    return sorted(line.replace(str(rootfs), "", 1) for line in lines)


def setuid_files(rootfs: Path) -> list[str]:
    found = sh("find", rootfs, "-perm", "/6000", "-type", "f").splitlines()
    return sorted(line.replace(str(rootfs), "", 1) for line in found)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(OCI layout, the unpacked root filesystem it was made from), in two layers."""
    work = tmp_path_factory.mktemp("umoci")
    layout, bundle = work / "img", work / "bundle"
    sh("umoci", "init", "--layout", layout)
    sh("umoci", "new", "--image", f"{layout}:app")
    sh("umoci", "unpack", "--image", f"{layout}:app", bundle)
    root = bundle / "rootfs"
    bin_ = root / "usr" / "bin"
    bin_.mkdir(parents=True)
    (root / "srv").mkdir()
    program = shutil.which("true") or "/bin/true"
    for name in ("ping", "tcpdump", "agent", "tracer", "passwd", "wall", "plain", "server", "gone"):
        shutil.copy(program, bin_ / name)
    try:
        sh("setcap", "cap_net_raw+ep", bin_ / "ping")
    except subprocess.CalledProcessError as err:
        pytest.skip(f"this filesystem does not take security xattrs: {err.stderr.strip()}")
    sh("setcap", "cap_net_admin,cap_net_raw+eip", bin_ / "tcpdump")
    sh("setcap", "-n", "1000", "cap_sys_admin+ep", bin_ / "agent")  # a v3 attribute with a rootid
    sh("setcap", "cap_sys_ptrace+p", bin_ / "tracer")
    sh("setcap", "cap_chown+i cap_setuid+p", bin_ / "server")
    sh("setcap", "cap_sys_time+ep", bin_ / "gone")
    os.chmod(bin_ / "passwd", 0o4755)
    os.chmod(bin_ / "wall", 0o2755)
    os.chmod(root / "srv", 0o2775)
    os.link(bin_ / "tcpdump", bin_ / "tcpdump.hard")
    os.symlink("ping", bin_ / "ping.link")
    sh("umoci", "repack", "--image", f"{layout}:app", bundle)
    # A second layer: one file removed (a whiteout), one gains a capability.
    (bin_ / "gone").unlink()
    sh("setcap", "cap_net_bind_service+ep", bin_ / "plain")
    sh("umoci", "repack", "--image", f"{layout}:app", bundle)
    sh("umoci", "config", "--image", f"{layout}:app", "--config.user", "1000")
    return layout, root


def test_the_listing_is_getcap(image: tuple[Path, Path]) -> None:
    layout, root = image
    expected = getcap(root)
    assert "/usr/bin/gone cap_sys_time=ep" not in expected and len(expected) == 7
    run = run_caplint("image", "--list", str(layout))
    assert run.returncode == 0, run.stderr
    assert sorted(run.stdout.splitlines()) == expected


def test_the_same_from_the_layout_packed_in_a_tar(image: tuple[Path, Path], tmp_path: Path) -> None:
    layout, root = image
    packed = tmp_path / "app.tar"
    with tarfile.open(packed, "w") as tar:
        for name in sorted(os.listdir(layout)):
            tar.add(layout / name, arcname=name)
    run = run_caplint("image", "--list", str(packed))
    assert sorted(run.stdout.splitlines()) == getcap(root)


def test_setuid_findings_are_find_perm_6000(image: tuple[Path, Path]) -> None:
    layout, root = image
    found = lint([str(layout)], Settings(select=frozenset({"CAP402"})), Options())
    assert sorted(f.span.member for f in found) == setuid_files(root)


def test_findings(image: tuple[Path, Path]) -> None:
    layout, _ = image
    found = lint([str(layout)], Settings(), Options())
    assert sorted((f.rule_id, f.span.member) for f in found) == [
        ("CAP207", "/usr/bin/agent"), ("CAP207", "/usr/bin/tcpdump"), ("CAP207", "/usr/bin/tcpdump.hard"),
        ("CAP207", "/usr/bin/tracer"), ("CAP402", "/usr/bin/passwd"), ("CAP402", "/usr/bin/wall"),
    ]
    agent = next(f for f in found if f.span.member == "/usr/bin/agent")
    assert "cap_sys_admin=ep (VFS_CAP v3, rootid 1000, effective)" in agent.message
