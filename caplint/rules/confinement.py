"""Kernel confinement switched off: seccomp, AppArmor, SELinux, masked paths, no-new-privileges."""
from __future__ import annotations

from collections.abc import Iterator

from caplint import advice
from caplint.model import Container, Fix, Hit, Located, Remedy, Severity
from caplint.rules import rule


def security_options(c: Container) -> Iterator[tuple[Located[str], str, str]]:
    """(option, key, value) for each resolved `security_opt`.

    Docker accepts both `key=value` and the legacy `key:value`; a bare key (as
    `no-new-privileges`) has an empty value.
    """
    for opt in c.security_opt:
        if not opt.resolved:
            continue
        text = opt.value.strip()
        cut = min((i for i in (text.find("="), text.find(":")) if i >= 0), default=-1)
        if cut < 0:
            yield opt, text.lower(), ""
        else:
            yield opt, text[:cut].strip().lower(), text[cut + 1:].strip()


def _option_rule(c: Container, key: str, bad_value: str, what: str, instead: str) -> Iterator[Hit]:
    for opt, k, v in security_options(c):
        if k == key and v.lower() == bad_value:
            yield Hit(opt.span, f"{c.name} sets {opt.shown}: {what}", advice=_remove_option(c, opt, instead))


def _remove_option(c: Container, opt: Located[str], then: str) -> str:
    removal = advice.remove_from_list(c, "security_opt", "--security-opt", opt)
    return f"{removal}; {then}" if then else removal


@rule("CAP301", "seccomp-disabled", Severity.HIGH, (Container,))
def seccomp_disabled(c: Container) -> Iterator[Hit]:
    """
    A container runs without a seccomp filter.

    ## What it does
    Flags `seccomp=unconfined` and `seccomp:unconfined` in `security_opt` /
    `--security-opt`.

    ## Why is this bad?
    Docker's default seccomp profile blocks about 50 system calls that containers
    do not need and that kernel exploits do: `keyctl`, `bpf`, `userfaultfd`,
    `unshare`, `mount`, `kexec_load`, `open_by_handle_at`, … Without it, every
    kernel bug reachable through those calls is reachable from the container.

    ## Example
    ```yaml
    services:
      chrome:
        image: browserless/chrome
        security_opt: ["seccomp=unconfined"]
    ```

    ## Use instead
    Keep the default profile, or write a custom profile that allows just the extra
    calls the workload needs:
    ```yaml
    services:
      chrome:
        image: browserless/chrome
        security_opt: ["seccomp=./chrome-seccomp.json"]
    ```

    ## References
    - [Docker: seccomp security profiles](https://docs.docker.com/engine/security/seccomp/)
    """
    yield from _option_rule(c, "seccomp", "unconfined", "every system call is allowed, including the ones kernel exploits use",
                            "Docker's default profile then applies. If the workload needs a call it blocks, allow just that "
                            "call in a profile of your own, written in its place: "
                            + advice.spelled(c, '"seccomp=./seccomp.json"', "--security-opt seccomp=./seccomp.json"))


@rule("CAP302", "apparmor-disabled", Severity.HIGH, (Container,))
def apparmor_disabled(c: Container) -> Iterator[Hit]:
    """
    A container runs without an AppArmor profile.

    ## What it does
    Flags `apparmor=unconfined` and `apparmor:unconfined`.

    ## Why is this bad?
    Docker's default AppArmor profile (`docker-default`) denies writes to `/proc`
    and `/sys` files that control the host, and `mount`. Several escapes — writing
    `/proc/sys/kernel/core_pattern` or a cgroup `release_agent` — are stopped by
    it even when a capability slipped through.

    ## Example
    ```shell
    docker run --security-opt apparmor=unconfined app
    ```

    ## Use instead
    Keep the default profile or load a custom one:
    ```shell
    docker run --security-opt apparmor=app-profile app
    ```

    ## References
    - [Docker: AppArmor security profiles](https://docs.docker.com/engine/security/apparmor/)
    """
    yield from _option_rule(c, "apparmor", "unconfined", "the AppArmor profile that blocks writes to host /proc and /sys is off",
                            "the docker-default profile then applies; a workload that needs more gets a profile of its own, "
                            "loaded on the host and written in its place: "
                            + advice.spelled(c, '"apparmor=PROFILE"', "--security-opt apparmor=PROFILE"))


@rule("CAP303", "selinux-disabled", Severity.HIGH, (Container,))
def selinux_disabled(c: Container) -> Iterator[Hit]:
    """
    A container runs without SELinux separation.

    ## What it does
    Flags `label=disable` and `label:disable` (Docker and Podman).

    ## Why is this bad?
    On SELinux hosts (Fedora, RHEL, CentOS) every container runs in its own
    `container_t` domain with its own category pair, which keeps it off host files
    and other containers' files even when it runs as root. `label=disable` runs it
    as `spc_t`, an unconfined super-privileged container.

    ## Example
    ```shell
    podman run --security-opt label=disable -v /srv:/srv app
    ```

    ## Use instead
    Relabel the volume for the container instead:
    ```shell
    podman run -v /srv:/srv:Z app
    ```

    ## References
    - [Podman run: --security-opt](https://docs.podman.io/en/latest/markdown/podman-run.1.html#security-opt-option)
    - [Docker: security_opt](https://docs.docker.com/reference/cli/docker/container/run/#security-opt)
    """
    yield from _option_rule(c, "label", "disable", "SELinux separation is off and the container runs as spc_t",
                            _relabel(c))


