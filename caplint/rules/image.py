"""What an image holds: file capabilities, setuid files, the runtime user —
from a Dockerfile's instructions, or from a scanned image's files and config."""
from __future__ import annotations

from collections.abc import Iterator

from caplint import advice, baseimages
from caplint import capabilities as caps
from caplint.filecaps import program_commands as _commands, setcap_grants as _setcap_grants
from caplint.model import Fix, Hit, Image, ImageFile, Located, RunInstruction, SavedImage, Severity, Stage
from caplint.rules import rule
from caplint import lazyre

_OCTAL = lazyre.compile(r"[0-7]{1,6}")
_SYMBOLIC = lazyre.compile(r"([ugoa]*)((?:[-+=](?:[rwxXst]*|[ugo]))+)")
_OPERATION = lazyre.compile(r"([-+=])([rwxXst]*|[ugo])")
# install(1) long options that take a value as the next word.
_INSTALL_VALUES = frozenset({"--owner", "--group", "--suffix", "--target-directory", "--strip-program", "--context"})
_CHMOD_OPTIONS = lazyre.compile(r"-[Rcfv]+|--(recursive|verbose|changes|silent|quiet|no-preserve-root|preserve-root)")


def _run_commands(run: RunInstruction) -> Iterator[tuple[str, tuple[Located[str], ...]]]:
    for command in run.commands:
        if command.program < len(command.words):
            name = command.words[command.program].value.rsplit("/", 1)[-1]
            yield name, command.words[command.program + 1:]


@rule("CAP207", "file-capabilities", Severity.HIGH, (Image,))
def file_capabilities(image: Image) -> Iterator[Hit]:
    """
    An image gives a file capabilities outside the runtime's default set.

    ## What it does
    In a scanned image (`caplint image`), flags each regular file whose
    `security.capability` extended attribute grants a capability outside
    Docker's default set, decoded from the raw bytes (VFS_CAP revisions 1, 2
    and 3): the message shows it as `getcap` would (`cap_net_admin=eip`), the
    revision, whether the effective flag is set, and the `rootid` of a revision
    3 attribute (a GNU sparse file counts like any other; an image whose blobs
    do not hash to their digests is a CAP001 and not judged, unless
    `--no-verify`). In a Dockerfile, flags `setcap` in a `RUN` instruction that grants a file a capability Docker
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
    if image.saved is not None:
        yield from _saved_file_capabilities(image.saved)
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


def _outside_defaults(granted: frozenset[str]) -> list[str]:
    return sorted(granted - caps.DOCKER_DEFAULTS)


def _granting(extra: list[str]) -> str:
    if len(extra) >= len(caps.ALL_CAPABILITIES - caps.DOCKER_DEFAULTS):
        return "every capability, SYS_ADMIN and SYS_MODULE included"
    return "; ".join(caps.describe(name) if name in caps.CAPABILITIES else f"capability number {name}"
                     for name in extra)


def _saved_file_capabilities(saved: SavedImage) -> Iterator[Hit]:
    for file in saved.files:
        cap = file.capability
        if cap is None:
            continue
        extra = _outside_defaults(cap.granted)
        if not extra:
            continue
        detail = [f"VFS_CAP v{cap.version}"]
        if cap.rootid is not None:
            detail.append(f"rootid {cap.rootid}")
        detail.append("effective" if cap.effective else "not effective: the program raises them itself")
        yield Hit(file.span, f"{file.path} in {saved.reference} has file capabilities {cap.text} "
                             f"({', '.join(detail)}), giving {_granting(extra)}: outside Docker's default set, "
                             "and whoever runs the file gets it",
                  advice=f"in the image's Dockerfile, `RUN setcap -r {file.path}`, and add only what the "
                         f"workload needs ({', '.join(extra)}) to the one container that runs it, with cap_drop: [ALL]")


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


def _install_mode(args: tuple[Located[str], ...]) -> tuple[Located[str] | None, tuple[Located[str], ...], bool]:
    """install's mode word, its destinations, and whether it makes directories (`-d`)."""
    mode: Located[str] | None = None
    files: list[Located[str]] = []
    directory = False
    i = 0
    while i < len(args):
        value = args[i].value
        if value.startswith("--mode"):
            name, eq, rest = value.partition("=")
            if eq:
                mode = args[i]
            elif i + 1 < len(args):
                mode, i = args[i + 1], i + 1
        elif value == "--directory":
            directory = True
        elif value.startswith("--"):
            i += 1 if value in _INSTALL_VALUES else 0
        elif value.startswith("-") and len(value) > 1:
            # A cluster of short options such as `-Dm4755`, `-dm 2775` or `-m 4755`.
            for j, letter in enumerate(value[1:], start=1):
                directory |= letter == "d"
                if letter in "gmoSt":
                    if letter == "m":
                        mode = args[i] if j + 1 < len(value) else (args[i + 1] if i + 1 < len(args) else None)
                    if j + 1 == len(value):
                        i += 1
                    break
        else:
            files.append(args[i])
        i += 1
    return mode, tuple(files if directory else files[-1:]), directory


