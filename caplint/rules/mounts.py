"""Host paths mounted into a container."""
from __future__ import annotations

from collections.abc import Iterator

from caplint import advice, hostpaths
from caplint.model import Container, Hit, Located, Mount, Severity
from caplint.rules import rule


def _binds(c: Container) -> Iterator[tuple[Mount, Located[str]]]:
    """Bind mounts with their host side; anonymous and named volumes are not host paths."""
    for m in c.mounts:
        if m.kind == "bind" and m.source is not None:
            yield m, m.source


@rule("CAP312", "runtime-socket-mount", Severity.CRITICAL, (Container,))
def runtime_socket_mount(c: Container) -> Iterator[Hit]:
    """
    A container runtime's API socket is mounted into a container.

    ## What it does
    Flags bind mounts whose host side is `docker.sock`, `containerd.sock`,
    `crio.sock`, `podman.sock` (and cri-dockerd, BuildKit), or a folder that holds
    one (`/run`, `/var/run`, `/run/containerd`, `/run/podman`, …), in short or long
    syntax, `-v` or `--mount`. Read-only does not help. A single-path entry
    (`- /var/run/docker.sock`) is an anonymous volume, not a bind, and is not
    reported.

    ## Why is this bad?
    The socket is the runtime's full API. Anything that can write to it can run
    `docker run --privileged -v /:/host` and own the host — read-only mounts only
    stop file writes, not API calls over the socket. A compromised CI job, web UI
    or monitoring agent with the socket is root on the host.

    ## Example
    ```yaml
    services:
      portainer:
        image: portainer/portainer-ce
        volumes:
          - /var/run/docker.sock:/var/run/docker.sock:ro
    ```

    ## Use instead
    Give the tool a filtering proxy that allows only the calls it needs (for
    example a socket proxy that permits read-only `GET /containers`), or run it
    rootless against a rootless daemon:
    ```yaml
    services:
      portainer:
        image: portainer/portainer-ce
        environment: [DOCKER_HOST=tcp://socket-proxy:2375]
    ```

    ## References
    - [Docker: daemon attack surface](https://docs.docker.com/engine/security/#docker-daemon-attack-surface)
    - [OWASP Docker Security Cheat Sheet, rule 1](https://cheatsheetseries.owasp.org/cheatsheets/Docker_Security_Cheat_Sheet.html)
    """
    for m, host in _binds(c):
        why = hostpaths.runtime_socket(host.value)
        if why:
            ro = " (read-only does not help: the API still answers)" if m.read_only else ""
            yield Hit(host.span, f"{c.name} mounts {host.shown}, {why}: full control of the host{ro}",
                      advice=_without_socket(c, host))


@rule("CAP313", "sensitive-host-mount", Severity.HIGH, (Container,))
def sensitive_host_mount(c: Container) -> Iterator[Hit]:
    """
    A sensitive host path is mounted into a container.

    ## What it does
    Flags bind mounts of `/`, `/etc`, `/proc`, `/sys`, `/dev`, `/boot`, `/root`,
    `/home`, a user's whole home (`~`, `$HOME`, `/home/alice`), `/var/lib/docker`,
    `/var/lib/kubelet`, `/lib/modules`, and sensitive files and folders under
    them (`/etc/shadow`, `/etc/sudoers`, `/etc/ssh`, `/etc/kubernetes`, `~/.ssh`,
    `$HOME/.aws`, `~/.kube`, …) — read-only too, since reading is the leak. Files images routinely share are not reported:
    `/etc/localtime`, `/etc/timezone`, `/etc/hostname`, `/etc/machine-id`,
    `/etc/resolv.conf`, `/etc/hosts`, public CA certificates, and the
    world-readable `/etc/passwd` and `/etc/group`. The list, with the reason for
    each entry, lives in `caplint/hostpaths.py`.

    ## Why is this bad?
    A writable `/` or `/etc` lets the container add a root user, a cron job or an
    SSH key on the host; `/proc` and `/sys` expose kernel controls
    (`/proc/sys/kernel/core_pattern` runs a host program as root);
    `/var/lib/docker` holds every other container's files. Read-only mounts still
    leak password hashes, private keys and cloud credentials.

    ## Example
    ```yaml
    services:
      node-exporter:
        image: prom/node-exporter
        volumes:
          - /:/host:ro
    ```

    ## Use instead
    Mount only the specific, non-secret paths the workload reads:
    ```yaml
    services:
      node-exporter:
        image: prom/node-exporter
        volumes:
          - /proc/loadavg:/host/proc/loadavg:ro
    ```
    If a monitoring agent truly needs the host root, accept this finding with an
    inline suppression that says why.

    ## References
    - [Docker: bind mounts](https://docs.docker.com/engine/storage/bind-mounts/)
    - [CIS Docker Benchmark 5.5: do not mount sensitive host system directories](https://www.cisecurity.org/benchmark/docker)
    """
    for m, host in _binds(c):
        if hostpaths.runtime_socket(host.value):
            continue  # CAP312 says it, with more urgency
        why = hostpaths.sensitive_path(host.value) if host.resolved else None
        if why:
            mode = "read-only" if m.read_only else "writable"
            yield Hit(host.span, f"{c.name} mounts host {host.shown} ({mode}): {why}",
                      advice=_narrower(c, m, host))


def _without_socket(c: Container, host: Located[str]) -> str:
    """CAP312: no socket; a filtering proxy where the API is needed."""
    shown = advice.as_written(host)
    proxy = advice.spelled(c, "environment: [DOCKER_HOST=tcp://socket-proxy:2375]", "-e DOCKER_HOST=tcp://socket-proxy:2375")
    if hostpaths.runtime_socket(host.value) and not host.value.rstrip("/").endswith(".sock"):
        return advice.at(c, host, f"do not mount {shown}: bind only the folder the workload needs, one that holds no "
                                  f"runtime socket; if it needs the API, give it a proxy that allows only its calls ({proxy})")
    return advice.at(c, host, f"remove the {shown} mount; if the workload needs the API, point it at a socket proxy "
                              f"that allows only the calls it makes ({proxy})")


def _narrower(c: Container, m: Mount, host: Located[str]) -> str:
    """CAP313: the specific files, read-only; at the very least read-only."""
    shown = advice.as_written(host)
    only = f"bind only the specific, non-secret files it reads instead of {shown}"
    if m.read_only or not m.target:
        fix = f"{only}; an agent that truly needs {shown} gets an inline suppression saying why"
    else:
        entry = f"{shown}:{m.target}:ro"
        fix = f"{only}, read-only; at the very least {advice.spelled(c, f'- {entry}', f'-v {entry}')}"
    return advice.at(c, host, fix)
