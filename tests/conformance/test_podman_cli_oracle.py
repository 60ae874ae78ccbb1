"""caplint's reading of `podman run|create` lines against podman itself.

podman (Debian's, 4.3) runs as a remote client (`--url unix://…`) of the fake
engine (references.FakeEngine, which speaks enough libpod): it answers the
ping and the image pull and records `POST /libpod/containers/create`, whose
body is the SpecGenerator the podman CLI built from the flags — before any
server has read it, so capability names are as written (split on commas:
podman's `--cap-add a,b` is two names, docker's one). Nothing is ever run.
"""
from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from hypothesis import event, given

from caplint.formats.shell import parser as shell
from caplint.model import Container
from generators import docker_argvs, shell_line
from references import FakeEngine, cases, podman_cli
from views import SYSTEMPATHS, caplint_view, capability_set, differences

pytestmark = pytest.mark.conformance

CASES = cases(60)


@pytest.fixture(scope="module")
def engine() -> Iterator[FakeEngine]:
    fake = FakeEngine(podman_cli(), podman=True)
    yield fake
    fake.close()


def security_facts(opts: Iterable[str]) -> list[tuple[str, str]]:
    """`--security-opt` values as what they set: (seccomp|apparmor|label, value),
    (no-new-privileges, true) and (systempaths, unconfined); docker's legacy
    `key:value` spelling is read as podman reads it."""
    facts = set()
    for opt in opts:
        key, sep, val = opt.partition("=")
        if not sep and ":" in opt:
            key, _, val = opt.partition(":")
        if key == "no-new-privileges":
            if val in ("", "true"):
                facts.add((key, "true"))
        elif key == "systempaths" or (key == "unmask" and val == "ALL"):
            facts.add(("systempaths", "unconfined"))
        elif key in ("seccomp", "apparmor", "label"):
            facts.add((key, val))
    return sorted(facts)


def _namespace(spec: dict[str, Any], key: str) -> str | None:
    ns = spec.get(key) or {}
    mode = ns.get("nsmode")
    if not mode:
        return None
    return f"{mode}:{ns['value']}" if ns.get("value") else mode


def _cgroup_rule(rule: dict[str, Any]) -> str:
    def number(n: Any) -> str:
        return "*" if n is None or n == -1 else str(n)
    return f"{rule.get('type') or 'a'} {number(rule.get('major'))}:{number(rule.get('minor'))} {rule.get('access')}"


def reference_view(spec: dict[str, Any]) -> dict[str, Any]:
    """The SpecGenerator in the shape of views.caplint_view."""
    mounts = [(m["type"], None if m["type"] == "tmpfs" else m.get("source"), m["destination"],
               "ro" in (m.get("options") or [])) for m in spec.get("mounts") or []]
    mounts += [("volume", v.get("Name") or None, v["Dest"], "ro" in (v.get("Options") or []))
               for v in spec.get("volumes") or []]
    devices = []
    for d in spec.get("devices") or []:
        parts = d["path"].split(":")
        devices.append((parts[0], parts[1] if len(parts) > 1 else parts[0]))
    opts = [f"seccomp={spec['seccomp_profile_path']}"] if spec.get("seccomp_profile_path") else []
    opts += [f"apparmor={spec['apparmor_profile']}"] if spec.get("apparmor_profile") else []
    opts += [f"label={o}" for o in spec.get("selinux_opts") or []]
    opts += ["no-new-privileges"] if spec.get("no_new_privileges") else []
    opts += [SYSTEMPATHS] if "ALL" in (spec.get("unmask") or []) else []
    return {
        "privileged": bool(spec.get("privileged")),
        "cap_add": capability_set(spec.get("cap_add") or []),
        "cap_drop": capability_set(spec.get("cap_drop") or []),
        "security": security_facts(opts),
        "pid": _namespace(spec, "pidns"), "ipc": _namespace(spec, "ipcns"), "network": _namespace(spec, "netns"),
        "userns": _namespace(spec, "userns"), "uts": _namespace(spec, "utsns"),
        "cgroupns": _namespace(spec, "cgroupns"), "user": spec.get("user") or None,
        "mounts": sorted(set(mounts), key=str),
        "devices": sorted(set(devices)),
        "device_cgroup_rules": sorted(_cgroup_rule(r) for r in spec.get("device_cgroup_rule") or []),
    }


def caplint_podman_view(c: Container) -> dict[str, Any]:
    view = caplint_view(c)
    view["security"] = security_facts(view["security_opt"] + ([SYSTEMPATHS] if view["systempaths_unconfined"] else []))
    # A rule written with spaces the CLI normalises: compare it as the CLI prints it back.
    view["device_cgroup_rules"] = sorted(" ".join(r.split()) for r in view["device_cgroup_rules"])
    return view


def caplint_container(argv: list[str]) -> Container:
    result = shell.parse(shell_line(argv, "podman"), "conformance.sh")
    assert not result.problems, result.problems
    (container,) = result.containers
    return container


# Lines podman refuses before sending anything, for reasons that are not part
# of the model: caplint lints what a line asks for (each mount where it is
# written) and does not validate it — the docker CLI sends the same line and
# its daemon refuses it.
KNOWN_REFUSALS = ("duplicate mount destination", "cannot set multiple networks", "can only set extra network names")

# On purpose: with `--read-only` podman adds tmpfs mounts here (--read-only-tmpfs
# is true by default); a tmpfs has no host side, nothing a rule reads, and
# caplint does not model them.
_READ_ONLY_TMPFS = {("tmpfs", None, target, False) for target in ("/run", "/tmp", "/var/tmp")}


def compare(engine: FakeEngine, argv: list[str]) -> bool:
    """Whether podman sent a request (and then it matched caplint's model)."""
    container = caplint_container(argv)
    spec, stderr = engine.create(argv)
    if spec is None:
        assert any(reason in stderr for reason in KNOWN_REFUSALS), f"podman refused {shlex.join(argv)!r}: {stderr}"
        return False
    ours, reference = caplint_podman_view(container), reference_view(spec)
    if "--read-only" in argv[: argv.index("--") if "--" in argv else len(argv)]:
        for view in (ours, reference):
            view["mounts"] = [m for m in view["mounts"] if m not in _READ_ONLY_TMPFS]
    diff = differences(ours, reference)
    assert diff == {}, (shlex.join(["podman", *argv]), diff)
    return True


@CASES
@given(argv=docker_argvs(podman=True))
def test_generated_command_lines(engine: FakeEngine, argv: list[str]) -> None:
    event(f"verb: {' '.join(argv[:2]) if argv[0] == 'container' else argv[0]}")
    event("compared" if compare(engine, argv) else "refused by podman")


def test_podman_splits_capabilities_on_commas(engine: FakeEngine) -> None:
    """The difference from docker that caplint's podman table encodes, seen from podman itself."""
    spec, _ = engine.create(["create", "--cap-add", "NET_ADMIN,sys_time", "alpine"])
    assert spec is not None and spec["cap_add"] == ["NET_ADMIN", "sys_time"]
    assert {c.value for c in caplint_container(["create", "--cap-add", "NET_ADMIN,sys_time", "alpine"]).cap_add} \
        == {"NET_ADMIN", "sys_time"}
