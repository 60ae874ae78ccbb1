"""Host namespaces shared with a container."""
from __future__ import annotations

from collections.abc import Iterator

from caplint import advice
from caplint.model import Container, Hit, Located, Severity
from caplint.rules import rule


def _shares_host(c: Container, setting: Located[str] | None, what: str, key: str, flag: str, then: str,
                 instead: str | None = None) -> Iterator[Hit]:
    """`then` says what to write instead, after the removal; `instead` is the
    value that can replace `host` as it stands."""
    if setting is not None and setting.resolved and setting.value.strip().lower() == "host":
        # Unsafe: the container stops sharing the host's namespace, which it may rely on.
        edit = advice.replace_value(setting, instead, f"use {instead}", safe=False) if instead else None
        yield Hit(setting.span, f"{c.name} shares the host's {what}", edit,
                  f"{advice.remove_value(c, key, flag, setting)}; {then}")


@rule("CAP305", "host-pid", Severity.HIGH, (Container,))
def host_pid(c: Container) -> Iterator[Hit]:
    """
    A container shares the host's process namespace.

    ## What it does
    Flags `pid: host` and `--pid=host`.

    ## Why is this bad?
    The container sees every process on the host, their command lines and
    environment variables (secrets), and — as root, or with `SYS_PTRACE` — can
    signal or trace them. `nsenter -t 1 -m -u -n -i sh` from such a container is a
    root shell on the host when it also has the capabilities.

    ## Example
    ```yaml
    services:
      debug:
        image: busybox
        pid: host
    ```

    ## Use instead
    Remove `pid: host`. To share processes with one other container only, use
    `pid: "service:app"` (Compose) or `--pid=container:app`.

    ## References
    - [Docker run: PID settings](https://docs.docker.com/engine/containers/run/#pid-settings---pid)
    """
    yield from _shares_host(c, c.pid, "process namespace (pid: host): it can see and signal every host process", "pid", "--pid",
                            "to share processes with one other container only, write "
                            + advice.spelled(c, 'pid: "service:NAME"', "--pid=container:NAME"))


@rule("CAP306", "host-network", Severity.MEDIUM, (Container,))
def host_network(c: Container) -> Iterator[Hit]:
    """
    A container shares the host's network namespace.

    ## What it does
    Flags `network_mode: host` and `--network host` / `--net=host`.

    ## Why is this bad?
    The container can bind any host port, reach services listening only on the
    host's `localhost` (databases, the kubelet, cloud metadata proxies, an
    unauthenticated Docker API on 127.0.0.1:2375), and — with `NET_RAW` or
    `NET_ADMIN` — sniff or change the host's traffic. Network isolation and
    published-port control are gone.

    ## Example
    ```yaml
    services:
      proxy:
        image: traefik
        network_mode: host
    ```

    ## Use instead
    Publish just the ports needed:
    ```yaml
    services:
      proxy:
        image: traefik
        ports: ["80:80", "443:443"]
    ```

    ## References
    - [Docker: host network driver](https://docs.docker.com/engine/network/drivers/host/)
    """
    yield from _shares_host(c, c.network, "network namespace: it can reach services bound to the host's localhost",
                            "network_mode", "--network",
                            "publish just the ports it serves instead, with "
                            + advice.spelled(c, 'ports: ["HOST:CONTAINER", …]', "-p HOST:CONTAINER"))


@rule("CAP307", "host-ipc", Severity.MEDIUM, (Container,))
def host_ipc(c: Container) -> Iterator[Hit]:
    """
    A container shares the host's IPC namespace.

    ## What it does
    Flags `ipc: host` and `--ipc=host`.

    ## Why is this bad?
    The container can read and write the host's System V shared memory, semaphores
    and message queues and `/dev/shm`, where databases and other processes keep
    data (and sometimes credentials).

    ## Example
    ```shell
    docker run --ipc=host trainer
    ```

    ## Use instead
    Use `--ipc=shareable` on one container and `--ipc=container:NAME` on the
    others that must share memory, or raise `--shm-size`.

    ## References
    - [Docker run: IPC settings](https://docs.docker.com/engine/containers/run/#ipc-settings---ipc)
    """
    yield from _shares_host(c, c.ipc, "IPC namespace: it can read and write host shared memory", "ipc", "--ipc",
                            "to share memory with another container write "
                            + advice.spelled(c, 'ipc: shareable on one and ipc: "service:NAME" on the other',
                                             "--ipc=shareable on one and --ipc=container:NAME on the other"))


@rule("CAP308", "host-userns", Severity.HIGH, (Container,))
def host_userns(c: Container) -> Iterator[Hit]:
    """
    A container opts out of user-namespace remapping.

    ## What it does
    Flags `userns_mode: host` and `--userns=host`.

    ## Why is this bad?
    On a daemon with `userns-remap` (or rootless Podman), root in a container is an
    unprivileged user on the host, which defuses most escapes. `userns=host` turns
    that off for this container: its root is the host's root again.

    ## Example
    ```yaml
    services:
      backup:
        image: restic
        userns_mode: host
    ```

    ## Use instead
    Remove the setting and give the remapped user access to the files it needs.

    ## References
    - [Docker: isolate containers with a user namespace](https://docs.docker.com/engine/security/userns-remap/)
    """
    yield from _shares_host(c, c.userns, "user namespace: root in the container is root on the host", "userns_mode", "--userns",
                            "give the remapped user access to the files it needs instead")


@rule("CAP309", "host-uts", Severity.LOW, (Container,))
def host_uts(c: Container) -> Iterator[Hit]:
    """
    A container shares the host's UTS namespace.

    ## What it does
    Flags `uts: host` and `--uts=host`.

    ## Why is this bad?
    The container sees the host's hostname and NIS domain and, with `SYS_ADMIN`,
    can change them for the whole host. A small leak on its own, and usually a
    sign of a container that is meant to behave like the host.

    ## Example
    ```shell
    docker run --uts=host agent
    ```

    ## Use instead
    Pass the hostname the workload needs with `--hostname` or an environment
    variable.

    ## References
    - [Docker run: UTS settings](https://docs.docker.com/engine/containers/run/#uts-settings---uts)
    """
    yield from _shares_host(c, c.uts, "UTS namespace (hostname and domain name)", "uts", "--uts",
                            "set the name it needs with " + advice.spelled(c, "hostname: NAME", "--hostname=NAME"))


@rule("CAP310", "host-cgroupns", Severity.MEDIUM, (Container,))
def host_cgroupns(c: Container) -> Iterator[Hit]:
    """
    A container shares the host's cgroup namespace.

    ## What it does
    Flags `cgroup: host` and `--cgroupns=host`.

    ## Why is this bad?
    The container sees the host's whole cgroup hierarchy under `/sys/fs/cgroup`:
    the names and resource settings of every other container and service. Combined
    with a writable cgroup mount or `SYS_ADMIN` it is a step towards the
    `release_agent` escape.

    ## Example
    ```yaml
    services:
      systemd:
        image: jrei/systemd-ubuntu
        cgroup: host
    ```

    ## Use instead
    Use the private cgroup namespace (the default on cgroup v2): `cgroup: private`.

    ## References
    - [Docker run: --cgroupns](https://docs.docker.com/reference/cli/docker/container/run/#cgroupns)
    """
    yield from _shares_host(c, c.cgroupns, "cgroup namespace: it sees every host cgroup", "cgroup", "--cgroupns",
                            "write " + advice.spelled(c, "cgroup: private", "--cgroupns=private") + " (the default on cgroup v2)",
                            instead="private")
