"""What a Dockerfile builds into its image: file capabilities, setuid files, the runtime user."""
from __future__ import annotations

import re
from collections.abc import Iterator

from caplint import advice
from caplint import capabilities as caps
from caplint.filecaps import program_commands as _commands, setcap_grants as _setcap_grants
from caplint.model import Fix, Hit, Image, Located, Severity
from caplint.rules import rule

_OCTAL = re.compile(r"[0-7]{1,6}")
_SYMBOLIC = re.compile(r"([ugoa]*)((?:[-+=](?:[rwxXst]*|[ugo]))+)")
_OPERATION = re.compile(r"([-+=])([rwxXst]*|[ugo])")
_CHMOD_OPTIONS = re.compile(r"-[Rcfv]+|--(recursive|verbose|changes|silent|quiet|no-preserve-root|preserve-root)")


@rule("CAP207", "file-capabilities", Severity.HIGH, (Image,))
def file_capabilities(image: Image) -> Iterator[Hit]:
    """
    A Dockerfile gives a file capabilities outside the runtime's default set.

    ## What it does
    Flags `setcap` in a `RUN` instruction that grants a file a capability Docker
    does not give containers by default (`cap_net_admin+ep`, `cap_sys_ptrace=eip`,
    `all=ep`). It reads every form `cap_from_text` accepts: several capabilities
    (`cap_a,cap_b+eip`), several clauses in one argument, `=`, `+` and `-`
    actions, several files in one command, and the `-q`, `-v` and `-n rootid`
    options, also behind wrappers (`sudo`, `env`, `timeout`, `nohup`, `doas`,
    `xargs`, …); `setcap -r` removes capabilities and is not reported. Granting a
    capability from the default set (`cap_net_bind_service=+ep` so a non-root
    server can listen on port 80) is the least-privilege pattern and is not reported.

    ## Why is this bad?
    A file capability hands the capability to *every* user who runs the file, so
    a non-root user in the container is root for that capability. It only works
    if the container is started with the capability added, so the image also
    pushes its users to `--cap-add` it, and then any process that can run the
    file — an attacker with code execution as an unprivileged user included —
    gets it: `cap_net_admin` reconfigures the network, `cap_sys_ptrace` reads
    other processes' memory, `cap_dac_read_search` reads any file.

    ## Example
    ```dockerfile
    FROM debian:bookworm-slim
    RUN apt-get update && apt-get install -y tcpdump \\
     && setcap cap_net_raw,cap_net_admin=eip /usr/bin/tcpdump
    USER nobody
    ```

    ## Use instead
    Keep the capability off the file and add it only to the container that needs
    it, at run time, with everything else dropped:
    ```dockerfile
    FROM debian:bookworm-slim
    RUN apt-get update && apt-get install -y tcpdump
    USER nobody
    ```
    ```sh
    docker run --cap-drop=ALL --cap-add=NET_RAW capture-image
    ```

    ## References
    - [setcap(8)](https://man7.org/linux/man-pages/man8/setcap.8.html)
    - [cap_from_text(3): the textual capability format](https://man7.org/linux/man-pages/man3/cap_from_text.3.html)
    - [capabilities(7): file capabilities](https://man7.org/linux/man-pages/man7/capabilities.7.html)
    """
    for program, args in _commands(image):
        if program != "setcap":
            continue
        for text, granted, path in _setcap_grants(args):
            extra = sorted(granted - caps.DOCKER_DEFAULTS)
            if not extra:
                continue
            if len(extra) == len(caps.ALL_CAPABILITIES - caps.DOCKER_DEFAULTS):
                what = "every capability, SYS_ADMIN and SYS_MODULE included"
            else:
                what = "; ".join(caps.describe(name) for name in extra)
            yield Hit(text.span, f"setcap {text.raw} gives {path} {what}: "
                                 "outside Docker's default set, and whoever runs the file gets it",
                      advice=_setcap_instead(text, granted, path))


def _id_bits(mode: str) -> tuple[bool, bool]:
    """Whether a chmod mode sets the setuid bit and the setgid bit."""
    uid = gid = False
    if _OCTAL.fullmatch(mode):
        bits = int(mode, 8)
        return bool(bits & 0o4000), bool(bits & 0o2000)
    for clause in mode.split(","):
        m = _SYMBOLIC.fullmatch(clause)
        if m is None:
            return False, False
        who = m.group(1)
        for op, perms in _OPERATION.findall(m.group(2)):
            if op != "-" and "s" in perms:
                uid |= who == "" or bool(set(who) & {"u", "a"})
                gid |= who == "" or bool(set(who) & {"g", "a"})
    return uid, gid


