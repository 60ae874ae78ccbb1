"""Host paths and devices that matter when they appear inside a container.

One place for every list, each entry with the reason it is on it, so a
reviewer can argue with an entry rather than with code.
"""
from __future__ import annotations

import posixpath

from caplint import lazyre

# Sockets of container runtimes: whoever can talk to one can start a
# privileged container with the host's root filesystem mounted.
RUNTIME_SOCKETS: dict[str, str] = {
    "docker.sock": "the Docker API",
    "containerd.sock": "the containerd API",
    "crio.sock": "the CRI-O API",
    "podman.sock": "the Podman API",
    "cri-dockerd.sock": "the cri-dockerd (Kubernetes CRI for Docker) API",
    "buildkitd.sock": "the BuildKit daemon",
}

# Folders that hold runtime sockets: mounting one mounts the socket too.
SOCKET_FOLDERS: dict[str, str] = {
    "/": "the host's whole filesystem, with every runtime socket below it (/run/docker.sock …)",
    "/run": "holds docker.sock, containerd and podman sockets",
    "/var/run": "holds docker.sock (a link to /run)",
    "/run/containerd": "holds containerd.sock",
    "/var/run/containerd": "holds containerd.sock",
    "/run/podman": "holds podman.sock",
    "/var/run/podman": "holds podman.sock",
    "/run/crio": "holds crio.sock",
    "/var/run/crio": "holds crio.sock",
    "/run/docker": "holds the Docker daemon's runtime state and plugin sockets",
    "/var/run/docker": "holds the Docker daemon's runtime state and plugin sockets",
}

# Host folders whose whole subtree is sensitive: anything under them leaks or
# controls the host. Reading is the leak, so read-only does not help.
SENSITIVE_TREES: dict[str, str] = {
    "/proc": "host kernel and process interfaces",
    "/sys": "host kernel, device and cgroup controls",
    "/boot": "the host's kernels and boot loader",
    "/root": "root's home: SSH keys, shell history, credentials",
    "/var/lib/docker": "every container's filesystem and volumes",
    "/var/lib/containerd": "every container's filesystem",
    "/var/lib/kubelet": "pod volumes and service-account tokens",
    "/etc/kubernetes": "cluster admin credentials and certificates",
    "/etc/docker": "Docker daemon configuration and TLS keys",
    "/etc/ssh": "host SSH keys and sshd configuration",
    "/etc/sudoers.d": "sudo rules",
    "/etc/ssl/private": "TLS private keys",
    "/etc/pki/tls/private": "TLS private keys",
}

# Folders sensitive as a whole but with routine, harmless children, so only the
# folder itself and the files in SENSITIVE_FILES count.
SENSITIVE_FOLDERS: dict[str, str] = {
    # A folder below /dev (/dev/dri, /dev/snd, /dev/bus/usb) is judged as the
    # devices it holds (CAP314/CAP315, see `dangerous_device`); /dev itself is all of them.
    "/dev": "every host device",
    "/etc": "host configuration, password hashes and credentials",
    "/home": "every user's home: SSH keys, tokens, source",
    "/var/lib": "state of every host service",
    "/usr": "host binaries, replaceable if writable",
}

# Sensitive only when writable: read-only, their files are world-readable anyway.
SENSITIVE_WHEN_WRITABLE: dict[str, str] = {
    "/lib/modules": "host kernel modules: a container can plant a module the host will load",
    "/usr/lib/modules": "host kernel modules: a container can plant a module the host will load",
}

SENSITIVE_FILES: dict[str, str] = {
    "/etc/shadow": "password hashes",
    "/etc/gshadow": "group password hashes",
    "/etc/sudoers": "sudo rules",
    "/etc/crontab": "the host's scheduled commands",
    "/etc/cron.d": "the host's scheduled commands",
    "/etc/security": "PAM and login limits",
    "/etc/pam.d": "authentication configuration",
    "/etc/systemd": "host services (a writable copy runs code as root)",
    "/etc/containerd": "containerd configuration",
    "/etc/rancher": "k3s/RKE cluster credentials",
    "/etc/passwd-": "backup of the user database",
    "/etc/shadow-": "backup of password hashes",
}

