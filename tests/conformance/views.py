"""What the rules read of a Container, as plain comparable values.

Each oracle module turns its reference's output into the same shape, so a
disagreement shows up as a readable dict difference naming the field.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from caplint.model import Container, Located

SYSTEMPATHS = "systempaths=unconfined"


def capability_set(names: Iterable[str]) -> frozenset[str]:
    """Names as the runtime compares them: any case, `CAP_` optional."""
    out = set()
    for name in names:
        upper = name.upper()
        out.add(upper[4:] if upper.startswith("CAP_") and upper != "CAP_ALL" else upper)
    return frozenset(out)


def value(loc: Located[Any] | None) -> Any:
    return None if loc is None else loc.value


def unresolved_fields(c: Container) -> set[str]:
    """Fields holding a value caplint calls unknown (an unset `${VAR}`)."""
    out = set()
    for name in ("privileged", "pid", "ipc", "network", "userns", "uts", "cgroupns", "user", "build_privileged"):
        loc = getattr(c, name)
        if loc is not None and not loc.resolved:
            out.add(name)
    for name in ("cap_add", "cap_drop", "security_opt", "device_cgroup_rules", "build_entitlements"):
        if any(not loc.resolved for loc in getattr(c, name)):
            out.add(name)
    if any(m.source is not None and not m.source.resolved for m in c.mounts):
        out.add("mounts")
    if any(not d.host.resolved for d in c.devices):
        out.add("devices")
    return out


def caplint_view(c: Container, home: str | None = None, folder: str | None = None) -> dict[str, Any]:
    """The container as the rules see it. `~` and `./` bind sources are made
    absolute the way the reference prints them when `home`/`folder` are given."""
    def source(text: str | None) -> str | None:
        if text is None:
            return None
        if home is not None and (text == "~" or text.startswith("~/")):
            return home + text[1:]
        if folder is not None and text.startswith("."):
            import os.path

            return os.path.normpath(os.path.join(folder, text))
        return text

    opts = [o.value for o in c.security_opt]
    return {
        "privileged": bool(value(c.privileged)),
        "cap_add": capability_set(x.value for x in c.cap_add),
        "cap_drop": capability_set(x.value for x in c.cap_drop),
        "security_opt": sorted(o for o in opts if o != SYSTEMPATHS),
        "systempaths_unconfined": SYSTEMPATHS in opts,
        "pid": value(c.pid), "ipc": value(c.ipc), "network": value(c.network), "userns": value(c.userns),
        "uts": value(c.uts), "cgroupns": value(c.cgroupns), "user": value(c.user),
        # Sets: a mount written twice is two findings where each is written; the CLI sends it once.
        "mounts": sorted({(m.kind, source(value(m.source)), m.target, m.read_only) for m in c.mounts}, key=str),
        "devices": sorted({(d.host.value, d.container or d.host.value) for d in c.devices}),
        "device_cgroup_rules": sorted(x.value for x in c.device_cgroup_rules),
        "build_privileged": bool(value(c.build_privileged)),
        "build_entitlements": sorted({x.value for x in c.build_entitlements}),
    }


def differences(ours: dict[str, Any], theirs: dict[str, Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """field → (caplint, reference) for every field where they differ."""
    skipped = set(skip)
    return {k: (ours.get(k), theirs.get(k)) for k in theirs if k not in skipped and ours.get(k) != theirs.get(k)}
