"""Capabilities a container adds, drops, misspells or keeps by default."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from caplint import advice
from caplint import capabilities as caps
from caplint.model import Container, Hit, Located, Remedy, Severity
from caplint.rules import rule


def _named(values: tuple[Located[str], ...]) -> Iterator[tuple[Located[str], str]]:
    """Resolved entries with their canonical name; unknown names are CAP205's job."""
    for loc in values:
        if loc.resolved:
            name = caps.normalize(loc.value)
            if name is not None:
                yield loc, name


def _drops_all(c: Container) -> bool:
    return any(name == caps.ALL for _, name in _named(c.cap_drop))


def _single_adds(c: Container) -> Iterator[tuple[Located[str], str]]:
    """Capabilities added one by one — unless ALL is added too: then CAP201 is
    the finding, and a single add is either redundant or undone by a drop."""
    named = list(_named(c.cap_add))
    if all(name != caps.ALL for _, name in named):
        yield from named


@rule("CAP201", "all-capabilities", Severity.CRITICAL, (Container,))
def all_capabilities(c: Container) -> Iterator[Hit]:
    """
    A container adds every Linux capability.

    ## What it does
    Flags `cap_add: [ALL]` and `--cap-add=ALL`, in any case.

    ## Why is this bad?
    `ALL` grants all 41 capabilities, including `SYS_ADMIN`, `SYS_MODULE` and
    `SYS_PTRACE`: nearly everything `--privileged` gives, and enough to escape to
    the host through a kernel module or a cgroup `release_agent`. Whatever the
    workload needed, it was not all of them.

    ## Example
    ```yaml
    services:
      agent:
        image: monitoring/agent
        cap_add: [ALL]
    ```

    ## Use instead
    Find the capabilities the process really uses (`getpcaps <pid>` or
    `capsh --print` inside a test container, or the workload's docs) and add only those:
    ```yaml
    services:
      agent:
        image: monitoring/agent
        cap_drop: [ALL]
        cap_add: [SYS_PTRACE]
    ```

    ## References
    - [capabilities(7)](https://man7.org/linux/man-pages/man7/capabilities.7.html)
    - [Docker run: --cap-add](https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities)
    """
    for loc, name in _named(c.cap_add):
        if name == caps.ALL:
            yield Hit(loc.span, f"{c.name} adds {loc.shown}: every Linux capability, close to a privileged container",
                      advice=_instead_of_all(c, loc))


@rule("CAP202", "critical-capability", Severity.CRITICAL, (Container,))
def critical_capability(c: Container) -> Iterator[Hit]:
    """
    A container adds a capability that is a known path to host takeover.

    ## What it does
    Flags adding `SYS_ADMIN`, `SYS_MODULE`, `SYS_RAWIO`, `SYS_PTRACE`,
    `DAC_READ_SEARCH`, `BPF`, `MAC_ADMIN` or `MAC_OVERRIDE`, with or without the
    `CAP_` prefix, in any case. The message says what the capability lets an
    attacker do. When `ALL` is added as well, [CAP201](CAP201.md) is the
    finding instead.

    ## Why is this bad?
    Each of these breaks the container boundary on its own: `SYS_ADMIN` can mount
    filesystems and abuse the cgroup `release_agent`; `SYS_MODULE` loads code into
    the host kernel; `SYS_RAWIO` reads host memory; `SYS_PTRACE` injects code into
    other processes; `DAC_READ_SEARCH` allowed the "shocker" escape through
    `open_by_handle_at`; `BPF` can read kernel memory; `MAC_ADMIN`/`MAC_OVERRIDE`
    switch off AppArmor or SELinux.

    ## Example
    ```yaml
    services:
      fuse:
        image: sshfs
        cap_add: [SYS_ADMIN]
    ```

    ## Use instead
    Prefer a design that needs no such capability (a FUSE device plus a user
    namespace, a sidecar on the host, an eBPF agent run by the platform). If the
    capability is truly needed, isolate the container: drop everything else, run
    as a non-root user, keep seccomp and AppArmor on:
    ```yaml
    services:
      fuse:
        image: sshfs
        cap_drop: [ALL]
        devices: ["/dev/fuse"]
        security_opt: ["no-new-privileges:true"]
    ```

    ## References
    - [capabilities(7)](https://man7.org/linux/man-pages/man7/capabilities.7.html)
    - [Understanding Docker container escapes (Trail of Bits)](https://blog.trailofbits.com/2019/07/19/understanding-docker-container-escapes/)
    """
    for loc, name in _single_adds(c):
        cap = caps.CAPABILITIES.get(name)
        if cap is not None and cap.tier is caps.Tier.CRITICAL:
            yield Hit(loc.span, f"{c.name} adds {loc.shown}: lets an attacker {cap.grants}",
                      advice=_keep_only_if_needed(c, loc, name))