# Home-relative secrets, matched under /home/<user>, /root and `~`.
SENSITIVE_IN_HOME: dict[str, str] = {
    ".ssh": "SSH private keys",
    ".aws": "AWS credentials",
    ".kube": "Kubernetes credentials",
    ".docker": "registry credentials",
    ".gnupg": "GPG private keys",
    ".config/gcloud": "Google Cloud credentials",
    ".azure": "Azure credentials",
    ".netrc": "plain-text passwords",
    ".git-credentials": "plain-text Git tokens",
    ".bash_history": "shell history, often with secrets",
}

# Under /etc but routinely shared read-only and harmless: never reported.
HARMLESS_FILES: dict[str, str] = {
    "/etc/localtime": "the time zone",
    "/etc/timezone": "the time zone name",
    "/etc/hostname": "the host name",
    "/etc/machine-id": "a stable host id, not a secret",
    "/etc/passwd": "world-readable user names (no hashes)",
    "/etc/group": "world-readable group names",
    "/etc/resolv.conf": "DNS servers",
    "/etc/hosts": "static host names",
    "/etc/ssl/certs": "public CA certificates",
    "/etc/ca-certificates": "public CA certificates",
    "/etc/pki/ca-trust": "public CA certificates",
    "/etc/os-release": "the distribution name",
}


def normalize_host_path(path: str) -> str:
    """`/var/run/` → `/var/run`, `//etc/./shadow` → `/etc/shadow`; relative paths stay relative."""
    path = path.strip()
    if not path:
        return path
    norm = posixpath.normpath(path)
    if norm.startswith("//"):  # POSIX keeps a leading '//' – the kernel doesn't care
        norm = "/" + norm.lstrip("/")
    return norm


def runtime_socket(path: str) -> str | None:
    """Why mounting `path` exposes a container runtime API, or None."""
    norm = normalize_host_path(path)
    base = posixpath.basename(norm)
    if base in RUNTIME_SOCKETS:
        return RUNTIME_SOCKETS[base]
    if norm in SOCKET_FOLDERS:
        return SOCKET_FOLDERS[norm]
    return None


def _home_secret(rest: str) -> str | None:
    for name, why in SENSITIVE_IN_HOME.items():
        if rest == name or rest.startswith(name + "/"):
            return why
    return None


def _under(path: str, tree: str) -> bool:
    return path == tree or path.startswith(tree + "/")


def sensitive_path(path: str, *, read_only: bool = False) -> str | None:
    """Why mounting host `path` (read-only or not) is sensitive, or None when it is not."""
    norm = normalize_host_path(path)
    if norm in HARMLESS_FILES or any(norm.startswith(h + "/") for h in HARMLESS_FILES):
        return None
    for exact in (SENSITIVE_FOLDERS, SENSITIVE_FILES):
        if norm in exact:
            return exact[norm]
    for tree, why in SENSITIVE_WHEN_WRITABLE.items():
        if _under(norm, tree):
            return None if read_only else why
    for tree, why in SENSITIVE_TREES.items():
        if _under(norm, tree):
            if tree == "/root" and (secret := _home_secret(norm[len("/root/"):])):
                return secret
            return why
    if norm == "~":
        return HOME_DIRECTORY
    if norm.startswith("~/"):
        return _home_secret(norm[2:])
    parts = norm.split("/")
    if len(parts) == 3 and parts[1] == "home" and parts[2]:
        return HOME_DIRECTORY
    if len(parts) >= 4 and parts[1] == "home":
        return _home_secret("/".join(parts[3:]))
    return None


HOME_DIRECTORY = "a user's whole home: SSH keys, cloud credentials, shell history"


