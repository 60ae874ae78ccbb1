"""The docker/podman/nerdctl option tables, and the option grammar that reads them.

Which options take a value decides where the image starts, and everything after
the image is the container's own command: in `docker run -v /x:/y alpine echo
--privileged` the `--privileged` belongs to `echo`. So the tables list every
option, not just the privilege-relevant ones. Sources (facts, not guesses):
the Docker CLI reference (`docs/reference/commandline/*.md` in docker/cli:
container_run, container_create, container_exec, service_create, image_build,
docker), docker/compose `compose_run.md`, docker/buildx `buildx_build.md`, the
Podman man pages (podman-run, podman-create, podman-exec, podman) and the
nerdctl command reference.

The grammar is pflag's (Docker, Podman and nerdctl all use cobra/pflag):
`--flag=value` and `--flag value`; boolean flags take no separate value but
accept `--flag=false`; short flags combine (`-itd`), and in a combination the
first letter that takes a value takes the rest of the word (`-dp80:80`) or, when
it is last, the next word (`-dp 80:80`); `--` ends the options.

Unknown options are read as taking no value unless written `--opt=value`: a
guess either way can misplace the image, and a flag newer than this table is
far more often a switch than a value option. Unknown short letters likewise.
"""
from __future__ import annotations

from collections.abc import Sequence

from caplint.model import Located
from caplint.formats.words import sub
from caplint.values import value


@value
class Flag:
    long: str  # without the leading "--"
    short: str | None
    takes_value: bool
    field: str | None = None  # the Container field this option sets, for the privilege-relevant ones


class Table:
    """The options of one command, looked up by `--long` or `-s`."""

    def __init__(self, values: str, switches: str, fields: dict[str, str] | None = None) -> None:
        fields = fields or {}
        self._by_name: dict[str, Flag] = {}
        for spec, takes_value in ((values, True), (switches, False)):
            for entry in spec.split():
                short, _, long = entry.rpartition("/")
                flag = Flag(long, short or None, takes_value, fields.get(long))
                self._by_name["--" + long] = flag
                if short:
                    self._by_name["-" + short] = flag

    def get(self, name: str) -> Flag | None:
        return self._by_name.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._by_name


# Options that map onto the model; the same names mean the same in every table.
FIELDS: dict[str, str] = {
    "privileged": "privileged",
    "cap-add": "cap_add",
    "cap-drop": "cap_drop",
    "security-opt": "security_opt",
    "pid": "pid",
    "ipc": "ipc",
    "network": "network",
    "net": "network",
    "userns": "userns",
    "uts": "uts",
    "cgroupns": "cgroupns",
    "user": "user",
    "volume": "mounts",
    "mount": "mounts",
    "tmpfs": "mounts",
    "device": "devices",
    "device-cgroup-rule": "device_cgroup_rules",
    "allow": "build_entitlements",
}

# docker run / docker create (docker/cli container_run.md, container_create.md, and
# the hidden aliases --net, --net-alias, --dns-opt from cli/command/container/opts.go).
_DOCKER_RUN_VALUES = """
    add-host annotation a/attach blkio-weight blkio-weight-device cap-add cap-drop cgroup-parent cgroupns
    cidfile cpu-count cpu-percent cpu-period cpu-quota cpu-rt-period cpu-rt-runtime c/cpu-shares cpus
    cpuset-cpus cpuset-mems detach-keys device device-cgroup-rule device-read-bps device-read-iops
    device-write-bps device-write-iops dns dns-opt dns-option dns-search domainname entrypoint e/env
    env-file expose gpus group-add health-cmd health-interval health-retries health-start-interval
    health-start-period health-timeout h/hostname io-maxbandwidth io-maxiops ip ip6 ipc isolation
    kernel-memory l/label label-file link link-local-ip log-driver log-opt mac-address m/memory
    memory-reservation memory-swap memory-swappiness mount name net net-alias network network-alias
    oom-score-adj pid pids-limit platform p/publish pull restart runtime security-opt shm-size stop-signal
    stop-timeout storage-opt sysctl tmpfs ulimit u/user userns uts v/volume volume-driver volumes-from
    w/workdir
"""
_DOCKER_RUN_SWITCHES = """
    d/detach disable-content-trust help init i/interactive no-healthcheck oom-kill-disable privileged
    P/publish-all q/quiet read-only rm sig-proxy t/tty use-api-socket
"""
# What `podman run|create` adds (podman-run.1.md.in, podman-create.1.md.in).
_PODMAN_RUN_VALUES = """
    arch authfile cert-dir cgroup-conf cgroups chrootdirs conmon-pidfile creds decryption-key env-merge
    gidmap group-entry health-log-destination health-max-log-count health-max-log-size health-on-failure
    health-startup-cmd health-startup-interval health-startup-retries health-startup-success
    health-startup-timeout hosts-file hostuser image-volume init-ctr init-path os passwd-entry personality
    pidfile pod pod-id-file preserve-fd preserve-fds rdt-class requires retry retry-delay sdnotify
    seccomp-policy secret shm-size-systemd subgidname subuidname systemd timeout tz uidmap umask unsetenv
    variant
"""
_PODMAN_RUN_SWITCHES = """
    env-host http-proxy no-hostname no-hosts passwd read-only-tmpfs replace rmi rootfs tls-verify
    unsetenv-all
"""
# What `nerdctl run` adds (nerdctl docs/command-reference.md).
_NERDCTL_RUN_VALUES = """
    init-binary cosign-key cosign-certificate-identity cosign-certificate-identity-regexp
    cosign-certificate-oidc-issuer cosign-certificate-oidc-issuer-regexp ipfs-address verify
"""

