"""`caplint caps --image NAME=PATH`: a scanned image's user and file capabilities
meet the capability set of each container that runs it."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_caplint
from imagebuild import Img, caps, docker_save, file, folder, layer, oci_layout

from caplint.effective import describe_paths, normalize_reference, scanned_image

IMAGE = Img([layer(folder("usr"), folder("usr/bin"), file("usr/bin/passwd", 0o4755),
                   file("usr/bin/ping", caps=caps("NET_RAW")), file("usr/bin/web", caps=caps("NET_BIND_SERVICE")),
                   file("usr/sbin/tcpdump", caps=caps("NET_ADMIN", "NET_RAW")))], user="1000")

COMPOSE = """\
services:
  web:
    image: example/app:1
    cap_drop: [ALL]
    cap_add: [NET_BIND_SERVICE]
  admin:
    image: docker.io/example/app:1
    user: root
  locked:
    image: example/app:1
    security_opt: [no-new-privileges:true]
  other:
    image: nginx
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    docker_save(tmp_path / "app.tar", IMAGE)
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    return tmp_path


def block(text: str, service: str) -> str:
    return next(b for b in text.split("\n\n") if f"service '{service}'" in b.splitlines()[0])


def test_a_non_root_container_with_everything_dropped(project: Path) -> None:
    text = describe_paths([str(project / "compose.yaml")], images={"example/app:1": str(project / "app.tar")})
    web = block(text, "web")
    assert "image example/app:1 (linux/amd64) from" in web
    assert "user: 1000 (the image config's User)" in web
    assert "a non-root process holds none of the capabilities above after execve" in web
    assert "/usr/bin/ping  cap_net_raw=ep: execve fails (EPERM), NET_RAW not in the container's set" in web
    assert "/usr/bin/web  cap_net_bind_service=ep: whoever runs it gets NET_BIND_SERVICE" in web
    assert "/usr/bin/passwd  setuid root: runs as root with the whole set above" in web


def test_the_compose_user_overrides_the_image_and_root_gains_nothing_from_files(project: Path) -> None:
    admin = block(describe_paths([str(project / "compose.yaml")], images={"example/app:1": str(project / "app.tar")}),
                  "admin")
    assert "user: root (" in admin and "compose.yaml:8)" in admin
    assert "/usr/bin/ping  cap_net_raw=ep: adds nothing (root has the set)" in admin
    # NET_ADMIN is outside Docker's default set, so even root cannot run it.
    assert "/usr/sbin/tcpdump  cap_net_admin,cap_net_raw=ep: execve fails (EPERM), NET_ADMIN not in" in admin


def test_no_new_privileges_disarms_setuid_and_file_capabilities(project: Path) -> None:
    locked = block(describe_paths([str(project / "compose.yaml")], images={"example/app:1": str(project / "app.tar")}),
                   "locked")
    assert "no-new-privileges: setuid bits and file capabilities grant nothing here" in locked
    assert "/usr/bin/passwd  setuid root: ignored (no-new-privileges)" in locked


def test_other_images_are_not_touched(project: Path) -> None:
    other = block(describe_paths([str(project / "compose.yaml")], images={"example/app:1": str(project / "app.tar")}),
                  "other")
    assert "  image " not in other and "from " not in other


def test_a_docker_run_line_is_matched_by_its_image(tmp_path: Path) -> None:
    docker_save(tmp_path / "app.tar", IMAGE)
    (tmp_path / "run.sh").write_text("#!/bin/sh\ndocker run --cap-drop=ALL -u 0 example/app:1 serve\n")
    text = describe_paths([str(tmp_path / "run.sh")], images={"example/app:1": str(tmp_path / "app.tar")})
    assert "user: 0 (" in text and "/usr/bin/ping  cap_net_raw=ep: execve fails (EPERM)" in text


@pytest.mark.parametrize(("a", "b"), [
    ("nginx", "docker.io/library/nginx:latest"), ("example/app:1", "docker.io/example/app:1"),
    ("localhost:5000/app", "localhost:5000/app:latest"), ("ghcr.io/o/app:2", "GHCR.io/o/app:2"),
])
def test_image_names_are_read_as_docker_reads_them(a: str, b: str) -> None:
    assert normalize_reference(a) == normalize_reference(b)


