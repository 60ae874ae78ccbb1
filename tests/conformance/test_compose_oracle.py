"""caplint's reading of Compose files against Docker Compose v2 itself.

`docker-compose config --format json` prints the model Compose loaded:
interpolated (environment over `.env`), anchors and merge keys applied,
`extends` followed, override files merged, short syntax expanded. Every
service caplint reads must equal it in the fields the rules look at, and a
project Compose refuses must get a CAP001 about what Compose names (its
error's field: `privileged`, `volumes`, a `${…}` it cannot substitute). A
stack is read the way the engine reads it (parser.parse_stack).

One difference is on purpose and encoded here: an unset `${VAR}` without a
default is an empty string (and a warning) to Compose, but unknown to caplint
— the deploy environment may well set it, and caplint must not guess. A field
caplint calls unresolved is therefore not compared, and a refusal that comes
from such a value (`cpus: "${UNSET}"` casts "" and fails) is not caplint's to
report; the test checks instead that Compose did warn about an unset variable.
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given

from caplint.formats.compose import parser as caplint_compose
from caplint.model import Container
from conftest import FIXTURES, ROOT
from generators import ComposeProject, compose_projects
from references import Compose, cases, compose_binary
from views import caplint_view, capability_set, differences, unresolved_fields

pytestmark = pytest.mark.conformance

CASES = cases(100)
_UNSET_WARNING = "variable is not set. Defaulting to a blank string"
_UNSET_REQUIRED = "is missing a value"  # `${VAR:?…}` unset: Compose stops, caplint calls the value unknown


@pytest.fixture(scope="module")
def compose() -> Compose:
    return Compose(compose_binary())


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """caplint reads the process environment: give it exactly the project's variables."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("CAPLINT_TEST_")}
    for k in saved:
        del os.environ[k]
    os.environ.update(env)
    try:
        yield
    finally:
        for k in env:
            os.environ.pop(k, None)
        os.environ.update(saved)


def reference_view(service: dict[str, Any]) -> dict[str, Any]:
    """One service of `config --format json` in the shape of views.caplint_view."""
    build = service.get("build") or {}
    return {
        "privileged": bool(service.get("privileged")),
        "cap_add": capability_set(service.get("cap_add") or []),
        "cap_drop": capability_set(service.get("cap_drop") or []),
        "security_opt": sorted(o for o in service.get("security_opt") or [] if o != "systempaths=unconfined"),
        "systempaths_unconfined": "systempaths=unconfined" in (service.get("security_opt") or []),
        "pid": service.get("pid"), "ipc": service.get("ipc"), "network": service.get("network_mode"),
        "userns": service.get("userns_mode"), "uts": service.get("uts"), "cgroupns": service.get("cgroup"),
        "user": service.get("user"),
        "mounts": sorted({(v["type"], v.get("source"), v.get("target"), bool(v.get("read_only")))
                          for v in service.get("volumes") or []}, key=str),
        "devices": sorted({(d.get("source"), d.get("target") or d.get("source")) for d in service.get("devices") or []},
                          key=str),
        "device_cgroup_rules": sorted(service.get("device_cgroup_rules") or []),
        "build_privileged": bool(build.get("privileged")),
        "build_entitlements": sorted(set(build.get("entitlements") or [])),
    }


def caplint_services(folder: Path, stack: list[str]) -> tuple[dict[str, Container], list[str]]:
    """caplint's containers by service name and its problems: one file parsed
    alone, or the files of a stack merged as the engine reads them."""
    files = [(str(folder / name), (folder / name).read_text(encoding="utf-8")) for name in stack]
    if len(files) == 1:
        result = caplint_compose.parse(files[0][1], files[0][0])
    else:
        result = caplint_compose.parse_stack(files)
    services = {c.name.removeprefix("service ").strip("'\""): c for c in result.containers}
    return services, [p.message for p in result.problems]


_REFUSALS = (
    (re.compile(r"invalid interpolation format"), "Compose can substitute"),
    (re.compile(r"(?:interpolating|validating \S+:) services\.[^.\s]+\.(?:build\.)?([a-z_]+(?:\.[\w\[\]]+)*)"), None),
    (re.compile(r"'services\[[^]]+\]\.(?:build\.)?([a-z_]+)'"), None),
    (re.compile(r"services\.[^.\s]+\.([a-z_]+)\.\[\d+\]: unexpected type"), None),
    (re.compile(r"confusing device mapping"), "devices"),
    (re.compile(r"invalid spec|invalid empty volume spec"), "volume"),
    (re.compile(r"mapping key .* already defined"), "duplicate key"),
)


def _from_unset(folder: Path, topic: str | None, said: str) -> bool:
    """Compose refused a field (one caplint's model does not hold, `cpus`) that
    is written with a variable Compose warned is unset: the difference on purpose."""
    unset = re.findall(r'The \\?"(\w+)\\?" variable is not set', said)
    key = _refused_key(said) or topic
    return key is not None and any(key in line and any(name in line for name in unset)
                                     for text in _files(folder).values() for line in text.splitlines())


def _files(folder: Path) -> dict[str, str]:
    """The project's files, for a failure message."""
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file()}