def _directories(program: str, args: tuple[Located[str], ...]) -> Iterator[str]:
    """The paths a `mkdir` or `install -d` creates as directories."""
    if program == "mkdir":
        values = iter(args)
        for arg in values:
            if arg.value in ("-m", "--mode", "--context"):
                next(values, None)
            elif not arg.value.startswith("-"):
                yield arg.value.rstrip("/")
    elif program == "install":
        mode, files, directory = _install_mode(args)
        if directory:
            yield from (f.value.rstrip("/") for f in files)


def _is_directory(path: Located[str], made: set[str]) -> bool:
    """Known to be a directory: written with a trailing `/`, or created as one earlier in the RUN."""
    return path.value.endswith("/") or path.value.rstrip("/") in made


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
    An image has a file with the setuid or setgid bit set.

    ## What it does
    In a scanned image (`caplint image`), flags each regular file with the
    setuid or setgid bit — what `find / -perm /6000 -type f` lists — with its
    owner, group and mode, sparse files included; folders are not reported
    (setgid on a folder is group inheritance). In a Dockerfile, flags `chmod` with a mode that sets the setuid or setgid bit — symbolic
    (`u+s`, `g+s`, `+s`, `ug+s`, `a+s`, `u+x,u+s`, `u=rwxs`) or octal (`4755`,
    `2755`, `6755`, `04755`), with or without `-R`/`--recursive` — and `install`
    with such a mode (`-m 4755`, `-Dm4755`, `--mode=4755`). Clearing the bits
    (`u-s`) and ordinary modes (`755`, `0755`) are not reported. Wrappers are
    seen through (`sudo`, `env A=1`, `timeout 60`, `nohup`, `doas`, `xargs`,
    `busybox`, …). The commands are
    read from the parsed shell of each `RUN`, so `echo "chmod u+s …"` and a
    commented-out `# RUN chmod u+s …` are not commands. Not on a directory:
    setgid there is group inheritance and Linux ignores setuid on one — `install
    -d` / `--directory` with any mode, `mkdir -m 3777`, a path written with a
    trailing `/`, or one the same `RUN` created as a directory (`mkdir -p
    /srv/shared && chmod g+s /srv/shared`). A directory made in another `RUN`
    cannot be told from a file: suppress that finding with a reason.

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
    if image.saved is not None:
        for file in image.saved.files:
            if file.mode & 0o6000:
                yield Hit(file.span, _setuid_message(file, image.saved.reference),
                          advice=f"in the image's Dockerfile, `RUN chmod u-s,g-s {file.path}` (or "
                                 "`find / -xdev -perm /6000 -type f -exec chmod a-s {} +`), and run the container "
                                 "with no-new-privileges")
    for stage in image.stages:
        for run in stage.runs:
            made: set[str] = set()  # directories this RUN created so far
            for program, args in _run_commands(run):
                hit = _setuid_hit(program, args, made)
                made.update(_directories(program, args))
                if hit is not None:
                    yield hit


def _setuid_hit(program: str, args: tuple[Located[str], ...], made: set[str]) -> Hit | None:
    """The finding for one chmod/install that sets the setuid or setgid bit on a file."""
    if program == "chmod":
        mode, files = _chmod_mode(args)
        text = mode.value if mode is not None else ""
    elif program == "install":
        mode, files, directory = _install_mode(args)
        if directory:
            return None  # setgid on a directory is group inheritance
        text = _mode_text(mode) if mode is not None else ""
    else:
        return None
    if mode is None or not mode.resolved:
        return None
    uid, gid = _id_bits(text)
    if not (uid or gid):
        return None
    if files and all(_is_directory(f, made) for f in files):
        return None
    files = tuple(f for f in files if not _is_directory(f, made))
    bits = "setuid and setgid bits" if uid and gid else "setuid bit" if uid else "setgid bit"
    who = "its owner's and group's" if uid and gid else "its owner's" if uid else "its group's"
    target = " ".join(f.value for f in files) or "its files"
    spelled = f"-m {mode.raw}" if program == "install" and not mode.value.startswith("-") else mode.raw
    return Hit(mode.span, f"{program} {spelled} sets the {bits} on {target}: whoever runs it gets {who} privileges",
               *_without_id_bits(program, mode, text, target))


