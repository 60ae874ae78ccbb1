"""What the container needs against what it is given (CAP208, CAP209)."""
from __future__ import annotations

from collections.abc import Iterator

from caplint import advice, evidence
from caplint import capabilities as caps
from caplint.effective import effective_capabilities
from caplint.model import Container, Hit, Located, Remedy, Severity
from caplint.rules import rule


def _adds(c: Container, name: str) -> Iterator[Located[str]]:
    for loc in c.cap_add:
        if loc.resolved and caps.normalize(loc.value) == name:
            yield loc


@rule("CAP208", "needless-capability", Severity.LOW, (Container,))
def needless_capability(c: Container) -> Iterator[Hit]:
    """
    A container adds NET_BIND_SERVICE where its runtime already lets any process bind low ports.

    ## What it does
    Flags `cap_add: [NET_BIND_SERVICE]` (`--cap-add NET_BIND_SERVICE`) on
    Docker, which since 20.10 sets `net.ipv4.ip_unprivileged_port_start=0` in
    each container's own network namespace, so every process there may bind
    ports below 1024 without the capability. Reported where the add has an
    effect (after `cap_drop: [ALL]`); re-adding the default is CAP206. Not reported with host
    networking (the host's sysctl applies, normally 1024), for privileged
    containers, or for Podman and nerdctl, whose defaults differ: the runtime
    comes from the command (`podman run`) or, for Compose, from the config key
    `runtime` (default `docker`).

    ## Why is this bad?
    A capability that does nothing is noise a reviewer has to think about, and
    it survives into places where it does something: the same file run with
    host networking, or a binary given file capabilities that expects to find
    it in the bounding set. Least privilege means each capability has a reason.

    ## Example
    ```yaml
    services:
      web:
        image: nginx
        ports: ["80:80"]
        cap_drop: [ALL]
        cap_add: [NET_BIND_SERVICE, CHOWN, SETUID, SETGID]
    ```

    ## Use instead
    ```yaml
    services:
      web:
        image: nginx
        ports: ["80:80"]
        cap_drop: [ALL]
        cap_add: [CHOWN, SETUID, SETGID]
    ```

    ## References
    - [moby#41030: set net.ipv4.ip_unprivileged_port_start=0 in containers (Docker 20.10)](https://github.com/moby/moby/pull/41030)
    - [ip-sysctl: ip_unprivileged_port_start](https://docs.kernel.org/networking/ip-sysctl.html)
    """
    if (c.privileged is not None and c.privileged.value) or evidence.needs_bind_capability(c):
        return
    if c.network is not None and not c.network.resolved:
        return  # the network mode is only known at run time
    drops = {caps.normalize(d.value) for d in c.cap_drop if d.resolved}
    if not drops & {caps.ALL, "NET_BIND_SERVICE"}:
        return  # re-adding a default: CAP206 says it does nothing
    for loc in _adds(c, "NET_BIND_SERVICE"):
        yield Hit(loc.span, f"{c.name} adds {loc.shown}, which Docker does not need to bind ports below 1024: "
                            "it sets net.ipv4.ip_unprivileged_port_start=0 in the container's network namespace",
                  advice=advice.remove_from_list(c, "cap_add", "--cap-add", loc) +
                  ": ports below 1024 bind without it here",
                  # Unsafe: right for Docker ≥ 20.10, wrong on an older engine.
                  remedy=Remedy(f"remove {loc.raw}", safe=False, remove=loc))


@rule("CAP209", "blocked-file-capability", Severity.MEDIUM, (Container,))
def blocked_file_capability(c: Container) -> Iterator[Hit]:
    """
    The image built for a container gives a file capabilities the container cannot have.

    ## What it does
    Follows a Compose service's `build:` to its Dockerfile (the `target`
    stage and the stages it is built from) and flags each file that `setcap`
    gives capabilities with the effective bit (`cap_net_raw+ep`) when the
    container's capability set lacks one of them — typically after
    `cap_drop: [ALL]`. The message names the file and the capabilities, and
    points at the entry that removes them (or at the service).

    ## Why is this bad?
    A container's capability set is the bounding set of every process in it.
    When a program whose file capabilities have the effective bit set is
    executed and the bounding set does not hold all of its permitted
    capabilities, the kernel refuses the `execve` with `EPERM` (the "safety
    check for capability-dumb binaries" in capabilities(7)). So the hardening
    breaks the container at run time, and the common "fix" is to drop the
    hardening altogether. Either add back exactly those capabilities, or stop
    giving the file capabilities it does not need.

    ## Example
    ```dockerfile
    FROM debian:12
    RUN apt-get install -y iputils-ping && setcap cap_net_raw+ep /usr/bin/ping
    ```
    ```yaml
    services:
      probe:
        build: .
        cap_drop: [ALL]
    ```

    ## Use instead
    ```yaml
    services:
      probe:
        build: .
        cap_drop: [ALL]
        cap_add: [NET_RAW]
    ```

    ## References
    - [capabilities(7): safety checking for capability-dumb binaries](https://man7.org/linux/man-pages/man7/capabilities.7.html)
    - [setcap(8)](https://man7.org/linux/man-pages/man8/setcap.8.html)
    """
    build = c.build
    if build is None or build.image is None or build.stage is None or build.unknown is not None:
        return
    if any(not loc.resolved for loc in (*c.cap_add, *c.cap_drop)):
        return
    have = effective_capabilities(c)
    drops_all = next((loc for loc in c.cap_drop if loc.resolved and caps.normalize(loc.value) == caps.ALL), None)
    from caplint import filecaps  # images built here only: a Compose file of pulled images does not load it

    for path, carried in sorted(filecaps.image_files(build.image, build.stage).items()):
        missing = sorted(carried.capabilities - have)
        if not carried.effective or not missing:
            continue
        where = carried.written.span
        at = drops_all.span if drops_all is not None else c.span
        yield Hit(at, f"{c.name} lacks {', '.join(missing)}, which {path} is given by setcap "
                      f"({where.path}:{where.line}): running it fails with EPERM; add {', '.join(missing)} back "
                      "or stop giving the file that capability",
                  advice=f"keep {advice.spelled(c, f'cap_add: [{advice.quoted(missing)}]', ' '.join(f'--cap-add={m}' for m in missing))} "
                         f"beside the drop, or remove `setcap` for {path} at {where.path}:{where.line} if the file "
                         "does not need it")
