"""Host devices given to a container."""
from __future__ import annotations

from collections.abc import Iterator

from caplint import advice, hostpaths
from caplint.model import Container, Hit, Located, Severity
from caplint.rules import rule


@rule("CAP314", "dangerous-device", Severity.HIGH, (Container,))
def dangerous_device(c: Container) -> Iterator[Hit]:
    """
    A container gets a device that reaches host memory, disks or the kernel.

    ## What it does
    Flags `devices` / `--device` entries whose host side is `/dev/mem`,
    `/dev/kmem`, `/dev/port`, `/dev/kmsg`, the whole `/dev`, or a block device
    (`/dev/sd*`, `/dev/hd*`, `/dev/vd*`, `/dev/xvd*`, `/dev/nvme*`,
    `/dev/mmcblk*`, `/dev/md*`, `/dev/dm-*`, `/dev/loop*`, `/dev/nbd*`,
    `/dev/sr*`, `/dev/disk/…`, `/dev/mapper/…`, `/dev/raw/…`) — judged by the host
    side of `HOST:CONTAINER`. Also flags `device_cgroup_rules` /
    `--device-cgroup-rule` entries that allow all devices (`a *:* rwm`), any
    block device, every character device (`c *:* rwm`) or the memory devices.

    ## Why is this bad?
    With a host disk, the container can mount it and read or rewrite any host file
    — `/etc/shadow`, root's SSH keys, the Docker data directory — bypassing every
    permission. `/dev/mem` and `/dev/port` reach physical memory and I/O ports.
    A wildcard cgroup rule lets the container `mknod` any of these itself.

    ## Example
    ```yaml
    services:
      backup:
        image: backup
        devices: ["/dev/sda:/dev/sda"]
    ```

    ## Use instead
    Mount the specific host folder the workload needs instead of the disk, or give
    it a dedicated volume:
    ```yaml
    services:
      backup:
        image: backup
        volumes: ["/srv/data:/data:ro"]
    ```

    ## References
    - [Docker run: --device](https://docs.docker.com/reference/cli/docker/container/run/#device)
    - [Linux: device cgroup rules](https://docs.kernel.org/admin-guide/cgroup-v1/devices.html)
    """
    for dev in c.devices:
        why = hostpaths.dangerous_device(dev.host.value) if dev.host.resolved else None
        if why:
            yield Hit(dev.host.span, f"{c.name} gets device {dev.host.shown}: {why}",
                      advice=advice.at(c, dev.host, f"remove the device {advice.as_written(dev.host)}; bind the host folder the "
                                                    "workload needs instead of a disk, or give it a volume"))
    for cg in c.device_cgroup_rules:
        why = hostpaths.dangerous_cgroup_rule(cg.value) if cg.resolved else None
        if why:
            yield Hit(cg.span, f"{c.name} allows device cgroup rule {cg.shown}: {why}",
                      advice=advice.at(c, cg, f"narrow {advice.as_written(cg)} to the one device it needs, by type and "
                                              "major:minor number (`c 10:200 rwm` is /dev/net/tun)"))


@rule("CAP315", "device-access", Severity.LOW, (Container,))
def device_access(c: Container) -> Iterator[Hit]:
    """
    A container gets direct access to a host device.

    ## What it does
    Reports every other device mapping (`/dev/dri`, `/dev/net/tun`, `/dev/fuse`,
    `/dev/ttyUSB0`, GPUs, …) and narrow device cgroup rules, so a reviewer sees
    them. These are usually intended; [CAP314](CAP314.md) covers the ones that
    reach host disks or memory.

    ## Why is this bad?
    A device node is a direct line into a host kernel driver, which is a larger
    attack surface than system calls filtered by seccomp. `/dev/fuse` and
    `/dev/net/tun` are also building blocks of well-known escapes when combined
    with extra capabilities.

    ## Example
    ```yaml
    services:
      jellyfin:
        image: jellyfin/jellyfin
        devices: ["/dev/dri:/dev/dri"]
    ```

    ## Use instead
    Keep the mapping if the workload needs it, give only the single device node
    (`/dev/dri/renderD128`, not `/dev/dri`), and suppress this finding with a
    reason:
    ```yaml
        devices:
          - /dev/dri/renderD128:/dev/dri/renderD128  # caplint: ignore[CAP315] hardware transcoding
    ```

    ## References
    - [Docker run: --device](https://docs.docker.com/reference/cli/docker/container/run/#device)
    """
    for dev in c.devices:
        if not dev.host.resolved or hostpaths.dangerous_device(dev.host.value) is None:
            yield Hit(dev.host.span, f"{c.name} gets host device {dev.host.shown}", advice=_accept_device(c, dev.host))
    for cg in c.device_cgroup_rules:
        if not cg.resolved or hostpaths.dangerous_cgroup_rule(cg.value) is None:
            yield Hit(cg.span, f"{c.name} allows device cgroup rule {cg.shown}", advice=_accept_device(c, cg))


def _accept_device(c: Container, loc: Located[str]) -> str:
    """CAP315: keep it if intended, and say so where it is written."""
    return advice.at(c, loc, f"keep {advice.as_written(loc)} only if the workload needs it (a single device node rather "
                             "than a folder of them) and record why on its line: `# caplint: ignore[CAP315] <reason>`")