@rule("CAP203", "elevated-capability", Severity.MEDIUM, (Container,))
def elevated_capability(c: Container) -> Iterator[Hit]:
    """
    A container adds a capability outside the runtime's default set.

    ## What it does
    Flags adding any capability that Docker (or Podman, for `podman` commands) does
    not grant by default and that is not already covered by
    [CAP202](CAP202.md): `NET_ADMIN`, `SYS_TIME`, `SYSLOG`, `SYS_BOOT`, `PERFMON`,
    `SYS_NICE`, `IPC_LOCK`, … When `ALL` is added as well,
    [CAP201](CAP201.md) is the finding instead.

    ## Why is this bad?
    These do not hand over the host on their own, but each widens what an attacker
    inside the container can reach: `NET_ADMIN` can reconfigure and sniff the
    container's network, `SYS_TIME` sets the host's clock (time is not
    namespaced), `SYSLOG` reads kernel addresses that help kernel exploits.
    Every one should be a conscious, reviewed decision.

    ## Example
    ```yaml
    services:
      ntp:
        image: cturra/ntp
        cap_add: [SYS_TIME, SYS_NICE]
    ```

    ## Use instead
    Keep the capability only if the workload needs it, and drop the defaults it
    does not:
    ```yaml
    services:
      ntp:
        image: cturra/ntp
        cap_drop: [ALL]
        cap_add: [SYS_TIME]
    ```

    ## References
    - [capabilities(7)](https://man7.org/linux/man-pages/man7/capabilities.7.html)
    - [Docker default capabilities](https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities)
    """
    defaults = caps.defaults_for(c.runtime)
    for loc, name in _single_adds(c):
        cap = caps.CAPABILITIES.get(name)
        if cap is not None and cap.tier is not caps.Tier.CRITICAL and name not in defaults:
            yield Hit(loc.span, f"{c.name} adds {loc.shown}, which {c.runtime} does not grant by default: lets an attacker {cap.grants}",
                      advice=_keep_only_if_needed(c, loc, name))


@rule("CAP204", "missing-drop-all", Severity.LOW, (Container,))
def missing_drop_all(c: Container) -> Iterator[Hit]:
    """
    A container keeps the runtime's default capabilities instead of dropping them all.

    ## What it does
    Flags a container (a Compose service, a `docker run`/`create`) that does not
    drop `ALL` capabilities. Not reported for privileged containers, which
    [CAP101](CAP101.md) already covers, nor when `cap_drop` depends on an unset
    variable.

    ## Why is this bad?
    Docker grants 14 capabilities by default — among them `NET_RAW` (ARP and DNS
    spoofing on the container network), `DAC_OVERRIDE` (ignore file permissions),
    `SETUID`/`SETGID`, `MKNOD` and `SYS_CHROOT`. Most services need none of them;
    each one left in place is something an attacker who gets code execution can use.

    ## Example
    ```yaml
    services:
      web:
        image: nginx
        ports: ["80:80"]
    ```

    ## Use instead
    Drop everything and add back only what the workload is seen to need
    (`caplint caps` computes it from what the container runs, where the image is
    built here). nginx's master process changes the owner of its cache folders
    and starts its workers as the `nginx` user; binding port 80 needs no
    capability under Docker ≥ 20.10, which lets any process bind ports below
    1024 ([CAP208](CAP208.md)):
    ```yaml
    services:
      web:
        image: nginx
        ports: ["80:80"]
        cap_drop: [ALL]
        cap_add: [CHOWN, SETGID, SETUID]
    ```

    ## References
    - [Docker run: runtime privilege and Linux capabilities](https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities)
    - [OWASP Docker Security Cheat Sheet, rule 3](https://cheatsheetseries.owasp.org/cheatsheets/Docker_Security_Cheat_Sheet.html)
    """
    if not c.complete or (c.privileged is not None and c.privileged.value):
        return
    if any(not loc.resolved for loc in c.cap_drop) or _drops_all(c):
        return
    kept = sorted(caps.defaults_for(c.runtime) - {name for _, name in _named(c.cap_drop)})
    suggestion = advice.suggested_capabilities(c)
    yield Hit(c.span, f"{c.name} does not drop ALL capabilities and keeps {len(kept)} defaults ({', '.join(kept)})",
              advice=advice.least_privilege(c, suggestion), remedy=_drop_all(c, suggestion))


