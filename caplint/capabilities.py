"""What caplint knows about Linux capabilities.

The numbers and meanings come from capabilities(7); the default sets from
Docker's and Podman's documented defaults; `effective_set` follows the rules of
Docker's TweakCapabilities (moby/oci/caps) so caplint computes what a container
really ends up with, not just what its file says.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from caplint.values import value


class Tier(enum.Enum):
    DEFAULT = "default"  # granted by Docker unless dropped
    ELEVATED = "elevated"  # outside the default set, not a direct host takeover
    CRITICAL = "critical"  # a known path to host takeover or full data access


@value
class Capability:
    name: str  # without the CAP_ prefix
    number: int
    tier: Tier
    grants: str  # what it lets an attacker do, one sentence


_D, _E, _C = Tier.DEFAULT, Tier.ELEVATED, Tier.CRITICAL

CAPABILITIES: dict[str, Capability] = {
    c.name: c
    for c in (
        Capability("CHOWN", 0, _D, "change the owner of any file"),
        Capability("DAC_OVERRIDE", 1, _D, "read, write and execute any file regardless of its permissions"),
        Capability("DAC_READ_SEARCH", 2, _C,
                   "read any file and open files by handle (open_by_handle_at), the call the 'shocker' exploit used to read host files"),
        Capability("FOWNER", 3, _D, "bypass ownership checks on files, e.g. chmod any file"),
        Capability("FSETID", 4, _D, "keep setuid/setgid bits when modifying files"),
        Capability("KILL", 5, _D, "send signals to processes of any user"),
        Capability("SETGID", 6, _D, "switch to any group id"),
        Capability("SETUID", 7, _D, "switch to any user id"),
        Capability("SETPCAP", 8, _D, "change the capability bounding set and grant capabilities to itself"),
        Capability("LINUX_IMMUTABLE", 9, _E, "set or clear the immutable and append-only file flags, hiding tampering"),
        Capability("NET_BIND_SERVICE", 10, _D, "bind to ports below 1024"),
        Capability("NET_BROADCAST", 11, _E, "send broadcasts and listen to multicast"),
        Capability("NET_ADMIN", 12, _E,
                   "reconfigure interfaces, routes and firewall rules, sniff or redirect other traffic in the network namespace"),
        Capability("NET_RAW", 13, _D, "craft raw packets, enabling ARP and DNS spoofing on the container network"),
        Capability("IPC_LOCK", 14, _E, "lock memory, which can exhaust host RAM"),
        Capability("IPC_OWNER", 15, _E, "bypass permission checks on System V IPC objects"),
        Capability("SYS_MODULE", 16, _C, "load kernel modules, i.e. run arbitrary code in the host kernel"),
        Capability("SYS_RAWIO", 17, _C, "perform raw I/O on ports and devices (iopl, /dev/mem), reading or writing host memory"),
        Capability("SYS_CHROOT", 18, _D, "use chroot"),
        Capability("SYS_PTRACE", 19, _C,
                   "trace and inject code into other processes, and read their memory and secrets"),
        Capability("SYS_PACCT", 20, _E, "turn process accounting on or off"),
        Capability("SYS_ADMIN", 21, _C,
                   "mount filesystems, use cgroups release_agent and many other admin calls: the classic container escape"),
        Capability("SYS_BOOT", 22, _E, "reboot the host or load a new kernel with kexec"),
        Capability("SYS_NICE", 23, _E, "raise process priority and change scheduling, starving other workloads"),
        Capability("SYS_RESOURCE", 24, _E, "override resource limits and quotas"),
        Capability("SYS_TIME", 25, _E, "set the host's system clock, which is not namespaced"),
        Capability("SYS_TTY_CONFIG", 26, _E, "configure and hang up terminals"),
        Capability("MKNOD", 27, _D, "create device files"),
        Capability("LEASE", 28, _E, "take leases on files it does not own"),
        Capability("AUDIT_WRITE", 29, _D, "write records to the kernel audit log"),
        Capability("AUDIT_CONTROL", 30, _E, "change or disable kernel auditing"),
        Capability("SETFCAP", 31, _D, "set file capabilities on any file"),
        Capability("MAC_OVERRIDE", 32, _C, "override mandatory access control (SELinux, Smack)"),
        Capability("MAC_ADMIN", 33, _C, "change or disable the mandatory access control policy (AppArmor, SELinux)"),
        Capability("SYSLOG", 34, _E, "read and clear the kernel log, which leaks kernel addresses"),
        Capability("WAKE_ALARM", 35, _E, "set alarms that wake the system"),
        Capability("BLOCK_SUSPEND", 36, _E, "prevent the system from suspending"),
        Capability("AUDIT_READ", 37, _E, "read the kernel audit log of the whole host"),
        Capability("PERFMON", 38, _E, "use perf and other performance monitoring, which can leak kernel and process data"),
        Capability("BPF", 39, _C, "load BPF programs and maps, which can read kernel memory and hide activity"),
        Capability("CHECKPOINT_RESTORE", 40, _E, "checkpoint and restore processes, including other users'"),
    )
}

ALL_CAPABILITIES: frozenset[str] = frozenset(CAPABILITIES)

DOCKER_DEFAULTS: frozenset[str] = frozenset(
    {
        "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID",
        "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
    }
)
# Podman 4 and later leave NET_RAW, MKNOD and AUDIT_WRITE out of its defaults.
PODMAN_DEFAULTS: frozenset[str] = DOCKER_DEFAULTS - {"NET_RAW", "MKNOD", "AUDIT_WRITE"}

# nerdctl follows Docker's defaults (it uses containerd's default spec).
_DEFAULTS = {"docker": DOCKER_DEFAULTS, "podman": PODMAN_DEFAULTS, "nerdctl": DOCKER_DEFAULTS}

ALL = "ALL"


def defaults_for(runtime: str) -> frozenset[str]:
    return _DEFAULTS.get(runtime, DOCKER_DEFAULTS)


def normalize(name: str) -> str | None:
    """The canonical name (`SYS_ADMIN`, or `ALL`), or None if it is not a capability.

    Docker accepts any case and an optional `CAP_` prefix, but `CAP_ALL` is
    rejected: `ALL` is only special without the prefix.
    """
    upper = name.strip().upper()
    if upper == ALL:
        return ALL
    bare = upper[4:] if upper.startswith("CAP_") else upper
    return bare if bare in CAPABILITIES else None


def suggest(name: str) -> str | None:
    """The closest real capability name for a typo, if one is close enough."""
    upper = name.strip().upper()
    if upper == "CAP_ALL":
        return ALL
    bare = upper[4:] if upper.startswith("CAP_") else upper
    import difflib  # only a misspelt name needs it; not imported on every run

    matches = difflib.get_close_matches(bare, sorted(CAPABILITIES), n=1, cutoff=0.75)
    return matches[0] if matches else None


def describe(name: str) -> str:
    """`SYS_ADMIN (mount filesystems, …)` for messages."""
    cap = CAPABILITIES.get(name)
    return f"{name} ({cap.grants})" if cap else name


def effective_set(
    adds: Iterable[str], drops: Iterable[str], *, privileged: bool = False, runtime: str = "docker"
) -> frozenset[str]:
    """The capabilities a container ends up with, from normalised names.

    Mirrors TweakCapabilities: privileged → everything; `ALL` in adds →
    everything but the drops; `ALL` in drops → only the adds; otherwise the
    runtime's defaults minus drops plus adds.
    """
    if privileged:
        return ALL_CAPABILITIES
    add_set = frozenset(adds)
    drop_set = frozenset(drops)
    if ALL in add_set:
        return ALL_CAPABILITIES - drop_set
    if ALL in drop_set:
        return add_set - {ALL}
    return (defaults_for(runtime) - drop_set) | add_set
