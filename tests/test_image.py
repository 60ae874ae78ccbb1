"""`caplint image`: saved images built here in Python, in every layout caplint reads."""
from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import run_caplint
from imagebuild import (Img, caps, docker_save, file, folder, hardlink, layer, oci_layout, opaque, symlink,
                        whiteout)
from test_sarif import validate

from caplint.engine import Settings
from caplint.image import Options, scan, vfscap
from caplint.image.lint import lint, listing
from caplint.model import FileCapability, Finding

BASE = layer(
    folder("usr"), folder("usr/bin"), folder("usr/sbin"), folder("etc"),
    file("usr/bin/passwd", 0o4755),
    file("usr/bin/wall", 0o2755, gname="tty", gid=5),
    file("usr/bin/ping", caps=caps("NET_RAW")),
    file("usr/sbin/tcpdump", caps=caps("NET_ADMIN", "NET_RAW")),
    hardlink("usr/bin/chsh", "usr/bin/passwd", 0o4755),
    symlink("bin", "usr/bin"),
    file("etc/old-suid", 0o4755),
    folder("srv"), folder("srv/shared", 0o2775),
)
TOP = layer(
    whiteout("etc/old-suid"),
    file("usr/local/bin/agent", caps=caps("SYS_PTRACE", "SYS_ADMIN", version=3, rootid=100000)),
    compress="gzip",
)
WANT = [
    ("CAP207", "/usr/local/bin/agent in example/app:1 has file capabilities cap_sys_ptrace,cap_sys_admin=ep "
               "(VFS_CAP v3, rootid 100000, effective)"),
    ("CAP207", "/usr/sbin/tcpdump in example/app:1 has file capabilities cap_net_admin,cap_net_raw=ep "
               "(VFS_CAP v2, effective)"),
    ("CAP402", "/usr/bin/chsh in example/app:1 is setuid root (owner root:root, mode 4755)"),
    ("CAP402", "/usr/bin/passwd in example/app:1 is setuid root (owner root:root, mode 4755)"),
    ("CAP402", "/usr/bin/wall in example/app:1 is setgid tty (owner root:tty, mode 2755)"),
    ("CAP403", "image example/app:1 sets no User in its config"),
]
GETCAP = ("/usr/bin/ping cap_net_raw=ep\n"
          "/usr/local/bin/agent cap_sys_ptrace,cap_sys_admin=ep\n"
          "/usr/sbin/tcpdump cap_net_admin,cap_net_raw=ep\n")


def _gzipped(path: Path) -> Path:
    out = path.with_name(path.name + ".gz")
    out.write_bytes(gzip.compress(path.read_bytes()))
    return out


def _zstd(path: Path) -> Path:
    import zstandard

    out = path.with_name(path.name + ".zst")
    out.write_bytes(zstandard.ZstdCompressor().compress(path.read_bytes()))
    return out


LAYOUTS: dict[str, Callable[[Path, Img], Path]] = {
    "docker-save": lambda d, img: docker_save(d / "app.tar", img),
    "docker-save-25": lambda d, img: docker_save(d / "app.tar", img, legacy=False),
    "oci-tar": lambda d, img: oci_layout(d / "app.tar", img, as_tar=True),
    "oci-folder": lambda d, img: oci_layout(d, img),
    "oci-nested-index": lambda d, img: oci_layout(d, img, index=True),
    "docker-save.tar.gz": lambda d, img: _gzipped(docker_save(d / "app.tar", img)),
    "oci.tar.zst": lambda d, img: _zstd(oci_layout(d / "app.tar", img, as_tar=True)),
}


def findings(path: Path, **options: str) -> list[Finding]:
    return lint([str(path)], Settings(), Options(**options))


def summary(found: list[Finding]) -> list[tuple[str, str]]:
    """(rule, message) with each message cut to the length of the WANT entry it starts like."""
    prefixes = [w for _, w in WANT]
    return [(f.rule_id, next((p for p in prefixes if f.message.startswith(p)), f.message)) for f in found]


def paths(found: list[Finding]) -> list[str]:
    return [f.message.split(" in ")[0] for f in found]


