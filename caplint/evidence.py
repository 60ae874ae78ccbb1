"""What a container needs, from evidence in the repository, never from a catalogue.

Evidence is what runs under the container's capability set: the ENTRYPOINT,
CMD and HEALTHCHECK of the image built here (Compose `build:`), the scripts
they run that the Dockerfile COPYs from the build context, and Compose
`command:`/`entrypoint:`/`healthcheck:`. `RUN` steps are not evidence: they
run at build time, under the builder's set. What cannot be seen (an image
pulled from a registry, a script that is not in the context, a value known
only at run time) makes the suggestion incomplete, with the reason; it is
never guessed.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from caplint import lazyre
from caplint.model import Build, Command, Container, Located, Process, Script, Span, Stage
from caplint.values import value

if TYPE_CHECKING:
    from caplint.filecaps import FileCaps


def _always(_: Sequence[str]) -> bool:
    return True


def _changes_links(args: Sequence[str]) -> bool:
    """`ip` needs NET_ADMIN to change things, not to show them (`ip addr`, `ip route get`)."""
    return any(a in _IP_CHANGES for a in args)


def _mounts_something(args: Sequence[str]) -> bool:
    """`mount` alone (or `-l`) only lists what is mounted."""
    return any(not a.startswith("-") for a in args) or "-a" in args


def _switches_user(args: Sequence[str]) -> bool:
    return any(a.split("=", 1)[0] in _SETPRIV_SWITCHES for a in args)


_IP_CHANGES = frozenset({"add", "del", "delete", "set", "change", "replace", "flush", "append", "prepend",
                         "up", "down", "attach", "detach"})
_SETPRIV_SWITCHES = frozenset({"--reuid", "--regid", "--ruid", "--rgid", "--euid", "--egid", "--init-groups",
                               "--clear-groups", "--groups", "--keep-groups"})


@value
class Row:
    """One line of the evidence table: programs → the capabilities they need, and why."""

    programs: frozenset[str]
    capabilities: tuple[str, ...]
    reason: str
    applies: Callable[[Sequence[str]], bool] = _always


TABLE: tuple[Row, ...] = (
    Row(frozenset({"gosu", "su-exec", "suexec"}), ("SETUID", "SETGID"),
        "switches to another user: setuid(2) and setgid(2) need SETUID and SETGID"),
    Row(frozenset({"setpriv"}), ("SETUID", "SETGID"),
        "setpriv --reuid/--regid switches user and groups: needs SETUID and SETGID", _switches_user),
    Row(frozenset({"su", "runuser"}), ("SETUID", "SETGID"),
        "switches to another user: setuid(2) and setgid(2) need SETUID and SETGID"),
    # Daemons that start as root and drop to the user their configuration names
    # (nginx's `user`, Apache's `User`/`Group`, a php-fpm pool's `user`): the
    # program switches user itself, as gosu would.
    Row(frozenset({"nginx"}), ("CHOWN", "SETGID", "SETUID"),
        "started as root, nginx gives its temporary folders to its worker user (chown) and runs its workers "
        "as that user: needs CHOWN, SETGID and SETUID"),
    Row(frozenset({"httpd", "apache2", "apache2-foreground", "php-fpm"}), ("SETGID", "SETUID"),
        "started as root, the server runs its children as its configured user: setuid(2) and setgid(2) "
        "need SETUID and SETGID"),
    Row(frozenset({"chroot"}), ("SYS_CHROOT",), "chroot(2) needs SYS_CHROOT"),
    Row(frozenset({"chown", "chgrp"}), ("CHOWN",), "changing a file's owner or group needs CHOWN"),
    Row(frozenset({"ip"}), ("NET_ADMIN",), "changing interfaces, addresses or routes needs NET_ADMIN", _changes_links),
    Row(frozenset({"iptables", "ip6tables", "iptables-restore", "ip6tables-restore", "iptables-legacy",
                   "iptables-nft", "nft", "wg", "wg-quick", "openvpn"}), ("NET_ADMIN",),
        "packet filters, tunnels and VPN interfaces are configured with NET_ADMIN"),
    Row(frozenset({"mount"}), ("SYS_ADMIN",), "mount(2) needs SYS_ADMIN", _mounts_something),
)
_BY_PROGRAM = {program: row for row in TABLE for program in row.programs}
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh", "zsh"})
_PRIVILEGED_PORT = 1024
MAX_SCRIPT_DEPTH = 4


@value
class Evidence:
    capability: str
    span: Span
    reason: str


@value
class Suggestion:
    """The capabilities to add back after `cap_drop: [ALL]`, each with its evidence.

    `complete` is False when something that runs could not be seen; `unknown`
    then says what. `note` says why nothing is needed where that is the point.
    """

    cap_add: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    complete: bool
    unknown: str | None = None
    note: str = ""


_NUMERIC_USER = lazyre.compile(r"[+-]?[0-9]+")


def is_root(user: Located[str]) -> bool:
    """True when the user part of `user[:group]` is root (`root`, `0`, `000`, `+0`, `-0`:
    the runtime reads a numeric user with Go's strconv.Atoi, which takes a sign);
    the group does not decide."""
    if not user.resolved:
        return False
    name = user.value.strip().split(":", 1)[0].strip()
    return name == "root" or (_NUMERIC_USER.fullmatch(name) is not None and int(name) == 0)


def user_of(c: Container) -> Located[str] | None:
    """Who the container runs as: Compose `user:`, else the image's final USER."""
    if c.user is not None:
        return c.user
    stage = c.build.final if c.build is not None else None
    return stage.users[-1] if stage is not None and stage.users else None


def processes(c: Container) -> tuple[list[Process], list[str]]:
    """What runs in the container at run time, and what of it cannot be known."""
    declared = {p.origin: p for p in c.processes}
    stage = c.build.final if c.build is not None else None
    unknown: list[str] = []
    entrypoint = declared.get("entrypoint") or (stage.entrypoint if stage else None)
    # `entrypoint:` resets the image's CMD, as `docker run --entrypoint` does.
    cmd = declared.get("command") or (stage.cmd if stage and "entrypoint" not in declared else None)
    healthcheck = declared.get("healthcheck") or (stage.healthcheck if stage else None)
    if stage is not None and entrypoint is None and not _from_scratch(c.build):
        unknown.append(f"the base image {_root_base(c.build)} may set an ENTRYPOINT, which caplint cannot see")
    if stage is not None and entrypoint is None and cmd is None:
        unknown.append("no ENTRYPOINT or CMD here: the base image's command runs")
    found = [p for p in (entrypoint, cmd, healthcheck) if p is not None]
    return found, unknown


def _root_base(build: Build | None) -> str:
    if build is None or build.image is None or build.stage is None:
        return "?"
    from caplint import filecaps  # images built here only: a Compose file of pulled images does not load it

    return filecaps.chain(build.image, build.stage)[0].base.raw


def _from_scratch(build: Build | None) -> bool:
    return _root_base(build).lower() == "scratch"


def scripts_run(found: Sequence[Process]) -> list[str]:
    """Paths (as the container sees them) of the files these processes run:
    each command's program when it is a path, and `sh FILE`'s file."""
    out: list[str] = []
    for process in found:
        for command in process.commands:
            path = _script_of(command)
            if path is not None and path not in out:
                out.append(path)
    return out


def _script_of(command: Command) -> str | None:
    words = command.words[command.program:]
    if not words or not words[0].resolved:
        return None
    program = words[0].value
    name = posixpath.basename(program)
    if name in _SHELLS:
        operands = [w for w in words[1:] if not w.value.startswith(("-", "+"))]
        if any(w.value.startswith("-") and "c" in w.value[1:] and not w.value.startswith("--") for w in words[1:]):
            return None  # `sh -c '…'`: the script is already read
        return operands[0].value if operands and operands[0].resolved else None
    if "/" in program or name.endswith((".sh", ".bash")):
        return program
    return None


def suggest(c: Container) -> Suggestion:
    """What `c` needs after `cap_drop: [ALL]`, from the evidence that is here."""
    if c.build is None:
        where = "the image is pulled, not built here" if c.source_kind != "shell" else "its image is not built here"
        if not c.complete:
            where = "only part of the container is declared here"
        return Suggestion((), (), False, f"{where}: what it runs is not known")
    if c.build.unknown is not None or c.build.image is None:
        return Suggestion((), (), False, c.build.unknown or "its image is not known")
    found, unknown = processes(c)
    user = user_of(c)
    if user is not None and not user.resolved:
        unknown.append(f"the user {user.raw} is known only at run time")
    root = user is None or is_root(user)
    evidence: list[Evidence] = []
    scripts = {s.path: s for s in c.build.scripts}
    from caplint import filecaps  # images built here only

    files = filecaps.image_files(c.build.image, c.build.stage or 0)
    seen: set[str] = set()
    for process, command in _walk(found, scripts, unknown, seen, 0):
        evidence += _needs(command, files, root)
    if root:
        evidence += _ports(c, c.build.final)
    cap_add = tuple(sorted({e.capability for e in evidence}))
    note = ""
    if not root and not files and not cap_add:
        unknown = []  # nothing it runs can gain a capability from what is built here
    if not root and user is not None:
        note = (f"runs as {user.raw} ({user.span.path}:{user.span.line}), not root: a process that starts "
                "unprivileged holds no capabilities after execve, so it needs none" +
                (" beyond its file capabilities" if cap_add else
                 " (unless it runs setuid or file-capability binaries of its base image)"))
    return Suggestion(cap_add, tuple(_first_per(evidence)), not unknown, "; ".join(unknown) or None, note)


def _walk(found: Sequence[Process], scripts: dict[str, Script], unknown: list[str], seen: set[str],
          depth: int) -> Iterator[tuple[Process, Command]]:
    for process in found:
        if not process.complete:
            unknown.append(f"{process.origin} at {process.span.path}:{process.span.line}: {process.why}")
        for command in process.commands:
            yield process, command
            path = _script_of(command)
            if path is None or path in seen:
                continue
            seen.add(path)
            script = scripts.get(path)
            if script is None or script.source is None:
                if path.endswith((".sh", ".bash")) or posixpath.basename(command.words[command.program].value) in _SHELLS:
                    unknown.append(f"runs {path}, which is not COPYed from the build context")
            elif script.process is not None and depth < MAX_SCRIPT_DEPTH:
                yield from _walk([script.process], scripts, unknown, seen, depth + 1)


def _with_find_exec(command: Command) -> Iterator[Command]:
    """The command, and the commands `find … -exec CMD {} +` runs for it."""
    yield command
    words = command.words
    if command.program >= len(words) or posixpath.basename(words[command.program].value) != "find":
        return
    from caplint.formats.shell.commands import command as make_command

    i = command.program + 1
    while i < len(words):
        if words[i].value in ("-exec", "-execdir", "-ok", "-okdir"):
            end = next((j for j in range(i + 1, len(words)) if words[j].value in (";", "+")), len(words))
            if end > i + 1:
                yield make_command(words[i + 1:end])
            i = end
        i += 1


def _needs(command: Command, files: dict[str, FileCaps], root: bool) -> Iterator[Evidence]:
    for each in _with_find_exec(command):
        yield from _needs_one(each, files, root)


def _needs_one(command: Command, files: dict[str, FileCaps], root: bool) -> Iterator[Evidence]:
    if command.program >= len(command.words):
        return
    word = command.words[command.program]
    if not word.resolved:
        return
    args = [w.value for w in command.words[command.program + 1:]]
    program = posixpath.basename(word.value)
    row = _BY_PROGRAM.get(program)
    if row is not None and root and row.applies(args):
        for cap in row.capabilities:
            yield Evidence(cap, word.span, f"{word.value}: {row.reason}")
    carried = files.get(word.value) or next((f for p, f in files.items() if "/" not in word.value
                                             and posixpath.basename(p) == program), None)
    if carried is not None:
        for cap in sorted(carried.capabilities):
            yield Evidence(cap, word.span, f"runs {carried.path}, which setcap gives {cap} "
                                           f"({carried.written.span.path}:{carried.written.span.line}); "
                                           "without it in the bounding set execve fails with EPERM"
                                           if carried.effective else
                                           f"runs {carried.path}, which setcap gives {cap} "
                                           f"({carried.written.span.path}:{carried.written.span.line})")


def _ports(c: Container, stage: Stage | None) -> Iterator[Evidence]:
    """NET_BIND_SERVICE for a port below 1024, only where the runtime needs it:
    Docker ≥ 20.10 lets any process in its own network namespace bind them
    (net.ipv4.ip_unprivileged_port_start=0, moby#41030); host networking,
    Podman and nerdctl keep the kernel's 1024."""
    if not needs_bind_capability(c):
        return
    for port in (*c.ports, *(stage.exposes if stage else ())):
        if port.value < _PRIVILEGED_PORT:
            yield Evidence("NET_BIND_SERVICE", port.span,
                           f"listens on port {port.value}, below 1024, and {_why_bind(c)}")


def needs_bind_capability(c: Container) -> bool:
    """Whether binding a port below 1024 needs NET_BIND_SERVICE in this container."""
    return c.runtime != "docker" or host_network(c)


def host_network(c: Container) -> bool:
    return c.network is not None and c.network.resolved and c.network.value.strip().lower() == "host"


def _why_bind(c: Container) -> str:
    if host_network(c):
        return "with host networking the host's net.ipv4.ip_unprivileged_port_start (1024) applies"
    return f"{c.runtime} keeps net.ipv4.ip_unprivileged_port_start at 1024"


def _first_per(evidence: list[Evidence]) -> list[Evidence]:
    """One piece of evidence per (capability, place): a script run twice says it once."""
    seen: set[tuple[str, str, int]] = set()
    out = []
    for e in evidence:
        key = (e.capability, e.span.path, e.span.line)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out