RUN = Table(
    _DOCKER_RUN_VALUES + _PODMAN_RUN_VALUES + _NERDCTL_RUN_VALUES,
    _DOCKER_RUN_SWITCHES + _PODMAN_RUN_SWITCHES,
    FIELDS,
)

# docker exec (container_exec.md) and what podman exec adds (-l is --latest there).
EXEC = Table(
    "detach-keys e/env env-file u/user w/workdir cidfile preserve-fd preserve-fds",
    "d/detach i/interactive privileged t/tty l/latest no-session",
    FIELDS,
)

# docker compose run (compose_run.md); podman-compose and docker-compose v1 take the same.
COMPOSE_RUN = Table(
    "cap-add cap-drop entrypoint e/env env-from-file l/label name p/publish pull u/user v/volume w/workdir",
    "build d/detach dry-run i/interactive no-deps T/no-TTY q/quiet quiet-build quiet-pull remove-orphans "
    "rm P/service-ports use-aliases",
    FIELDS,
)
# Options of `docker compose` itself, before the `run` subcommand (compose.md).
COMPOSE_GLOBAL = Table(
    "ansi env-file f/file parallel profile progress project-directory p/project-name",
    "all-resources compatibility dry-run",
)

# docker service create (service_create.md): swarm has no --privileged, -v or
# --security-opt, but caps, mounts, user and the host network all apply.
SERVICE_CREATE = Table(
    """
    cap-add cap-drop config constraint container-label credential-spec dns dns-option dns-search
    endpoint-mode entrypoint e/env env-file generic-resource group health-cmd health-interval
    health-retries health-start-interval health-start-period health-timeout host hostname isolation
    l/label limit-cpu limit-memory limit-pids log-driver log-opt max-concurrent memory-swap
    memory-swappiness mode mount name network oom-score-adj placement-pref p/publish replicas
    replicas-max-per-node reserve-cpu reserve-memory restart-condition restart-delay
    restart-max-attempts restart-window rollback-delay rollback-failure-action
    rollback-max-failure-ratio rollback-monitor rollback-order rollback-parallelism secret
    stop-grace-period stop-signal sysctl ulimit update-delay update-failure-action
    update-max-failure-ratio update-monitor update-order update-parallelism u/user w/workdir
    """,
    "d/detach init no-healthcheck no-resolve-image q/quiet read-only t/tty with-registry-auth",
    FIELDS,
)

# docker buildx build (buildx_build.md) together with the classic builder's
# options (image_build.md), since `docker build` is either one.
BUILD = Table(
    """
    add-host allow annotation attest build-arg build-context builder cache-from cache-to call
    cgroup-parent f/file iidfile label metadata-file network no-cache-filter o/output platform policy
    progress provenance resource sbom secret shm-size ssh t/tag target ulimit cpu-period cpu-quota
    c/cpu-shares cpuset-cpus cpuset-mems isolation m/memory memory-swap security-opt
    """,
    "check D/debug load no-cache pull push q/quiet compress force-rm rm squash",
    {"allow": "build_entitlements"},
)
BUILDX_GLOBAL = Table("builder", "D/debug")

