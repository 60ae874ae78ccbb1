"""Privileged containers and privileged builds."""
from __future__ import annotations

from collections.abc import Iterator

from caplint import advice
from caplint.model import Container, Hit, Image, Severity
from caplint.rules import rule


@rule("CAP101", "privileged-container", Severity.CRITICAL, (Container,))
def privileged_container(c: Container) -> Iterator[Hit]:
    """
    A container runs in privileged mode.

    ## What it does
    Flags `privileged: true` in Compose, `--privileged` on `docker run`/`create`, and
    `docker exec --privileged`.

    ## Why is this bad?
    A privileged container gets every Linux capability, every host device under
    `/dev`, no seccomp or AppArmor/SELinux confinement, and writable `/sys` and
    `/proc`. Root in such a container is root on the host: it can mount the host's
    disk (`mount /dev/sda1 /mnt`), load kernel modules, or write a cgroup
    `release_agent` that the host kernel runs. One compromised process in it is a
    compromised host.

    ## Example
    ```yaml
    services:
      vpn:
        image: wireguard
        privileged: true
    ```

    ## Use instead
    Grant only what the workload needs, and drop the rest:
    ```yaml
    services:
      vpn:
        image: wireguard
        cap_drop: [ALL]
        cap_add: [NET_ADMIN]
        devices: ["/dev/net/tun"]
    ```

    ## References
    - [Docker: runtime privilege and Linux capabilities](https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities)
    - [capabilities(7)](https://man7.org/linux/man-pages/man7/capabilities.7.html)
    """
    if c.privileged is not None and c.privileged.value:
        yield Hit(c.privileged.span, f"{c.name} runs privileged ({c.privileged.shown}): all capabilities and host devices, no confinement",
                  advice=_unprivileged(c))


_INSECURE = "security.insecure"


@rule("CAP102", "privileged-build", Severity.HIGH, (Container, Image))
def privileged_build(subject: Container | Image) -> Iterator[Hit]:
    """
    A build step runs with privileges equivalent to a privileged container.

    ## What it does
    Flags Dockerfile `RUN --security=insecure`, Compose `build.privileged: true` and
    `build.entitlements: [security.insecure]`, and
    `docker buildx build --allow security.insecure`.

    ## Why is this bad?
    `--security=insecure` runs the step without a sandbox, like `--privileged`: the
    step's commands — including anything a compromised base image or package
    install script does — can reach the build host's devices and kernel. Build
    hosts hold registry credentials and signing keys, so they are a prize.

    ## Example
    ```dockerfile
    # syntax=docker/dockerfile:1-labs
    FROM ubuntu:24.04
    RUN --security=insecure mount -t tmpfs none /mnt
    ```

    ## Use instead
    Do the privileged work outside the build, or find an unprivileged way
    (`RUN --mount=type=tmpfs,target=/mnt`):
    ```dockerfile
    FROM ubuntu:24.04
    RUN --mount=type=tmpfs,target=/mnt do-work /mnt
    ```

    ## References
    - [Dockerfile reference: RUN --security](https://docs.docker.com/reference/dockerfile/#run---security)
    - [Compose build: privileged, entitlements](https://docs.docker.com/reference/compose-file/build/)
    """
    if isinstance(subject, Image):
        for stage in subject.stages:
            for run in stage.runs:
                for flag in run.flags:
                    name, _, value = flag.value.partition("=")
                    if name == "--security" and value == "insecure":
                        yield Hit(flag.span, f"RUN {flag.shown} runs this build step without a sandbox, like a privileged container",
                                  advice=f"remove `{flag.raw}` from this RUN; for scratch space write "
                                         "`RUN --mount=type=tmpfs,target=/mnt …`, and do work that needs real privileges "
                                         "outside the build")
        return
    if subject.build_privileged is not None and subject.build_privileged.value:
        yield Hit(subject.build_privileged.span, f"{subject.name} builds with privileged: {subject.build_privileged.shown}",
                  advice=advice.at(subject, subject.build_privileged,
                                   f"remove `privileged: {advice.as_written(subject.build_privileged)}` from its build section and do "
                                   "the privileged work outside the build"))
    for ent in subject.build_entitlements:
        if ent.resolved and ent.value == _INSECURE:
            yield Hit(ent.span, f"{subject.name} allows the {ent.shown} entitlement: build steps may run without a sandbox",
                      advice=advice.at(subject, ent, advice.spelled(
                          subject, f"remove {advice.as_written(ent)} from build.entitlements",
                          f"remove `--allow {advice.as_written(ent)}`")
                          + ", and rework the Dockerfile's `RUN --security=insecure` steps that need it"))


def _unprivileged(c: Container) -> str:
    """CAP101: what to grant instead of everything."""
    removal = advice.remove_value(c, "privileged", "--privileged", c.privileged) if c.privileged else ""
    if not c.complete:
        return f"{removal}: a command in the container rarely needs more than the container itself has"
    adds = advice.suggested_capabilities(c).cap_add or ()
    return (f"{removal} and grant only what the workload uses: {advice.cap_lists(c, adds)} "
            f"plus the capabilities and {advice.spelled(c, 'devices', '--device')} it is seen to need")