def test_the_platform_and_tag_are_chosen(tmp_path: Path) -> None:
    amd = Img([layer(file("amd", 0o4755))], tags=["multi:1"])
    arm = Img([layer(file("arm", 0o4755))], tags=["multi:1"], arch="arm64")
    oci_layout(tmp_path, arm, amd)
    saved, problems = scanned_image("multi:1", str(tmp_path))
    assert problems == [] and saved is not None and saved.platform == "linux/amd64"
    missing, problems = scanned_image("nope:1", str(docker_save(tmp_path / "x.tar", IMAGE, Img([], tags=["b:1"]))))
    assert missing is None and problems == ["no image tagged nope:1 in it (it has example/app:1, b:1)"]


def test_cli(project: Path) -> None:
    run = run_caplint("caps", "--image", "example/app:1=app.tar", "compose.yaml", cwd=project)
    assert run.returncode == 0, run.stderr
    assert "image example/app:1 (linux/amd64) from app.tar" in run.stdout
    assert run_caplint("caps", "--image", "example/app:1", "compose.yaml", cwd=project).returncode == 2
    assert run_caplint("caps", "--image", "a=missing.tar", "compose.yaml", cwd=project).returncode == 2


def test_json_carries_the_image_facts_it_used(project: Path) -> None:
    import json

    import jsonschema
    from test_evidence import SCHEMA

    run = run_caplint("caps", "--format", "json", "--image", "example/app:1=app.tar", "compose.yaml", cwd=project)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    jsonschema.validate(doc, SCHEMA)
    by_name = {c["name"]: c for c in doc["containers"]}
    assert doc["problems"] == []
    assert by_name["service 'other'"]["image"] is None  # nginx: not the scanned image
    web = by_name["service 'web'"]
    assert web["effective"] == ["NET_BIND_SERVICE"] and web["suggested"]["complete"] in (True, False)
    image = web["image"]
    assert {k: image[k] for k in ("reference", "platform", "path", "user", "user_from", "root",
                                  "no_new_privileges")} == {
        "reference": "example/app:1", "platform": "linux/amd64", "path": "app.tar", "user": "1000",
        "user_from": "the image config's User", "root": False, "no_new_privileges": False}
    files = {f["path"]: f for f in image["files"]}
    assert sorted(files) == ["/usr/bin/passwd", "/usr/bin/ping", "/usr/bin/web", "/usr/sbin/tcpdump"]
    assert files["/usr/bin/passwd"] == {
        "path": "/usr/bin/passwd", "mode": "4755", "owner": "root", "group": "root", "uid": 0, "gid": 0,
        "setuid": True, "setgid": False, "capabilities": None,
        "verdict": "setuid root: runs as root with the whole set above"}
    assert files["/usr/bin/ping"]["capabilities"] == {
        "text": "cap_net_raw=ep", "permitted": ["NET_RAW"], "inheritable": [], "effective": True, "version": 2,
        "rootid": None}
    assert files["/usr/bin/ping"]["verdict"] == "cap_net_raw=ep: execve fails (EPERM), NET_RAW not in the container's set"
    admin = by_name["service 'admin'"]["image"]
    assert admin["user"] == "root" and admin["user_from"].endswith("compose.yaml:8") and admin["root"] is True
    assert by_name["service 'locked'"]["image"]["no_new_privileges"] is True


def test_json_reports_an_unreadable_image(project: Path) -> None:
    import json

    (project / "bad.tar").write_bytes(bytes(1024) + b"junk")
    run = run_caplint("caps", "--format", "json", "--image", "example/app:1=bad.tar", "compose.yaml", cwd=project)
    doc = json.loads(run.stdout)
    assert all(c["image"] is None for c in doc["containers"])
    assert doc["problems"] and doc["problems"][0].startswith("bad.tar: cannot read: ")