def _drop_all(c: Container, suggestion: advice.CapabilitySuggestion) -> Remedy | None:
    """CAP204's edit, only where the set it adds back is computed in full:
    drop ALL and add what is needed to what the container adds already."""
    if not suggestion.complete or suggestion.cap_add is None:
        return None
    have = {name for _, name in _named(c.cap_add)}
    add = tuple(n for n in suggestion.cap_add if n not in have)
    kept = sorted(have | set(add))
    title = "drop all capabilities" + (f", add {', '.join(kept)}" if kept else "")
    return Remedy(title, safe=False, drop_all=True, add=add)


@rule("CAP205", "unknown-capability", Severity.HIGH, (Container,))
def unknown_capability(c: Container) -> Iterator[Hit]:
    """
    A capability name that is not a Linux capability.

    ## What it does
    Flags names in `cap_add`/`cap_drop` (`--cap-add`/`--cap-drop`) that are not
    one of the 41 Linux capabilities and not `ALL` — a typo such as
    `NET_BIND_SERVCE`, or `CAP_ALL`, which Docker rejects because only the bare
    `ALL` is special. The message suggests the closest real name.

    ## Why is this bad?
    Docker refuses to start the container ("unknown capability"), so the
    deployment fails — usually late, in production. A misspelt name in
    `cap_drop` is worse when a tool silently ignores it: the capability you meant
    to remove stays.

    ## Example
    ```yaml
    services:
      web:
        image: nginx
        cap_drop: [CAP_ALL]
        cap_add: [NET_BIND_SERVCE]
    ```

    ## Use instead
    ```yaml
    services:
      web:
        image: nginx
        cap_drop: [ALL]
        cap_add: [NET_BIND_SERVICE]
    ```

    ## References
    - [capabilities(7): the list of capabilities](https://man7.org/linux/man-pages/man7/capabilities.7.html)
    """
    for field, values in (("adds", c.cap_add), ("drops", c.cap_drop)):
        for loc in values:
            if loc.resolved and caps.normalize(loc.value) is None:
                guess = caps.suggest(loc.value)
                hint = f"; did you mean {guess}?" if guess else ""
                why = " (only the bare ALL is special)" if loc.value.strip().upper() == "CAP_ALL" else ""
                fix = advice.replace_value(loc, guess, f"replace {loc.value} with {guess}") if guess else None
                yield Hit(loc.span, f"{c.name} {field} {loc.shown}, which is not a Linux capability{why}: the container will not start{hint}", fix,
                          advice.at(c, loc, f"write {guess}" if guess else
                                    f"write one of the 41 names of capabilities(7) (`caplint caps` lists a container's), or remove {loc.raw}"))