@pytest.mark.parametrize("kind", sorted(LAYOUTS))
def test_every_layout_gives_the_same_findings(tmp_path: Path, kind: str) -> None:
    path = LAYOUTS[kind](tmp_path, Img([BASE, TOP]))
    assert summary(findings(path)) == WANT
    assert listing([str(path)], Options())[0] == GETCAP


@pytest.mark.parametrize("compress", [None, "gzip", "zstd"])
def test_layer_compression(tmp_path: Path, compress: str | None) -> None:
    top = layer(whiteout("etc/old-suid"), file("usr/local/bin/agent",
                caps=caps("SYS_PTRACE", "SYS_ADMIN", version=3, rootid=100000)), compress=compress)
    assert summary(findings(docker_save(tmp_path / "app.tar", Img([BASE, top])))) == WANT


def test_without_a_zstd_library_the_message_says_what_to_install(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = docker_save(tmp_path / "app.tar", Img([BASE, layer(file("x"), compress="zstd")]))
    monkeypatch.setitem(sys.modules, "zstandard", None)  # `import zstandard` now fails
    (problem,) = [f for f in findings(path) if f.rule_id == "CAP001"]
    assert "layer 2" in problem.message and "zstd-compressed" in problem.message
    assert "pip install 'caplint[zstd]'" in problem.message


def test_whiteouts_opaque_folders_and_replacements(tmp_path: Path) -> None:
    layers = [
        layer(folder("opt"), folder("opt/a"), file("opt/a/suid", 0o4755), file("opt/keep", 0o4755),
              folder("lib"), file("lib/suid", 0o4755), file("var", 0o4755), file("usr", 0o4755)),
        # The opaque marker comes after an entry of its own layer: that entry stays.
        layer(file("opt/new", 0o4755), opaque("opt"), whiteout("lib"),
              file("var/log/x", 0o644),  # a folder where a file was hides the file
              folder("usr")),
        layer(file("lib/suid", 0o4755), whiteout("opt/new"), file("opt/new2", 0o2755)),
    ]
    found = findings(docker_save(tmp_path / "app.tar", Img(layers, user="1000")))
    assert paths(found) == ["/lib/suid", "/opt/new2"]


def test_hard_links_share_the_file_and_take_their_own_header(tmp_path: Path) -> None:
    layers = [
        layer(file("a", 0o4755), hardlink("b", "a", 0o4755), file("c", 0o755), hardlink("d", "c", 0o755)),
        # Docker extracts a link with lchown (clearing capabilities and setuid),
        # the header's xattrs, then chmod: the header decides for every name.
        layer(hardlink("e", "a", 0o755), hardlink("f", "c", 0o755, caps=caps("NET_ADMIN"))),
    ]
    result = scan(str(docker_save(tmp_path / "app.tar", Img(layers, user="1000"))))
    assert result.problems == []
    files = {f.path: (f.mode, f.capability.text if f.capability else None) for f in result.images[0].saved.files}
    assert files == {"/c": (0o755, "cap_net_admin=ep"), "/d": (0o755, "cap_net_admin=ep"),
                     "/f": (0o755, "cap_net_admin=ep")}


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    layers = [layer(folder("usr"), folder("usr/bin"), symlink("bin", "usr/bin"), symlink("sh", "/usr/bin/sh"),
                    file("usr/bin/su", 0o4755)),
              # An upper layer writing under `bin/` makes `bin` a folder (overlayfs), not usr/bin.
              layer(file("bin/mount", 0o4755))]
    found = findings(docker_save(tmp_path / "app.tar", Img(layers, user="1000")))
    assert paths(found) == ["/bin/mount", "/usr/bin/su"]


@pytest.mark.parametrize(("user", "want"), [
    (None, ["CAP403"]), ("", ["CAP403"]), ("0", ["CAP401"]), ("root:root", ["CAP401"]), ("0:1000", ["CAP401"]),
    ("1000", []), ("1000:0", []), ("nobody", []),
])
def test_the_config_user(tmp_path: Path, user: str | None, want: list[str]) -> None:
    found = findings(docker_save(tmp_path / "app.tar", Img([layer(folder("etc"))], user=user)))
    assert [f.rule_id for f in found] == want
    if want == ["CAP401"]:
        assert found[0].message == f"image example/app:1 runs as root (config User {user})"


def test_capabilities_inside_the_default_set_are_listed_not_reported(tmp_path: Path) -> None:
    path = docker_save(tmp_path / "app.tar", Img([layer(file("ping", caps=caps("NET_RAW")),
                                                        file("web", caps=caps("NET_BIND_SERVICE")))], user="1"))
    assert findings(path) == []
    assert listing([str(path)], Options())[0] == "/ping cap_net_raw=ep\n/web cap_net_bind_service=ep\n"


def test_permitted_only_capabilities_say_so(tmp_path: Path) -> None:
    img = Img([layer(file("tool", caps=caps("NET_ADMIN", effective=False)))], user="1")
    (found,) = findings(docker_save(tmp_path / "app.tar", img))
    assert "cap_net_admin=p (VFS_CAP v2, not effective: the program raises them itself)" in found.message


def test_an_undecodable_capability_is_a_parse_error_and_the_rest_is_still_judged(tmp_path: Path) -> None:
    img = Img([layer(file("odd", caps=b"\x00\x00\x00\x05junk"), file("su", 0o4755))], user="1")
    found = findings(docker_save(tmp_path / "app.tar", img))
    assert [f.rule_id for f in found] == ["CAP001", "CAP402"]
    assert "/odd has a security.capability xattr that cannot be decoded" in found[0].message
    assert found[0].span.member == "/odd"


@pytest.mark.parametrize(("flags", "text"), [
    (dict(names=("NET_RAW",)), "cap_net_raw=ep"),
    (dict(names=("NET_RAW",), effective=False), "cap_net_raw=p"),
    (dict(names=("NET_RAW", "NET_ADMIN"), inheritable=("NET_ADMIN",)), "cap_net_admin=eip cap_net_raw+ep"),
    (dict(names=("SETUID",), inheritable=("CHOWN",), effective=False), "cap_chown=i cap_setuid+p"),
    (dict(names=tuple(sorted(vfscap._NAMES.values()))), "=ep"),
    (dict(names=tuple(n for n in sorted(vfscap._NAMES.values()) if n != "SYS_ADMIN")), "=ep cap_sys_admin-ep"),
])
def test_getcap_text(flags: dict[str, object], text: str) -> None:
    names = flags.pop("names")
    raw = caps(*names, **flags)  # type: ignore[arg-type]
    assert vfscap.decode(raw).text == text


@pytest.mark.parametrize("version", [1, 2, 3])
def test_vfs_cap_revisions_round_trip(version: int) -> None:
    cap = FileCapability(version, True, ("NET_ADMIN", "SYS_TIME"), ("CHOWN",), 7 if version == 3 else None)
    raw = vfscap.encode(cap)
    assert len(raw) == {1: 12, 2: 20, 3: 24}[version]
    decoded = vfscap.decode(raw)
    assert (decoded.version, decoded.effective, set(decoded.permitted), decoded.inheritable, decoded.rootid) == \
           (version, True, {"NET_ADMIN", "SYS_TIME"}, ("CHOWN",), cap.rootid)


@pytest.mark.parametrize(("raw", "why"), [
    (b"\x01\x00", "too short"), (b"\x00\x00\x00\x04" + bytes(16), "unknown VFS_CAP revision"),
    (b"\x00\x00\x00\x02" + bytes(8), "revision 2 is 20 bytes"), (b"\x02\x00\x00\x02" + bytes(16), "unknown VFS_CAP flags"),
])
def test_vfs_cap_errors(raw: bytes, why: str) -> None:
    with pytest.raises(vfscap.CapabilityError, match=why):
        vfscap.decode(raw)


def test_capabilities_above_32_need_the_second_word() -> None:
    # CAP_BPF is 39: only a v2/v3 attribute can hold it.
    raw = caps("BPF", "CHECKPOINT_RESTORE")
    assert vfscap.decode(raw).permitted == ("BPF", "CHECKPOINT_RESTORE")


def _multi_platform(tmp_path: Path) -> Path:
    amd = Img([layer(file("amd", 0o4755))], user="1")
    arm = Img([layer(file("arm", 0o4755))], user="1", arch="arm64")
    return oci_layout(tmp_path / "multi.tar", amd, arm, as_tar=True, index=True)


def test_platforms(tmp_path: Path) -> None:
    path = _multi_platform(tmp_path)
    every = [f.message.split(" is ")[0] for f in findings(path)]
    assert every == ["/amd in example/app:1 (linux/amd64)", "/arm in example/app:1 (linux/arm64)"]
    assert [f.message.split(" ")[0] for f in findings(path, platform="linux/arm64")] == ["/arm"]
    (missing,) = findings(path, platform="linux/s390x")
    assert missing.rule_id == "CAP001"
    assert missing.message == "no image for platform linux/s390x here (it has linux/amd64, linux/arm64)"


def test_fingerprints_survive_a_re_save_in_another_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = docker_save(tmp_path / "old" / "app.tar", Img([BASE, TOP]))
    new = docker_save(tmp_path / "new" / "app.tar", Img([BASE, layer(
        whiteout("etc/old-suid"), file("usr/local/bin/agent", caps=caps("SYS_PTRACE", "SYS_ADMIN", version=3,
                                                                       rootid=100000)))]), legacy=False)

    def prints(path: Path) -> list[str]:
        monkeypatch.chdir(path.parent)
        return [f.fingerprint for f in lint(["app.tar"], Settings(), Options())]

    assert prints(old) == prints(new)
    assert len(set(prints(old))) == len(WANT)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return docker_save(tmp_path / "app.tar", Img([BASE, TOP], user="0"))


def test_cli_text_and_exit_code(saved: Path) -> None:
    run = run_caplint("image", str(saved))
    assert run.returncode == 1, run.stderr
    assert "high CAP207 file-capabilities" in run.stdout and "8 findings" not in run.stdout
    assert run.stdout.strip().endswith("in 1 file.")


def test_cli_list_is_getcap(saved: Path) -> None:
    run = run_caplint("image", "--list", str(saved))
    assert (run.returncode, run.stdout, run.stderr) == (0, GETCAP, "")


def test_cli_json_names_the_path_inside_the_image(saved: Path) -> None:
    doc = json.loads(run_caplint("image", "-f", "json", str(saved)).stdout)
    members = [(f["rule"], f["member"]) for f in doc["findings"]]
    assert ("CAP207", "/usr/sbin/tcpdump") in members and ("CAP401", None) in members
    assert all(f["path"] == str(saved) and f["line"] == 1 for f in doc["findings"])


def test_cli_sarif_has_logical_locations_and_is_valid(saved: Path) -> None:
    log = json.loads(run_caplint("image", "-f", "sarif", str(saved)).stdout)
    validate(log)
    results = log["runs"][0]["results"]
    named = {r["locations"][0].get("logicalLocations", [{}])[0].get("fullyQualifiedName") for r in results}
    assert {"/usr/sbin/tcpdump", "/usr/bin/passwd", None} <= named
    assert all(r["partialFingerprints"]["primaryLocationLineHash"] for r in results)


@pytest.mark.parametrize(("fmt", "line"), [
    # The image file and the path inside it, then what a `file:line:col: severity:` parser needs.
    ("gnu", "app.tar:1:1: error: /usr/sbin/tcpdump: in example/app:1 has file capabilities cap_net_admin,"),
    ("text", "app.tar:1:1: /usr/sbin/tcpdump: high CAP207 file-capabilities\n"
             "  in example/app:1 has file capabilities cap_net_admin,"),
    ("github", "::error file=app.tar,line=1,col=1,endLine=1,endColumn=1,title=CAP207 file-capabilities "
               "/usr/sbin/tcpdump::/usr/sbin/tcpdump: in example/app:1 has file capabilities cap_net_admin,"),
])
def test_cli_line_formats(saved: Path, fmt: str, line: str) -> None:
    run = run_caplint("image", "--no-color", "-f", fmt, "app.tar", cwd=saved.parent)
    assert line in run.stdout


def test_a_finding_without_a_path_inside_sits_at_the_image_file(saved: Path) -> None:
    run = run_caplint("image", "-f", "gnu", "app.tar", cwd=saved.parent)
    assert "app.tar:1:1: warning: image example/app:1 runs as root (config User 0) [CAP401]" in run.stdout


def test_cli_usage_errors(saved: Path, tmp_path: Path) -> None:
    assert run_caplint("image", "--platform", "amd64", str(saved)).returncode == 2
    missing = run_caplint("image", str(tmp_path / "nope.tar"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_cli_select_and_ignore(saved: Path) -> None:
    run = run_caplint("image", "--select", "CAP402", "-f", "gnu", str(saved))
    assert {line.rsplit("[", 1)[1] for line in run.stdout.splitlines()} == {"CAP402]"}


def test_one_bad_image_does_not_stop_the_others(saved: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"not a tar at all" * 100)
    found = lint([str(bad), str(saved)], Settings(), Options())
    (problem,) = [f for f in found if f.span.path == str(bad)]
    assert problem.rule_id == "CAP001"
    assert problem.message == ("cannot read this image: a header's checksum is wrong: not a tar archive, "
                               "or a corrupt one")
    assert len([f for f in found if f.span.path == str(saved)]) == len(WANT)  # CAP401 instead of CAP403


def test_a_setgid_folder_is_not_reported(tmp_path: Path) -> None:
    img = Img([layer(folder("srv", 0o2775), folder("tmp", 0o1777))], user="1")
    assert findings(docker_save(tmp_path / "app.tar", img)) == []


def test_an_untagged_image_is_named_by_its_id(tmp_path: Path) -> None:
    path = docker_save(tmp_path / "app.tar", Img([layer(file("su", 0o4755))], user="1", tags=[]))
    (found,) = findings(path)
    assert found.message.startswith("/su in sha256:")


def test_an_unpacked_docker_save_folder(tmp_path: Path) -> None:
    import tarfile

    archive = docker_save(tmp_path / "app.tar", Img([BASE, TOP]), legacy=False)
    (tmp_path / "unpacked").mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="tar")
    assert summary(findings(tmp_path / "unpacked")) == WANT


def test_several_images_in_one_archive_are_each_judged(tmp_path: Path) -> None:
    path = docker_save(tmp_path / "two.tar", Img([layer(file("a", 0o4755))], user="1", tags=["one:1"]),
                       Img([layer(file("b", 0o4755))], user="0", tags=["two:1", "two:latest"]))
    assert [f.message.split(":")[0] for f in findings(path)] == [
        "image two", "/a in one", "/b in two"]
    assert "image two:1, two:latest runs as root" in findings(path)[0].message


@pytest.mark.parametrize(("platform", "wanted", "match"), [
    ("linux/arm64/v8", "linux/arm64", True), ("linux/arm/v7", "linux/arm/v7", True),
    ("linux/arm/v6", "linux/arm/v7", False), ("linux/amd64", "LINUX/AMD64", True), ("linux/amd64", "linux/arm64", False),
])
def test_platform_matching(platform: str, wanted: str, match: bool) -> None:
    from caplint.image.layout import matches

    assert matches(platform, wanted) is match


def test_attestation_manifests_are_not_images(tmp_path: Path) -> None:
    oci_layout(tmp_path, Img([layer(file("su", 0o4755))], user="1"))
    index = json.loads((tmp_path / "index.json").read_text())
    real = index["manifests"][0]
    index["manifests"] += [
        {**real, "platform": {"os": "unknown", "architecture": "unknown"}},
        {**real, "platform": {"os": "linux", "architecture": "amd64"},
         "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
    ]
    (tmp_path / "index.json").write_text(json.dumps(index))
    assert [f.rule_id for f in findings(tmp_path)] == ["CAP402"]


def test_cli_json_is_valid_against_the_report_schema(saved: Path) -> None:
    from importlib import resources

    import jsonschema

    schema = json.loads(resources.files("caplint.report").joinpath("caplint-report.schema.json").read_text())
    jsonschema.validate(json.loads(run_caplint("image", "-f", "json", str(saved)).stdout), schema)