# Options of the program itself, before the subcommand (docker.md, podman.1.md,
# nerdctl "Global flags").
GLOBAL = {
    "docker": Table("config c/context H/host l/log-level tlscacert tlscert tlskey", "D/debug tls tlsverify"),
    "podman": Table(
        "cdi-spec-dir cgroup-manager config conmon c/connection events-backend hooks-dir identity imagestore "
        "log-level module network-config-dir out root runroot runtime runtime-flag ssh storage-driver "
        "storage-opt tls-ca tls-cert tls-details tls-key tmpdir url volumepath",
        "h/help r/remote syslog transient-store v/version debug noout trace",
    ),
    "nerdctl": Table(
        "a/address n/namespace H/host snapshotter storage-driver cni-path cni-netconfpath data-root "
        "cgroup-manager host-gateway-ip userns-remap hosts-dir bridge-ip",
        "debug debug-full insecure-registry selinux-enabled experimental",
    ),
}


@value
class Option:
    """One option as written: its flag word, and where its value is (if it has one)."""

    flag: Flag | None  # None for an option not in the table
    name: str  # "--cap-add", "-u"
    word: Located[str]  # the word the option name is in
    value_word: Located[str] | None = None
    value_start: int = 0  # where the value starts inside value_word.value

    @property
    def value(self) -> Located[str] | None:
        """The value, located on just its own characters."""
        if self.value_word is None:
            return None
        return sub(self.value_word, self.value_start)


def scan(words: Sequence[Located[str]], start: int, table: Table) -> tuple[list[Option], int]:
    """Read options from `words[start:]`; return them and the index of the first operand.

    The operand index is `len(words)` when there is none (e.g. the image comes from
    `xargs`).
    """
    options: list[Option] = []
    i = start
    while i < len(words):
        word = words[i]
        text = word.value
        if text == "--":
            return options, i + 1
        if not text.startswith("-") or text == "-":
            if _maybe_options(word, words, i, table):
                i += 1  # `$DOCKER_OPTS` followed by known options: it is options too
                continue
            return options, i
        i += 1
        if text.startswith("--"):
            name, eq, inline = text.partition("=")
            flag = table.get(name)
            if eq:
                options.append(Option(flag, name, word, word, len(name) + 1))
            elif flag is not None and flag.takes_value and i < len(words):
                options.append(Option(flag, name, word, words[i]))
                i += 1
            else:
                options.append(Option(flag, name, word))
            continue
        i = _short_cluster(word, words, i, table, options)
    return options, len(words)


def _short_cluster(word: Located[str], words: Sequence[Located[str]], i: int, table: Table,
                   options: list[Option]) -> int:
    """`-itd`, `-dp80:80`, `-u=root`, `-p 80:80`: pflag's shorthand rules."""
    text = word.value
    for j in range(1, len(text)):
        name = "-" + text[j]
        flag = table.get(name)
        if flag is None or not flag.takes_value:
            options.append(Option(flag, name, word))
            continue
        rest = j + 1
        if rest < len(text):
            # pflag: `-u=root` means root, `-uroot` too.
            options.append(Option(flag, name, word, word, rest + 1 if text[rest] == "=" else rest))
            return i
        if i < len(words):
            options.append(Option(flag, name, word, words[i]))
            return i + 1
        options.append(Option(flag, name, word))
        return i
    return i


def _maybe_options(word: Located[str], words: Sequence[Located[str]], i: int, table: Table) -> bool:
    """Whether an unknown word like `$EXTRA_ARGS` stands for options rather than the image.

    Bash splits an unquoted `$X` into any number of words, so it can hold
    options. It is read as options only when the next word is a known option:
    `docker run $OPTS --privileged img` keeps its `--privileged`, while
    `docker run --rm $IMAGE ./test.sh --privileged` keeps `$IMAGE` as the image.
    A backquoted word counts the same: READMEs mark options with
    `` `#optional` `` (a comment in a substitution, so nothing at all).
    """
    if word.resolved or not word.raw.startswith(("$", "`")) or i + 1 >= len(words):
        return False
    nxt = words[i + 1].value
    if nxt.startswith("--"):
        return nxt.partition("=")[0] in table
    return nxt.startswith("-") and len(nxt) > 1 and ("-" + nxt[1]) in table


def parse_bool(text: str) -> bool | None:
    """Go's strconv.ParseBool, which pflag uses for `--privileged=…`."""
    if text in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    return None