def _chmod_mode(args: tuple[Located[str], ...]) -> tuple[Located[str] | None, tuple[Located[str], ...]]:
    for i, arg in enumerate(args):
        if arg.value.startswith("--reference"):
            return None, ()
        if arg.value == "--":
            return (args[i + 1], args[i + 2:]) if i + 1 < len(args) else (None, ())
        if not _CHMOD_OPTIONS.fullmatch(arg.value):
            return arg, args[i + 1:]
    return None, ()


def _install_mode(args: tuple[Located[str], ...]) -> tuple[Located[str] | None, tuple[Located[str], ...]]:
    mode: Located[str] | None = None
    files: list[Located[str]] = []
    i = 0
    while i < len(args):
        value = args[i].value
        if value.startswith("--mode"):
            name, eq, rest = value.partition("=")
            if eq:
                mode = args[i]
            elif i + 1 < len(args):
                mode, i = args[i + 1], i + 1
        elif value.startswith("-") and not value.startswith("--") and len(value) > 1:
            # A cluster of short options such as `-Dm4755` or `-m 4755`.
            for j, letter in enumerate(value[1:], start=1):
                if letter in "gmoSt":
                    if letter == "m":
                        mode = args[i] if j + 1 < len(value) else (args[i + 1] if i + 1 < len(args) else None)
                    if j + 1 == len(value):
                        i += 1
                    break
        else:
            files.append(args[i])
        i += 1
    return mode, tuple(files[-1:])


def _mode_text(mode: Located[str]) -> str:
    """The mode itself from `--mode=4755` or `-Dm4755`."""
    value = mode.value
    if value.startswith("--mode="):
        return value[len("--mode="):]
    if value.startswith("-"):
        return value[value.index("m") + 1:]
    return value


@rule("CAP402", "setuid-binary", Severity.MEDIUM, (Image,))
def setuid_binary(image: Image) -> Iterator[Hit]:
    """
    A Dockerfile sets the setuid or setgid bit on a file.

    ## What it does
    Flags `chmod` with a mode that sets the setuid or setgid bit — symbolic
    (`u+s`, `g+s`, `+s`, `ug+s`, `a+s`, `u+x,u+s`, `u=rwxs`) or octal (`4755`,
    `2755`, `6755`, `04755`), with or without `-R`/`--recursive` — and `install`
    with such a mode (`-m 4755`, `-Dm4755`, `--mode=4755`). Clearing the bits
    (`u-s`) and ordinary modes (`755`, `0755`) are not reported. Wrappers are
    seen through (`sudo`, `env A=1`, `timeout 60`, `nohup`, `doas`, `xargs`,
    `busybox`, …). The commands are
    read from the parsed shell of each `RUN`, so `echo "chmod u+s …"` and a
    commented-out `# RUN chmod u+s …` are not commands. A setgid directory
    (`chmod g+s /srv/shared`, for group inheritance) is reported too: caplint
    cannot tell directories from files; suppress it with a reason.

    ## Why is this bad?
    A setuid-root file runs as root whoever starts it, so the image's non-root
    `USER` is one bug away from root: any flaw in that program (an option that
    reads a file, spawns a shell, or loads a library from an environment
    variable) is a privilege escalation. Images usually need none; base images
    already ship the few they have (and hardened images remove those).

    ## Example
    ```dockerfile
    FROM alpine:3.20
    COPY ping-helper /usr/local/bin/ping-helper
    RUN chmod u+s /usr/local/bin/ping-helper
    USER app
    ```

    ## Use instead
    Give the program only the permission bits it needs and, if it needs a
    privilege, grant that one capability to the container at run time:
    ```dockerfile
    FROM alpine:3.20
    COPY --chmod=0755 ping-helper /usr/local/bin/ping-helper
    USER app
    ```

    ## References
    - [chmod(1): setuid and setgid bits](https://man7.org/linux/man-pages/man1/chmod.1.html)
    - [CIS Docker Benchmark 4.8: remove setuid and setgid permissions](https://www.cisecurity.org/benchmark/docker)
    """
    for program, args in _commands(image):
        if program == "chmod":
            mode, files = _chmod_mode(args)
            text = mode.value if mode is not None else ""
        elif program == "install":
            mode, files = _install_mode(args)
            text = _mode_text(mode) if mode is not None else ""
        else:
            continue
        if mode is None or not mode.resolved:
            continue
        uid, gid = _id_bits(text)
        if not (uid or gid):
            continue
        bits = "setuid and setgid bits" if uid and gid else "setuid bit" if uid else "setgid bit"
        who = "its owner's and group's" if uid and gid else "its owner's" if uid else "its group's"
        target = " ".join(f.value for f in files) or "its files"
        spelled = f"-m {mode.raw}" if program == "install" and not mode.value.startswith("-") else mode.raw
        yield Hit(mode.span, f"{program} {spelled} sets the {bits} on {target}: whoever runs it gets {who} privileges",
                  *_without_id_bits(program, mode, text, target))