@rule("CAP206", "redundant-capability", Severity.LOW, (Container,))
def redundant_capability(c: Container) -> Iterator[Hit]:
    """
    A capability is added or dropped to no effect.

    ## What it does
    Flags adding a capability the container already has (one of the runtime's
    defaults when nothing drops it, or a name listed twice), adding and dropping
    the same capability, and dropping one it never had. Not reported for
    privileged containers, which have every capability whatever the lists say.

    ## Why is this bad?
    Redundant entries show that the author's model of the container's privileges
    differs from the runtime's: `cap_add: [NET_ADMIN]` with `cap_drop: [NET_ADMIN]`
    ends up *with* `NET_ADMIN` (drops are applied before adds), and a reviewer
    reading `cap_add: [CHOWN]` believes the container lacked it before. Lists that
    say exactly what the container gets are easier to review.

    ## Example
    ```yaml
    services:
      app:
        image: app
        cap_add: [CHOWN, NET_ADMIN]
        cap_drop: [NET_ADMIN, SYS_ADMIN]
    ```

    ## Use instead
    ```yaml
    services:
      app:
        image: app
        cap_drop: [ALL]
        cap_add: [CHOWN]
    ```

    ## References
    - [Docker: how cap_add and cap_drop combine](https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities)
    """
    if c.privileged is not None and c.privileged.value:
        return
    defaults = caps.defaults_for(c.runtime)
    adds = list(_named(c.cap_add))
    drops = list(_named(c.cap_drop))
    add_names = {name for _, name in adds}
    drop_names = {name for _, name in drops}
    drop_all = caps.ALL in drop_names
    add_all = caps.ALL in add_names

    # The order of the tests follows TweakCapabilities: an added ALL wins over
    # everything, then drops apply before adds.
    seen: set[str] = set()
    for loc, name in adds:
        if name in seen:
            yield Hit(loc.span, f"{c.name} adds {loc.shown} twice", advice=advice.at(c, loc, f"remove this second {loc.raw}"),
                      remedy=_redundant(loc, "cap_add"))
        elif add_all and name != caps.ALL:
            yield Hit(loc.span, f"{c.name} adds {loc.shown} although it already adds ALL",
                      advice=advice.at(c, loc, f"keep {name} and replace ALL with the other capabilities it really uses"))
        elif name in drop_names and name != caps.ALL:
            yield Hit(loc.span, f"{c.name} both adds and drops {loc.shown}; drops apply first, so it keeps {name}",
                      advice=advice.at(c, loc, f"remove {name} from {_lists(c, 'cap_drop')} if the container needs it, "
                                               f"from {_lists(c, 'cap_add')} if it does not"))
        elif name in defaults and not drop_all:
            yield Hit(loc.span, f"{c.name} adds {loc.shown}, which {c.runtime} grants by default",
                      advice=advice.at(c, loc, f"drop the other defaults with {advice.cap_lists(c, [])}, so that adding "
                                               f"{name} means what it says, or remove {loc.raw}"),
                      remedy=_redundant(loc, "cap_add"))
        seen.add(name)

    seen.clear()
    for loc, name in drops:
        if name in seen:
            yield Hit(loc.span, f"{c.name} drops {loc.shown} twice", advice=advice.at(c, loc, f"remove this second {loc.raw}"),
                      remedy=_redundant(loc, "cap_drop"))
        elif add_all:
            if name == caps.ALL:
                yield Hit(loc.span, f"{c.name} drops {loc.shown} but also adds ALL, which wins: it keeps every capability",
                          advice=advice.at(c, loc, f"replace ALL in {_lists(c, 'cap_add')} with the capabilities it really uses"))
            # Otherwise the drop is what takes the capability away from ALL.
        elif name in add_names:
            pass  # reported on the add above
        elif drop_all and name != caps.ALL:
            yield Hit(loc.span, f"{c.name} drops {loc.shown} although it already drops ALL",
                      advice=advice.at(c, loc, f"remove {loc.raw} from {_lists(c, 'cap_drop')}: ALL covers it"),
                      remedy=_redundant(loc, "cap_drop"))
        elif name != caps.ALL and name not in defaults:
            yield Hit(loc.span, f"{c.name} drops {loc.shown}, which it never had ({c.runtime} does not grant it by default)",
                      advice=advice.at(c, loc, f"remove {loc.raw} from {_lists(c, 'cap_drop')}, or drop ALL instead"),
                      remedy=_redundant(loc, "cap_drop"))
        seen.add(name)


def _redundant(loc: Located[str], field: Literal["cap_add", "cap_drop"]) -> Remedy:
    """CAP206's edit: the entry changes nothing, so taking it out is safe."""
    return Remedy(f"remove the redundant {loc.raw} from {field}", safe=True, remove=loc, field=field)


def _lists(c: Container, key: str) -> str:
    """How the container's list is named: `cap_add`, or `--cap-add`."""
    return advice.spelled(c, key, "--" + key.replace("_", "-"))


def _keep_only_if_needed(c: Container, loc: Located[str], name: str) -> str:
    """CAP202/CAP203: take the capability away, or keep it alone."""
    removal = advice.remove_from_list(c, "cap_add", "--cap-add", loc)
    if _drops_all(c):
        return f"{removal} unless the workload needs it"
    keep = advice.suggested_capabilities(c).cap_add
    if keep is None:
        keep = tuple(sorted({n for _, n in _single_adds(c)}))
    return f"{removal} unless the workload needs it; if it does, drop everything else: {advice.cap_lists(c, keep)}"


def _instead_of_all(c: Container, loc: Located[str]) -> str:
    """CAP201: name what is used instead of ALL."""
    others = sorted({n for _, n in _named(c.cap_add) if n != caps.ALL})
    if others:
        instead = f"{advice.cap_lists(c, others)}, plus any other capability the workload is seen to use"
    else:
        instead = (f"{advice.cap_lists(c, [])} and a cap_add of just what it uses (this file does not say which: "
                   "`capsh --print` or `getpcaps` in a test container shows it)")
    return advice.at(c, loc, f"replace ALL with the capabilities the workload really uses: {instead}")