def refusal_topic(said: str) -> str | None:
    """What Compose's refusal is about, as a word caplint's message about it
    contains: the field (`volumes` of `volumes.[].read_only`), or the kind of error."""
    for pattern, topic in _REFUSALS:
        m = pattern.search(said)
        if m:
            return topic or m.group(1).split(".")[0]
    return None


def _refused_key(said: str) -> str | None:
    """The innermost key of the field Compose refused (`read_only` of `volumes.[].read_only`)."""
    m = re.search(r"interpolating services\.[^.\s]+\.([\w.\[\]]+)", said)
    return m.group(1).split(".")[-1] if m else None


def compare_project(compose: Compose, folder: Path, stack: list[str], env: dict[str, str], *,
                    partial: bool = False) -> str:
    """Compare every service; return what happened, for the statistics.
    A `partial` file (an override on its own) is loaded without Compose's consistency check."""
    reference, said = compose.config(folder, stack, env, consistency=not partial)
    with environment(env):
        ours, problems = caplint_services(folder, stack)
    if reference is None:
        # Compose refused the project: caplint must have said why, or have
        # called the value unknown that Compose substituted with "" and then refused.
        topic = refusal_topic(said)
        unknown = any(unresolved_fields(c) for c in ours.values()) or _from_unset(folder, topic, said)
        if problems and topic is not None:
            # caplint must have said why: something about the field Compose names.
            assert unknown or any(topic in p for p in problems), (topic, said, problems, _files(folder))
        assert problems or (unknown and (_UNSET_WARNING in said or _UNSET_REQUIRED in said)), \
            f"Compose refused it, caplint did not: {said} {_files(folder)}"
        return "refused by Compose"
    assert not problems, (problems, _files(folder))
    services = reference.get("services") or {}
    assert sorted(ours) == sorted(services)
    outcome = "compared"
    for name, service in services.items():
        container = ours[name]
        unknown = unresolved_fields(container)
        if unknown:
            # The one difference on purpose (see the module docstring).
            assert _UNSET_WARNING in said, (name, unknown, said)
            outcome = "compared, unset variables left out"
        skip = {"systempaths_unconfined" if f == "security_opt" else f for f in unknown} | unknown
        home_folder = str(folder)
        ours_view = caplint_view(container, home=home_folder, folder=home_folder)
        diff = differences(ours_view, reference_view(service), skip)
        assert diff == {}, (name, diff, said, _files(folder))
    return outcome


def _write(project: ComposeProject, folder: Path) -> None:
    for name, text in project.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    if project.dotenv:
        (folder / ".env").write_text(project.dotenv_text(), encoding="utf-8")
    if project.decoy_dotenv:
        (folder / project.decoy_dotenv).write_text("".join(f"{k}=yes\n" for k in [*project.dotenv, *project.env]),
                                                   encoding="utf-8")


@CASES
@given(project=compose_projects())
def test_generated_projects(compose: Compose, project: ComposeProject) -> None:
    extended = [name for name in project.files if name.endswith("base.yaml")]
    event(f"files: {len(project.stack)}{' + extends ' + extended[0] if extended else ''}")
    with tempfile.TemporaryDirectory(prefix="caplint-compose-") as tmp:
        folder = Path(tmp)
        _write(project, folder)
        event(compare_project(compose, folder, project.stack, project.env))


def _compose_fixtures() -> list[Path]:
    """Every Compose file of the fixtures and examples (not the YAML that is not Compose)."""
    found = []
    for path in sorted([*(FIXTURES / "compose").rglob("*.y*ml"), *(ROOT / "examples").glob("*.y*ml")]):
        if "workflows" in path.parts or path.name in ("gitlab-ci.yml", "helm-template.yaml", "k8s-deployment.yaml"):
            continue
        found.append(path)
    return found


# Fixtures Compose v2 refuses on purpose, and why caplint reads them all the same.
ON_PURPOSE = {
    # Compose v2 dropped the v1 format (services at the top level); docker-compose 1.x still runs it.
    "docker-compose.v1.yml": "additional properties",
    # An empty file declares nothing: Compose refuses to run nothing, caplint has nothing to report.
    "docker-compose.empty.yml": "empty compose file",
}


def _partial(path: Path) -> bool:
    """An override file, or a later file of the stack `COMPOSE_FILE` in `.env` names."""
    dotenv = path.parent / ".env"
    stack: list[str] = []
    if dotenv.is_file():
        for line in dotenv.read_text(encoding="utf-8").splitlines():
            if line.startswith("COMPOSE_FILE="):
                stack = line.split("=", 1)[1].split(":")
    return "override" in path.name or path.name in stack[1:]


@pytest.mark.parametrize("path", _compose_fixtures(), ids=lambda p: str(p.relative_to(ROOT)))
def test_fixture_files(compose: Compose, path: Path) -> None:
    if path.name in ON_PURPOSE:
        reference, said = compose.config(path.parent, [path.name], {})
        assert reference is None and ON_PURPOSE[path.name] in said
        return
    compare_project(compose, path.parent, [path.name], {}, partial=_partial(path))