@rule("CAP403", "missing-user", Severity.LOW, (Image,))
def missing_user(image: Image) -> Iterator[Hit]:
    """
    A Dockerfile's final stage never sets a user, so the image runs as root.

    ## What it does
    Flags the final `FROM` of a Dockerfile whose final stage has no `USER`
    instruction. A final stage built `FROM` an earlier stage of the same file
    inherits that stage's `USER` and is not reported; `USER` in other build
    stages does not count, since only the final stage is the image. A `FROM
    scratch` final stage is reported too: a static binary in a scratch image
    needs no root, and `USER 65532:65532` (numeric, since scratch has no
    `/etc/passwd`) is all it takes. A file without any `FROM` gets a parse error
    (CAP001) instead.

    ## Why is this bad?
    Without `USER`, the container's process runs as root (uid 0) unless whoever
    runs it passes `--user`. Root in a container keeps the default capabilities,
    owns every file in the image, and turns any container escape or writable
    host mount into root on the host. Setting a user in the image makes the safe
    choice the default.

    ## Example
    ```dockerfile
    FROM python:3.12-slim
    COPY . /app
    CMD ["python", "/app/main.py"]
    ```

    ## Use instead
    ```dockerfile
    FROM python:3.12-slim
    RUN useradd --system --uid 10001 app
    COPY . /app
    USER app
    CMD ["python", "/app/main.py"]
    ```

    ## References
    - [Dockerfile reference: USER](https://docs.docker.com/reference/dockerfile/#user)
    - [Docker build best practices: USER](https://docs.docker.com/build/building/best-practices/#user)
    """
    final = image.final_stage
    if final is None or not final.base.value or final.users:
        return
    yield Hit(final.span, f"the final stage (FROM {final.base.raw}) never sets USER: "
                          "the container runs as root unless started with --user",
              advice="end the final stage with `USER 10001` (numeric, so it works without /etc/passwd), after creating "
                     "the user if the image has none (`RUN useradd --system --uid 10001 app`), or build FROM a "
                     "non-root variant of the base image")


def _setcap_instead(text: Located[str], granted: frozenset[str], path: str) -> str:
    """CAP207: the file keeps only default capabilities; the container gets the rest."""
    extra = sorted(granted - caps.DOCKER_DEFAULTS)
    kept = sorted(granted & caps.DOCKER_DEFAULTS)
    flags = " ".join(["--cap-drop=ALL", *(f"--cap-add={n}" for n in extra)])
    if kept and len(extra) < len(caps.ALL_CAPABILITIES - caps.DOCKER_DEFAULTS):
        on_file = f"grant the file only `setcap {','.join('cap_' + n.lower() for n in kept)}+ep {path}`"
    else:
        on_file = f"remove `setcap {text.raw} {path}`"
    return (f"{on_file}, and add {', '.join(extra)} at run time to the one container that needs it, "
            f"with everything else dropped ({flags}, or cap_drop: [ALL] and cap_add: [{', '.join(extra)}])")


def _without_id_bits(program: str, mode: Located[str], text: str, target: str) -> tuple[Fix | None, str]:
    """CAP402: the same mode without the setuid/setgid bits, as an edit where it is octal."""
    if _OCTAL.fullmatch(text):
        cleared = format(int(text, 8) & ~0o6000, "o").rjust(len(text), "0")
        # Only where the word is the mode alone (not `-Dm4755` or `--mode=4755`).
        edit = advice.replace_value(mode, cleared, f"Write {cleared}") if mode.value == text else None
        spelled = f"install -m {cleared}" if program == "install" else f"chmod {cleared}"
        return edit, f"write `{spelled}` for {target}: the same permissions without the id bits"
    return None, (f"remove the s from `{mode.raw}` (or the command, if it does nothing else) for {target}; if the program "
                  "needs a privilege, add that one capability to the container at run time instead")