def _setuid_message(file: ImageFile, reference: str) -> str:
    uid, gid = bool(file.mode & 0o4000), bool(file.mode & 0o2000)
    what = " and ".join(([f"setuid {file.owner}"] if uid else []) + ([f"setgid {file.group}"] if gid else []))
    gains = " and ".join(([f"{file.owner}'s"] if uid else []) + ([f"group {file.group}'s"] if gid else []))
    return (f"{file.path} in {reference} is {what} (owner {file.owner}:{file.group}, mode {file.mode:04o}): "
            f"whoever runs it gets {gains} privileges")


@rule("CAP403", "missing-user", Severity.LOW, (Image,))
def missing_user(image: Image) -> Iterator[Hit]:
    """
    An image never sets a user, so it runs as root.

    ## What it does
    For a scanned image (`caplint image`), flags a config without `User`. For
    a Dockerfile, flags the final `FROM` of a Dockerfile whose final stage has no `USER`
    instruction. A final stage built `FROM` an earlier stage of the same file
    inherits that stage's `USER` and is not reported; `USER` in other build
    stages does not count, since only the final stage is the image. A `FROM
    scratch` final stage is reported too: a static binary in a scratch image
    needs no root, and `USER 65532:65532` (numeric, since scratch has no
    `/etc/passwd`) is all it takes. A file without any `FROM` gets a parse error
    (CAP001) instead. Not reported when the base image is one known to run as a
    non-root user — distroless `:nonroot` / `:debug-nonroot`, Chainguard images
    other than the `-dev` variants, `nginxinc/nginx-unprivileged`, Bitnami's
    application images — also through `FROM <earlier stage>`; the table, with
    the publisher's documentation for each entry, is `caplint/baseimages.py`.
    Any other base may set a user too, which caplint cannot see without the
    image: the message says so.

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
    if image.saved is not None:
        if image.saved.user is None:
            yield Hit(image.span, advice="set a non-root user: `USER 10001` in the image's Dockerfile, or "
                                         "`user: \"10001\"` / `--user 10001` where the container is run",
                      message=f"image {image.saved.reference} sets no User in its config: "
                                  "the container runs as root unless started with --user")
        return
    final = image.final_stage
    if final is None or not final.base.value or final.users:
        return
    base = _external_base(image, final)
    if base is not None and base.resolved and baseimages.non_root_base(base.value) is not None:
        return
    yield Hit(final.span, f"the final stage (FROM {final.base.raw}) never sets USER: the container runs "
                          "as root unless the base image sets a user or it is started with --user",
              advice="end the final stage with `USER 10001` (numeric, so it works without /etc/passwd), after creating "
                     "the user if the image has none (`RUN useradd --system --uid 10001 app`), or build FROM a "
                     "non-root variant of the base image")


def _external_base(image: Image, stage: Stage) -> Located[str] | None:
    """The image a stage is ultimately built on, through `FROM <earlier stage>`."""
    named = {s.name.lower(): s for s in image.stages if s.name}
    seen: set[str] = set()
    while stage.base.value.lower() in named and stage.base.value.lower() not in seen:
        seen.add(stage.base.value.lower())
        stage = named[stage.base.value.lower()]
    return stage.base


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
        # Unsafe: a program that needed its setuid bit stops working.
        edit = advice.replace_value(mode, cleared, f"write {cleared}", safe=False) if mode.value == text else None
        spelled = f"install -m {cleared}" if program == "install" else f"chmod {cleared}"
        return edit, f"write `{spelled}` for {target}: the same permissions without the id bits"
    return None, (f"remove the s from `{mode.raw}` (or the command, if it does nothing else) for {target}; if the program "
                  "needs a privilege, add that one capability to the container at run time instead")