@rule("CAP304", "missing-no-new-privileges", Severity.LOW, (Container,))
def missing_no_new_privileges(c: Container) -> Iterator[Hit]:
    """
    A container lets its processes gain privileges through setuid binaries.

    ## What it does
    Flags a container (a Compose service, a `docker run`/`create`) without
    `no-new-privileges` in any of its spellings (`no-new-privileges`,
    `no-new-privileges:true`, `no-new-privileges=true`), or with it set to
    `false`. Not reported for privileged containers ([CAP101](CAP101.md)), nor
    when `security_opt` depends on an unset variable.

    ## Why is this bad?
    Without it, a process running as an unprivileged user can still become root
    through a setuid binary (`su`, `sudo`, `passwd`, or one an attacker planted) or
    gain file capabilities. `no-new-privileges` makes `execve` never grant more
    than the caller had.

    ## Example
    ```yaml
    services:
      api:
        image: api
        user: "1000"
    ```

    ## Use instead
    ```yaml
    services:
      api:
        image: api
        user: "1000"
        security_opt: ["no-new-privileges:true"]
    ```

    ## References
    - [Linux kernel: no_new_privs](https://docs.kernel.org/userspace-api/no_new_privs.html)
    - [Docker run: --security-opt](https://docs.docker.com/reference/cli/docker/container/run/#security-opt)
    """
    if not c.complete or (c.privileged is not None and c.privileged.value):
        return
    if any(not opt.resolved for opt in c.security_opt):
        return
    for opt, key, value in security_options(c):
        if key == "no-new-privileges":
            if value.lower() in ("", "true", "1"):
                return
            yield Hit(opt.span, f"{c.name} sets {opt.shown}: setuid binaries can still raise privileges",
                      _to_true(opt), advice.at(c, opt, f"write {_true_spelling(opt)} instead of {advice.as_written(opt)}"))
            return
    yield Hit(c.span, f"{c.name} does not set no-new-privileges: setuid binaries can raise privileges",
              advice=advice.add_security_opt(c, "no-new-privileges:true", "no-new-privileges"),
              remedy=Remedy("set no-new-privileges", safe=False, security_opt="no-new-privileges"))


@rule("CAP311", "unmasked-system-paths", Severity.HIGH, (Container,))
def unmasked_system_paths(c: Container) -> Iterator[Hit]:
    """
    A container sees the /proc and /sys paths the runtime normally masks.

    ## What it does
    Flags `systempaths=unconfined` (Docker) and Podman's `unmask=ALL` or
    `unmask=` of a `/proc` or `/sys` path.

    ## Why is this bad?
    Runtimes mask `/proc/kcore`, `/proc/keys`, `/proc/timer_list`,
    `/sys/firmware` and others, and make `/proc/sys`, `/proc/sysrq-trigger` and
    `/proc/irq` read-only. Unmasked, a container can read host kernel memory
    through `/proc/kcore`, trigger host reboots via `sysrq-trigger`, and change
    host-wide kernel settings.

    ## Example
    ```shell
    docker run --security-opt systempaths=unconfined builder
    ```

    ## Use instead
    Remove the option; if a nested runtime needs it, run that workload in a VM.

    ## References
    - [Docker run: --security-opt systempaths](https://docs.docker.com/reference/cli/docker/container/run/#security-opt)
    - [Podman run: --security-opt unmask](https://docs.podman.io/en/latest/markdown/podman-run.1.html#security-opt-option)
    """
    yield from _option_rule(c, "systempaths", "unconfined", "/proc and /sys paths that expose the host kernel are unmasked",
                            "a nested runtime that needs it belongs in a VM")
    for opt, key, value in security_options(c):
        if key == "unmask" and (value.upper() == "ALL" or value.startswith(("/proc", "/sys"))):
            yield Hit(opt.span, f"{c.name} sets {opt.shown}: masked /proc and /sys paths become visible",
                      advice=_remove_option(c, opt, "the runtime then masks those paths again"))


def _relabel(c: Container) -> str:
    """CAP303: label the bind mounts for the container instead."""
    binds = [m for m in c.mounts if m.kind == "bind" and m.source is not None and m.target]
    if not binds:
        return "SELinux then confines the container in its own container_t domain"
    mount = binds[0]
    assert mount.source is not None
    suffix = ",Z" if mount.read_only else ":Z"
    example = f"{advice.as_written(mount.source)}:{mount.target}{':ro' if mount.read_only else ''}{suffix}"
    return f"give its bind mounts a private label instead, such as {advice.spelled(c, example, f'-v {example}')}"


def _true_spelling(opt: Located[str]) -> str:
    """`no-new-privileges:false` → `no-new-privileges:true`, keeping the separator."""
    text = opt.value.strip()
    sep = next((ch for ch in text if ch in "=:"), ":")
    return f"{text.split(sep, 1)[0]}{sep}true"


def _to_true(opt: Located[str]) -> Fix | None:
    """The exact edit for CAP304's explicit false."""
    # Unsafe (ruff's sense): setuid programs the container runs stop gaining privileges.
    return advice.replace_value(opt, _true_spelling(opt), f"set {_true_spelling(opt)}", safe=False)