def home_relative(written: str) -> str | None:
    """`$HOME/.aws` or `${HOME}/.aws` as written → `~/.aws`, so a mount of the
    home is judged the same whoever runs caplint; None for anything else
    (`$HOMEDIR`, `${HOME:-/x}`, `${HOME}x`). The rest may still hold another
    expansion (`~/$PROJECT`): the caller decides what is known."""
    for prefix in ("$HOME", "${HOME}"):
        if written.startswith(prefix):
            rest = written[len(prefix):]
            return "~" + rest if rest == "" or rest.startswith("/") else None
    return None


def is_literal(path: str) -> bool:
    """No shell or Compose expansion left in it."""
    return "$" not in path and "`" not in path


# Devices by their name below /dev. Block devices give raw access to host
# disks: mount them and the host's files are yours.
_NAMED_DEVICES = {
    "": "every host device",
    "mem": "raw host memory or I/O ports", "kmem": "raw host memory or I/O ports", "port": "raw host memory or I/O ports",
    "kmsg": "the kernel log, writable",
}
_DEVICE_FOLDERS = {"disk": "host disks (block devices)", "mapper": "host disks (block devices)",
                   "raw": "host disks (block devices)"}
# Families of numbered block devices, tried only for a name that starts like one
# of them (so the common devices — kvm, fuse, net/tun, dri — compile no pattern).
_BLOCK_DEVICE_STARTS = ("sd", "hd", "vd", "xvd", "nvme", "mmcblk", "md", "dm-", "loop", "nbd", "sr")
_BLOCK_DEVICES = [
    (lazyre.compile(r"/dev/(sd|hd|vd|xvd)[a-z]+\d*$"), "a host disk (block device)"),
    (lazyre.compile(r"/dev/nvme\d+(n\d+)?(p\d+)?$"), "a host NVMe disk (block device)"),
    (lazyre.compile(r"/dev/(mmcblk\d+(p\d+)?|md\d+|dm-\d+|loop\d+|loop-control|nbd\d+|sr\d+)$"), "a host block device"),
]


def device_folder(path: str) -> bool:
    """A path strictly below /dev: a device or a folder of them, judged as devices."""
    return normalize_host_path(path).startswith("/dev/")


def dangerous_device(path: str) -> str | None:
    norm = normalize_host_path(path)
    if norm == "/dev":
        return _NAMED_DEVICES[""]
    if not norm.startswith("/dev/"):
        return None
    name = norm[len("/dev/"):]
    if name in _NAMED_DEVICES:
        return _NAMED_DEVICES[name]
    folder = name.partition("/")[0]
    if folder in _DEVICE_FOLDERS:
        return _DEVICE_FOLDERS[folder]
    if name.startswith(_BLOCK_DEVICE_STARTS):
        for pattern, why in _BLOCK_DEVICES:
            if pattern.match(norm):
                return why
    return None


# Major numbers of character devices that reach host memory (mem, kmem, port
# are major 1 minors 1, 2, 4).
_MEMORY_CHAR_DEVICES = {("1", "1"), ("1", "2"), ("1", "4")}


def dangerous_cgroup_rule(rule: str) -> str | None:
    """Why a `device_cgroup_rules` entry (`c 1:1 rwm`) opens dangerous devices."""
    parts = rule.split()
    if not parts:
        return None
    kind = parts[0]
    major, _, minor = (parts[1] if len(parts) > 1 else "*:*").partition(":")
    if kind == "a":
        return "every device, block and character"
    if kind == "b":
        return "host block devices (disks)"
    if kind == "c" and major == "*":
        return "every character device, /dev/mem and /dev/kmsg among them"
    if kind == "c" and ((major, minor) in _MEMORY_CHAR_DEVICES or (major == "1" and minor == "*")):
        return "raw host memory (/dev/mem, /dev/kmem, /dev/port)"
    return None
