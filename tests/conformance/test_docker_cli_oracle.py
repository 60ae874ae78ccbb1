"""caplint's reading of `docker run|create` lines against the docker CLI itself.

The CLI is pointed at a fake Engine API (references.FakeEngine) and the body
of its `POST /containers/create` — the exact HostConfig it built from the
flags — is compared field by field with the Container caplint reads from the
same line written in a shell script. Nothing is ever run.
"""
from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import event, given

from caplint.formats.shell import parser as shell
from caplint.model import Container
from conftest import FIXTURES, ROOT
from generators import docker_argvs, shell_line
from references import FakeEngine, cases, docker_cli
from views import SYSTEMPATHS, caplint_view, capability_set, differences

pytestmark = pytest.mark.conformance

CASES = cases(120)
_VERBS = (("run",), ("create",), ("container", "run"), ("container", "create"))


@pytest.fixture(scope="module")
def engine() -> Iterator[FakeEngine]:
    fake = FakeEngine(docker_cli())
    yield fake
    fake.close()


def reference_view(body: dict[str, Any]) -> dict[str, Any]:
    """The create request in the shape of views.caplint_view."""
    host = body.get("HostConfig") or {}
    mounts = []
    for bind in host.get("Binds") or []:
        parts = bind.split(":")
        opts = parts[2].split(",") if len(parts) > 2 else []
        mounts.append(("bind" if parts[0].startswith("/") else "volume", parts[0], parts[1], "ro" in opts))
    for m in host.get("Mounts") or []:
        mounts.append((m["Type"], m.get("Source") or None, m["Target"], bool(m.get("ReadOnly"))))
    mounts += [("volume", None, target, False) for target in body.get("Volumes") or {}]
    mounts += [("tmpfs", None, target, False) for target in host.get("Tmpfs") or {}]
    network = host.get("NetworkMode") or None
    return {
        "privileged": bool(host.get("Privileged")),
        "cap_add": capability_set(host.get("CapAdd") or []),
        "cap_drop": capability_set(host.get("CapDrop") or []),
        "security_opt": sorted(host.get("SecurityOpt") or []),
        # The CLI turns `systempaths=unconfined` into empty masked and read-only path lists.
        "systempaths_unconfined": host.get("MaskedPaths") == [],
        "pid": host.get("PidMode") or None, "ipc": host.get("IpcMode") or None,
        "network": None if network == "default" else network,
        "userns": host.get("UsernsMode") or None, "uts": host.get("UTSMode") or None,
        "cgroupns": host.get("CgroupnsMode") or None, "user": body.get("User") or None,
        "mounts": sorted(set(mounts), key=str),
        "devices": sorted({(d["PathOnHost"], d["PathInContainer"]) for d in host.get("Devices") or []}),
        "device_cgroup_rules": sorted(host.get("DeviceCgroupRules") or []),
        "build_privileged": False,
        "build_entitlements": [],
    }


def caplint_container(argv: list[str]) -> Container:
    result = shell.parse(shell_line(argv), "conformance.sh")
    assert not result.problems, result.problems
    (container,) = result.containers
    return container


# Lines the CLI refuses before sending anything, for reasons that are not part
# of the model: caplint lints what a line asks for and does not validate it.
KNOWN_REFUSALS = ("is specified multiple times",)


def compare(engine: FakeEngine, argv: list[str], container: Container) -> bool:
    """Whether the CLI sent a request (and then it matched caplint's model)."""
    body, stderr = engine.create(argv)
    if body is None:
        assert any(reason in stderr for reason in KNOWN_REFUSALS), f"the docker CLI refused {shlex.join(argv)!r}: {stderr}"
        return False
    assert differences(caplint_view(container), reference_view(body)) == {}, shlex.join(["docker", *argv])
    return True


@CASES
@given(argv=docker_argvs())
def test_generated_command_lines(engine: FakeEngine, argv: list[str]) -> None:
    event(f"verb: {' '.join(argv[:2]) if argv[0] == 'container' else argv[0]}")
    event("compared" if compare(engine, argv, caplint_container(argv)) else "refused by the CLI")


def _docker_lines() -> list[tuple[str, int, list[str], Container]]:
    """(file, line, argv after `docker`, caplint's container) for every plain
    `docker run|create` in the shell fixtures and examples."""
    out = []
    paths = sorted(p for p in (FIXTURES / "shell").rglob("*") if p.is_file())
    paths += sorted((ROOT / "examples").rglob("*.sh"))
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for c in shell.parse(text, str(path)).containers:
            argv = _argv(text, c)
            if argv is not None:
                out.append((str(path.relative_to(ROOT)), c.span.line, argv, c))
    return out


def _argv(text: str, c: Container) -> list[str] | None:
    """The words after `docker`, split as bash would, or None when the line
    cannot be compared: an expansion (`$IMAGE`) is unknown to caplint and
    empty or anything to bash, so such a line proves nothing either way."""
    if c.runtime != "docker" or not c.complete or c.name.split()[1] not in ("run", "create", "container"):
        return None
    lines = text.split("\n")[c.span.line - 1: c.span.end_line]
    lines[-1] = lines[-1][: c.span.end_column - 1]
    lines[0] = lines[0][c.span.column - 1:]
    written = "\n".join(lines).replace("\\\n", " ")
    if "$" in written or "`" in written:
        return None
    words = shlex.split(written)
    at = next(i for i, w in enumerate(words) if os.path.basename(w) == "docker")
    return words[at + 1:]


FIXTURE_LINES = _docker_lines()


def test_fixtures_have_docker_lines() -> None:
    assert len(FIXTURE_LINES) >= 10


@pytest.mark.parametrize(("where", "line", "argv", "container"), FIXTURE_LINES,
                         ids=[f"{w}:{n}" for w, n, _, _ in FIXTURE_LINES])
def test_fixture_command_lines(engine: FakeEngine, where: str, line: int, argv: list[str],
                               container: Container) -> None:
    assert compare(engine, argv, container)


def test_systempaths_becomes_empty_masked_paths(engine: FakeEngine) -> None:
    """The reference really is read: `systempaths=unconfined` leaves SecurityOpt."""
    body, _ = engine.create(["create", "--security-opt", SYSTEMPATHS, "alpine"])
    assert body is not None
    assert body["HostConfig"]["MaskedPaths"] == [] and SYSTEMPATHS not in (body["HostConfig"]["SecurityOpt"] or [])


def test_the_cli_negotiates_and_sends_a_versioned_create(engine: FakeEngine) -> None:
    body, stderr = engine.create(["run", "--privileged", "alpine"])
    assert body is not None and body["HostConfig"]["Privileged"] is True
    assert "request recorded" in stderr  # the CLI stopped at the fake engine's answer
    assert any(p.startswith("/v1.") and p.split("?")[0].endswith("/containers/create") for p in engine.server.paths)
