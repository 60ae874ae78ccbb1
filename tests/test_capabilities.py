from __future__ import annotations

import pytest

from caplint import capabilities as caps
from caplint.effective import provenance
from caplint.model import Container, Located, Span


def test_there_are_41_numbered_capabilities() -> None:
    assert sorted(c.number for c in caps.CAPABILITIES.values()) == list(range(41))
    assert all(c.grants for c in caps.CAPABILITIES.values())


def test_default_sets() -> None:
    assert len(caps.DOCKER_DEFAULTS) == 14
    assert caps.PODMAN_DEFAULTS == caps.DOCKER_DEFAULTS - {"NET_RAW", "MKNOD", "AUDIT_WRITE"}
    assert len(caps.PODMAN_DEFAULTS) == 11
    assert caps.DOCKER_DEFAULTS <= caps.ALL_CAPABILITIES


@pytest.mark.parametrize(("written", "canonical"), [
    ("SYS_ADMIN", "SYS_ADMIN"), ("sys_admin", "SYS_ADMIN"), ("CAP_SYS_ADMIN", "SYS_ADMIN"),
    ("cap_net_raw", "NET_RAW"), (" NET_RAW ", "NET_RAW"), ("ALL", "ALL"), ("all", "ALL"),
    ("CAP_ALL", None), ("NET_BIND_SERVCE", None), ("", None), ("CAP_", None),
])
def test_normalize(written: str, canonical: str | None) -> None:
    assert caps.normalize(written) == canonical


@pytest.mark.parametrize(("typo", "suggestion"), [
    ("NET_BIND_SERVCE", "NET_BIND_SERVICE"), ("cap_sys_admn", "SYS_ADMIN"), ("CAP_ALL", "ALL"),
    ("SYSADMIN", "SYS_ADMIN"), ("banana", None),
])
def test_suggest(typo: str, suggestion: str | None) -> None:
    assert caps.suggest(typo) == suggestion


def test_effective_set_follows_tweak_capabilities() -> None:
    assert caps.effective_set([], [], privileged=True) == caps.ALL_CAPABILITIES
    assert caps.effective_set(["ALL"], ["SYS_ADMIN"]) == caps.ALL_CAPABILITIES - {"SYS_ADMIN"}
    assert caps.effective_set(["NET_BIND_SERVICE"], ["ALL"]) == {"NET_BIND_SERVICE"}
    assert caps.effective_set(["NET_ADMIN"], ["NET_RAW"]) == (caps.DOCKER_DEFAULTS - {"NET_RAW"}) | {"NET_ADMIN"}
    # Drops apply before adds, so adding and dropping the same keeps it.
    assert "NET_ADMIN" in caps.effective_set(["NET_ADMIN"], ["NET_ADMIN"])
    assert caps.effective_set([], [], runtime="podman") == caps.PODMAN_DEFAULTS
    # ALL in both: the add is checked first, as in Docker, so everything is kept.
    assert caps.effective_set(["ALL"], ["ALL"]) == caps.ALL_CAPABILITIES


def _container(adds: list[str], drops: list[str], privileged: bool = False, runtime: str = "docker") -> Container:
    span = Span.point("f", 1)
    loc = lambda v: Located(v, span, v)  # noqa: E731
    return Container("c", span, "compose", runtime=runtime,  # type: ignore[arg-type]
                     privileged=Located(privileged, span, str(privileged)),
                     cap_add=tuple(map(loc, adds)), cap_drop=tuple(map(loc, drops)))


@pytest.mark.parametrize(("adds", "drops", "privileged", "runtime"), [
    ([], [], False, "docker"), ([], [], False, "podman"), (["ALL"], ["SYS_ADMIN"], False, "docker"),
    (["NET_ADMIN"], ["ALL"], False, "docker"), (["sys_time"], ["NET_RAW"], False, "docker"),
    ([], [], True, "docker"),
])
def test_caps_command_agrees_with_effective_set(adds: list[str], drops: list[str], privileged: bool, runtime: str) -> None:
    expected = caps.effective_set([caps.normalize(a) for a in adds], [caps.normalize(d) for d in drops],  # type: ignore[misc]
                                  privileged=privileged, runtime=runtime)
    assert set(provenance(_container(adds, drops, privileged, runtime))) == set(expected)
