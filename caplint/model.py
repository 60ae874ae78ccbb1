"""The common model every parser produces and every rule reads.

Parsers know file formats; rules know security; reporters know output formats.
This module is the contract between them, so everything here is a frozen value.
"""
from __future__ import annotations

import enum
from typing import Generic, Literal, TypeVar, Union

from caplint.values import field, record, value

T = TypeVar("T")


class Severity(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


@value
class Span:
    """Where something is written: 1-based lines and columns, end column exclusive."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    # For a place inside an archive rather than a line of text (a file in a
    # saved image): the path inside it. Reporters show it as a logical location.
    member: str | None = None

    @classmethod
    def point(cls, path: str, line: int, column: int = 1) -> Span:
        return cls(path, line, column, line, column)


@value
class Located(Generic[T]):
    """A value as the model understands it, where it was written, and how.

    `raw` is the author's own spelling (`cap_sys_admin`, `${CAPS:-NET_ADMIN}`) so
    messages can quote it. `resolved` is False when the value depends on
    something caplint cannot know (an unset `${VAR}`): rules must not guess.
    """

    value: T
    span: Span
    raw: str
    resolved: bool = True

    @property
    def shown(self) -> str:
        """The author's spelling, plus what it resolved to when that differs."""
        value = str(self.value)
        if not self.resolved or "$" not in self.raw or value == self.raw or isinstance(self.value, bool):
            return self.raw
        return f"{self.raw} (= {value})"


# The format a container is written in: a GitHub workflow or action is "github",
# a .gitlab-ci.yml "gitlab", a devcontainer.json or devcontainer-feature.json "devcontainer",
# a systemd unit "systemd", a Quadlet unit "quadlet", a Docker Bake file "bake". A Markdown
# snippet or a Makefile recipe is shell (or Compose): it is that format, embedded.
SourceKind = Literal["compose", "shell", "dockerfile", "devcontainer", "github", "gitlab", "systemd", "quadlet", "bake"]
Runtime = Literal["docker", "podman", "nerdctl"]


@value
class Mount:
    """A volume or bind mount. `source` is None for an anonymous volume."""

    span: Span
    source: Located[str] | None
    target: str | None
    kind: Literal["bind", "volume", "tmpfs", "npipe", "cluster", "image", "unknown"]
    read_only: bool


@value
class Device:
    """A device mapping; `host` is the host-side path (the side that matters)."""

    host: Located[str]
    container: str | None = None


@value
class Container:
    """One container as declared: a Compose service, a `docker run`, a `docker exec`.

    `complete` is True when this declaration defines the whole container (a Compose
    service, `docker run`), so the *absence* of a setting means something; it is
    False for `docker exec` or `compose run`, whose container is defined elsewhere.
    """

    name: str
    span: Span
    source_kind: SourceKind
    runtime: Runtime = "docker"
    complete: bool = True
    privileged: Located[bool] | None = None
    cap_add: tuple[Located[str], ...] = ()
    cap_drop: tuple[Located[str], ...] = ()
    security_opt: tuple[Located[str], ...] = ()
    pid: Located[str] | None = None
    ipc: Located[str] | None = None
    network: Located[str] | None = None
    userns: Located[str] | None = None
    uts: Located[str] | None = None
    cgroupns: Located[str] | None = None
    mounts: tuple[Mount, ...] = ()
    devices: tuple[Device, ...] = ()
    device_cgroup_rules: tuple[Located[str], ...] = ()
    user: Located[str] | None = None
    image: Located[str] | None = None  # the image it runs, when the declaration names one
    build_privileged: Located[bool] | None = None
    build_entitlements: tuple[Located[str], ...] = ()
    # What runs at run time, as the declaration says (Compose `entrypoint`,
    # `command`, `healthcheck`; a `docker run`'s command): evidence of need.
    processes: tuple[Process, ...] = ()
    ports: tuple[Located[int], ...] = ()  # container-side ports the workload listens on
    build: Build | None = None  # the image built here for it (assemble links it)
    # A command line's point just after its subcommand (`docker run|`), where
    # new options can be written as ` --cap-drop=ALL`; None when the format
    # has no such point or the subcommand is not written as plain text.
    options_at: Span | None = None


@value
class Command:
    """One simple shell command: its words after quote removal, each located.

    `program` is the index in `words` of the program that really runs, behind
    wrappers such as `sudo -u app env A=1 nice -n 5`; it equals `len(words)`
    when the command runs none (`sudo -l`, `command -v chmod`). The parser
    decides it, so a rule never needs to know a wrapper's options.
    """

    words: tuple[Located[str], ...]
    span: Span
    program: int = 0

    @property
    def argv(self) -> tuple[str, ...]:
        return tuple(w.value for w in self.words)


@value
class Process:
    """Something a container runs at run time: an ENTRYPOINT, a CMD, a
    healthcheck, a Compose `command:`, or a script one of them runs.

    `commands` are the simple commands it runs (for an exec form, its argv as
    one command, plus the commands of an `sh -c` script). `complete` is False
    when part of it could not be read (a syntax error, a value only known at
    run time), so what it needs cannot be fully known; `why` says what.
    `replaces_cmd`: an ENTRYPOINT set here resets the CMD its base image had.
    """

    origin: str  # "ENTRYPOINT", "CMD", "HEALTHCHECK", "command", "entrypoint", "healthcheck", "script"
    span: Span
    commands: tuple[Command, ...] = ()
    complete: bool = True
    why: str = ""


@value
class Copy:
    """A COPY/ADD: sources from the build context (or `--from` a stage) to `dest`."""

    span: Span
    sources: tuple[str, ...]
    dest: str
    from_stage: str | None = None  # `--from=…`: not the build context
    workdir: str = "/"


@value
class Script:
    """A file a process runs (`/docker-entrypoint.sh`), found through a COPY
    from the build context and read (`process` None when it was not found)."""

    path: str  # inside the container
    source: str | None  # the file in the build context
    process: Process | None


@value
class Build:
    """The image a Compose service builds here: `image` and its `target` stage
    (an index into `image.stages`), or `unknown` saying why it is not known
    (a remote context, a missing Dockerfile, an unknown target)."""

    span: Span
    context: str | None = None  # as written (relative to the Compose file's folder); None: not known
    dockerfile: str | None = None  # relative to the context; None: its `Dockerfile`
    target: str | None = None
    inline: Located[str] | None = None  # `dockerfile_inline`
    image: Image | None = None
    stage: int | None = None
    scripts: tuple[Script, ...] = ()
    unknown: str | None = None

    @property
    def final(self) -> Stage | None:
        if self.image is None or self.stage is None:
            return None
        return self.image.stages[self.stage]


@value
class RunInstruction:
    span: Span
    flags: tuple[Located[str], ...]
    commands: tuple[Command, ...]


@value
class Stage:
    base: Located[str]
    name: str | None
    span: Span
    users: tuple[Located[str], ...] = ()
    runs: tuple[RunInstruction, ...] = ()
    # Run-time settings, inherited from the stage it is built FROM in this file.
    entrypoint: Process | None = None
    cmd: Process | None = None
    healthcheck: Process | None = None
    copies: tuple[Copy, ...] = ()  # COPY/ADD of this stage (see `parent` for the ones before)
    exposes: tuple[Located[int], ...] = ()
    parent: int | None = None  # index of the stage of this file it is built FROM
    workdir: str = "/"  # the last WORKDIR: where relative commands run


@value
class FileCapability:
    """A decoded `security.capability` xattr: what `execve` of the file grants."""

    version: int  # VFS_CAP revision: 1, 2 or 3
    effective: bool  # raised at once, not only permitted
    permitted: tuple[str, ...]  # capability names; a number for one caplint does not know
    inheritable: tuple[str, ...]
    rootid: int | None = None  # revision 3: the user namespace's root uid
    text: str = ""  # as `getcap` prints it: `cap_net_raw=ep`

    @property
    def granted(self) -> frozenset[str]:
        return frozenset(self.permitted) | frozenset(self.inheritable)


@value
class ImageFile:
    """A regular file of a scanned image with file capabilities or setuid/setgid bits."""

    path: str  # absolute, inside the image
    span: Span
    mode: int  # permission bits, 0o7777
    uid: int
    gid: int
    owner: str  # user name from the tar header, else the uid
    group: str
    capability: FileCapability | None = None


@value
class SavedImage:
    """What a scanned image (`docker save`, OCI layout) holds that rules judge."""

    reference: str  # a tag (`example/app:1`) or, without one, the manifest digest
    platform: str  # os/arch[/variant]
    names: tuple[str, ...]  # every tag it is saved under
    user: Located[str] | None  # the config's `User`; None when it sets none
    files: tuple[ImageFile, ...] = ()


@value
class Image:
    """One Dockerfile, or one scanned image (`saved`, without stages).
    Only the last stage's USER is the runtime user."""

    path: str
    span: Span
    stages: tuple[Stage, ...] = ()
    saved: SavedImage | None = None

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None


Subject = Union[Container, Image]


@value
class Hit:
    """What a rule yields: where, why, and what to write instead.

    `advice` is the fix text for this very case (the exact `security_opt` item,
    the flags for this `docker run`), or says why no exact fix can be given;
    `fix` is an edit, only where caplint can make it itself. The engine stamps
    rule id and severity.
    """

    span: Span
    message: str
    fix: Fix | None = None
    advice: str | None = None
    remedy: Remedy | None = None


@value
class Remedy:
    """What to change in a container to resolve a hit, said without its format:
    a rule knows *what* (drop ALL and add these back, add no-new-privileges,
    take this entry out), `caplint.fixing` knows how that is spelt in the file
    (Compose keys, command-line options) and whether it can be written safely.

    `remove` is a `cap_add`/`cap_drop` entry to take out (`field` names its
    list); `drop_all` with `add` writes `cap_drop: [ALL]` and adds `add` to
    what the container already adds; `security_opt` is an option to add.
    """

    title: str
    safe: bool
    remove: Located[str] | None = None
    field: Literal["cap_add", "cap_drop"] = "cap_add"
    drop_all: bool = False
    add: tuple[str, ...] = ()
    security_opt: str | None = None


@value
class Edit:
    """Text that replaces what is written at `span` (an empty span: an insertion there)."""

    span: Span
    replacement: str


@value
class Fix:
    """An edit of the file that resolves a finding: `replacement` for the text at
    `span`, plus `more` edits of the same file when one change needs several.

    `safe` is ruff's applicability: a safe fix keeps what the container does
    (a misspelt name corrected, a redundant entry removed); an unsafe one
    changes it (capabilities dropped, no-new-privileges set) and is only
    applied when asked (`--unsafe-fixes`).
    """

    span: Span
    replacement: str
    title: str
    safe: bool = True
    more: tuple[Edit, ...] = ()

    @property
    def edits(self) -> tuple[Edit, ...]:
        return (Edit(self.span, self.replacement), *self.more)

    @property
    def label(self) -> str:
        """The title with its safety, as editors and reports show it."""
        return f"Fix: {self.title}" if self.safe else f"Fix (unsafe): {self.title}"


@value
class Problem:
    """A file caplint could not read or parse (becomes CAP001)."""

    span: Span
    message: str
    advice: str | None = None


@value
class Finding:
    rule_id: str
    rule_name: str
    severity: Severity
    span: Span
    message: str
    container: str | None = None
    line_text: str = ""
    fingerprint: str = ""
    fix: Fix | None = None
    # What to write instead (every reporter's `fix`); never empty once stamped.
    advice: str = ""
    # Why caplint makes no edit for a finding it would otherwise fix (the value is
    # in a shared anchor, a `${VAR}`…); only filled when fixes were asked for.
    unfixable: str = ""

    def sort_key(self) -> tuple[str, int, int, str, str]:
        s = self.span
        return (s.path, s.line, s.column, self.rule_id, self.message)


@record
class ParseResult:
    """What a parser hands to the engine for one file."""

    containers: list[Container] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
