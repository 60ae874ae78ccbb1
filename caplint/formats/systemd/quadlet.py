"""Podman Quadlet units (`*.container`, `*.pod`; podman-systemd.unit(5)) → Containers.

Quadlet turns a `[Container]` section into one `podman run`, key by key
(`AddCapability=X` is `--cap-add X`, `Network=host` is `--network host`, …),
with `PodmanArgs=` appended last, right before the image: the only way to
write `--privileged` there. The runtime is Podman, with Podman's defaults.

Keys read, and the `podman run` option each stands for:
AddCapability / DropCapability (space-separated names, repeatable, `CAP_`
optional, `all`), AddDevice (a leading `-` means "only if present"), Volume,
Mount, Tmpfs, Network, User (+ Group), UserNS, SecurityLabelDisable
(`label=disable`), SecurityLabelType/Level/FileType/Nested (`label=…`),
SeccompProfile (`seccomp=…`), Mask/Unmask, NoNewPrivileges, and PodmanArgs
(podman run options, systemd-quoted). A `[Pod]` section (`*.pod`) is a
`podman pod create`: its Network, UserNS, Volume and PodmanArgs are shared by
the pod's containers, so it is a Container that is not `complete` (the
absence of a setting there says nothing about the containers).

Not read: GlobalArgs (options of `podman` itself, none of which changes a
container's privileges), Exec/Entrypoint (the container's own command),
Pod= (the pod is its own file), and keys that are not about privileges.

Drop-ins `NAME.container.d/*.conf` (also `container.d/` and, for
`foo-bar.container`, `foo-.container.d/`) beside the unit are merged after
it in file-name order, a more specific folder's file replacing one of the
same name, as Quadlet merges them; their values point into the drop-in. A
drop-in named on its own (pre-commit hands over only what changed) is read
with every unit it is merged into (`parse_drop_in`), keeping what it writes.
Quadlet refuses a file with a line that is no assignment, section or comment,
an assignment before any section, or a `.container` without `Image=` or
`Rootfs=`: each is a CAP001.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from caplint.formats.dockercli import flags as runflags
from caplint.formats.dockercli.fields import fields
from caplint.formats.dockercli.flags import Option
from caplint.formats.systemd import ini
from caplint.formats.systemd.words import split
from caplint.model import Container, Located, ParseResult, Problem, Span
from caplint.reading import ReadError, read_file

# Keys whose value is one `podman run` option's value, as is.
_SINGLE_OPTION = {"Volume": "--volume", "Mount": "--mount", "Tmpfs": "--tmpfs", "Network": "--network",
                  "UserNS": "--userns", "AddDevice": "--device"}
_CAPABILITIES = {"AddCapability": "--cap-add", "DropCapability": "--cap-drop"}
# Keys that become a `--security-opt`: the option's text for a true boolean or for the value.
_SECURITY_BOOLEANS = {"SecurityLabelDisable": "label=disable", "SecurityLabelNested": "label=nested",
                      "NoNewPrivileges": "no-new-privileges"}
_SECURITY_VALUES = {"SeccompProfile": "seccomp=", "SecurityLabelType": "label=type:",
                    "SecurityLabelLevel": "label=level:", "SecurityLabelFileType": "label=filetype:",
                    "Mask": "mask=", "Unmask": "unmask="}
_TRUE = frozenset({"1", "yes", "true", "on"})
_SECTIONS = {".container": "Container", ".pod": "Pod"}


def parse(text: str, path: str, *, drop_in_texts: Mapping[str, str] | None = None) -> ParseResult:
    """The unit at `path`, its drop-ins merged (read from disk, or from
    `drop_in_texts` by path: an editor's unsaved buffer)."""
    result = ParseResult()
    suffix = os.path.splitext(path)[1].lower()
    section = _SECTIONS.get(suffix, "Container")
    unit = ini.read(text, path, quadlet=True)
    if not unit.sections:
        return result  # no unit at all (a Perl `.pod` document, say): not Quadlet's
    result.problems.extend(unit.problems[:1])  # Quadlet stops at the first
    entries = unit.get(section)
    for drop_in in drop_ins(path):
        try:
            own = (drop_in_texts or {}).get(drop_in)
            extra = ini.read(read_file(drop_in) if own is None else own, drop_in, quadlet=True)
        except ReadError as err:
            result.problems.append(Problem(Span.point(path, 1), f"drop-in {drop_in}: {err.problem.message}"))
            continue
        # Where it is written: in the drop-in, which is never linted on its own.
        result.problems.extend(extra.problems[:1])
        entries += extra.get(section)
    header = next((span for name, span in unit.sections if name == section), None)
    if header is None and not entries:
        return result  # a unit of another kind (`[Unit]` only): nothing runs here
    span = header or entries[0].key_span
    keys = {e.key for e in entries}
    if section == "Container" and not keys & {"Image", "Rootfs"}:
        result.problems.append(Problem(span, "Quadlet refuses this file: [Container] has no Image= or Rootfs= key"))
    result.containers.append(_container(entries, section, path, span))
    return result


def parse_drop_in(text: str, path: str) -> ParseResult:
    """A drop-in linted on its own (named on the command line, as pre-commit
    does when only the drop-in changed, or open in an editor): every unit it is
    merged into is read with it, and what is written in the drop-in is kept."""
    result = ParseResult()
    for unit in units_of(path):
        try:
            unit_text = read_file(unit)
        except ReadError:
            continue  # the unit is linted, and its read error reported, on its own
        found = parse(unit_text, unit, drop_in_texts={path: text})
        result.containers.extend(found.containers)
        result.problems.extend(p for p in found.problems if p.span.path == path)
    return result


def units_of(drop_in: str) -> list[str]:
    """The units beside the drop-in's folder that merge `drop_in` (the inverse
    of `drop_ins`: a more specific folder's file of the same name shadows it)."""
    drop_in = os.path.normpath(drop_in)
    folder = os.path.dirname(os.path.dirname(drop_in))
    try:
        names = sorted(os.listdir(folder or "."))
    except OSError:
        return []
    units = (os.path.join(folder, n) for n in names if os.path.splitext(n)[1].lower() in _SECTIONS)
    return [u for u in units if drop_in in map(os.path.normpath, drop_ins(u))]


def drop_ins(path: str) -> list[str]:
    """The drop-in files Quadlet merges into the unit at `path`, in merge order."""
    folder, name = os.path.split(path)
    stem, suffix = os.path.splitext(name)
    dirs = [suffix.lstrip(".") + ".d"]  # container.d: every unit of the type
    parts = stem.split("-")
    dirs += ["-".join(parts[:k]) + "-" + suffix + ".d" for k in range(1, len(parts))]
    dirs.append(name + ".d")
    chosen: dict[str, str] = {}
    for d in dirs:  # least specific first: a later folder's file of the same name wins
        full = os.path.join(folder, d)
        try:
            names = os.listdir(full)
        except OSError:
            continue
        for conf in names:
            if conf.endswith(".conf") and os.path.isfile(os.path.join(full, conf)):
                chosen[conf] = os.path.join(full, conf)
    return [chosen[k] for k in sorted(chosen)]


def _container(entries: list[ini.Entry], section: str, path: str, span: Span) -> Container:
    options: list[Option] = []
    args: list[Located[str]] = []
    user: Located[str] | None = None
    group: str | None = None
    name = "systemd-" + os.path.splitext(os.path.basename(path))[0]
    for entry in _in_force(entries):
        key, value = entry.key, entry.value
        if key in _CAPABILITIES:
            options += (_option(_CAPABILITIES[key], w) for w in split(value, relax=True))
        elif key in _SINGLE_OPTION:
            options.append(_option(_SINGLE_OPTION[key], _device(_whole(value)) if key == "AddDevice" else _whole(value)))
        elif key in _SECURITY_BOOLEANS:
            if value.text.strip('"').lower() in _TRUE:
                options.append(_option("--security-opt", _as(entry, _SECURITY_BOOLEANS[key])))
        elif key in _SECURITY_VALUES:
            options.append(_option("--security-opt", _as(entry, _SECURITY_VALUES[key] + _unquoted(value.text))))
        elif key == "User":
            user = _whole(value)
        elif key == "Group":
            group = _unquoted(value.text)
        elif key in ("ContainerName", "PodName"):
            name = _unquoted(value.text) or name
        elif key == "PodmanArgs":
            args += split(value, relax=True)
    if args:
        scanned, _ = runflags.scan(args, 0, runflags.RUN)
        options += scanned
    if user is not None and group:
        user = Located(f"{user.value}:{group}", user.span, user.raw, user.resolved)
    found = fields(options, "podman")
    if user is not None:
        found["user"] = user
    label = "container" if section == "Container" else "pod"
    return Container(name=f"quadlet {label} {name}", span=span, source_kind="quadlet", runtime="podman",
                     complete=section == "Container", **found)


def _in_force(entries: Iterable[ini.Entry]) -> list[ini.Entry]:
    """Assignments after the last empty one of their key (an empty assignment resets a list)."""
    kept: list[ini.Entry] = []
    for entry in entries:
        if entry.value.text:
            kept.append(entry)
        else:
            kept = [e for e in kept if e.key != entry.key]
    return kept


def _option(name: str, word: Located[str]) -> Option:
    return Option(runflags.RUN.get(name), name, word, word, 0)


def _whole(value: ini.Value) -> Located[str]:
    """A value that is one word (Quadlet strips one pair of surrounding double quotes)."""
    text = value.text
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return Located(text[1:-1], value.span(1, len(text) - 1), text[1:-1], "%" not in text)
    return Located(text, value.span(), text, "%" not in text)


def _device(word: Located[str]) -> Located[str]:
    """`AddDevice=-/dev/x` adds /dev/x when it exists: the device is still /dev/x."""
    if not word.value.startswith("-"):
        return word
    s = word.span
    return Located(word.value[1:], Span(s.path, s.line, s.column + 1, s.end_line, s.end_column), word.raw[1:],
                   word.resolved)


def _as(entry: ini.Entry, option: str) -> Located[str]:
    """A `--security-opt` value standing for a key: it points at the key, quoting it as written."""
    return Located(option, entry.span, f"{entry.key}={entry.value.text}")


def _unquoted(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text
