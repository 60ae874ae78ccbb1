"""Option values → Container fields: caps, security options, namespaces, mounts, devices.

Every value keeps its own location: `--cap-add=NET_ADMIN,SYS_TIME` gives two
Located names, each spanning just its own characters, and a mount's source
points at the host path inside `-v /var/run/docker.sock:/var/run/docker.sock`.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from caplint import hostpaths
from caplint.model import Device, Located, Mount
from caplint.formats.words import sub
from caplint.formats.dockercli.flags import Option, parse_bool

_SINGLE = frozenset({"pid", "ipc", "network", "userns", "uts", "cgroupns", "user"})
_LISTS = frozenset({"security_opt", "device_cgroup_rules"})
_SPLIT_LISTS = frozenset({"cap_add", "cap_drop", "build_entitlements"})
# The docker CLI keeps `--cap-add=A,B` as the one name "A,B" (a list option, not
# pflag's comma-splitting StringSlice that Podman and nerdctl use), and the
# daemon refuses it as an unknown capability.
_WHOLE_FOR_DOCKER = frozenset({"cap_add", "cap_drop"})
# `--mount type=…`: the kinds the model knows; Podman's glob mounts are binds
# of matching host files, ramfs is a tmpfs in all that matters here.
_MOUNT_KINDS = {"bind": "bind", "volume": "volume", "tmpfs": "tmpfs", "npipe": "npipe",
                "cluster": "cluster", "image": "image", "glob": "bind", "ramfs": "tmpfs"}
_MOUNT_SOURCE = ("source", "src")
_MOUNT_TARGET = ("target", "dst", "destination")


def fields(options: Iterable[Option], runtime: str) -> dict[str, Any]:
    """Keyword arguments for `Container` from the options that map onto it."""
    out: dict[str, Any] = {}
    lists: dict[str, list[Any]] = {}
    for opt in options:
        field = opt.flag.field if opt.flag is not None else None
        if field is None:
            continue
        if field == "privileged":
            out[field] = _privileged(opt)
            continue
        value = opt.value
        if value is None:
            continue  # a value option at the very end of the command: nothing to read
        if field in _SINGLE:
            if field == "network" and runtime == "docker" and field in out:
                continue  # docker: the first `--network` is the container's network mode, later ones are extra networks
            out[field] = _single(field, value, runtime)
        elif field in _LISTS or (field in _WHOLE_FOR_DOCKER and runtime == "docker"):
            lists.setdefault(field, []).append(value)
        elif field in _SPLIT_LISTS:
            lists.setdefault(field, []).extend(_split(opt))
        elif field == "mounts":
            lists.setdefault(field, []).append(_mount(opt.name, opt))
        elif field == "devices":
            lists.setdefault(field, []).append(_device(opt))
    out.update({k: tuple(v) for k, v in lists.items()})
    return out


def _privileged(opt: Option) -> Located[bool]:
    """`--privileged` is true; `--privileged=false` is false; `=$X` is unknown."""
    word = opt.word
    if opt.value_word is None:
        return Located(True, word.span, word.raw)
    text = opt.value_word.value[opt.value_start:]
    parsed = parse_bool(text)
    return Located(bool(parsed), word.span, word.raw, resolved=word.resolved and parsed is not None)


def _single(field: str, value: Located[str], runtime: str) -> Located[str]:
    text = value.value
    if field == "network" and text.startswith("name="):
        # Docker's long form `--network name=host,alias=web`: the name decides.
        name = text[5:].split(",", 1)[0]
        return Located(name, value.span, value.raw, value.resolved)
    if field == "userns" and text == "" and runtime == "podman":
        # podman-run(1): `--userns=""` is an alias for `--userns=host`.
        return Located("host", value.span, value.raw, value.resolved)
    return value


def _split(opt: Option) -> list[Located[str]]:
    """`--cap-add=NET_ADMIN,SYS_TIME` → one Located per name, each on its own columns."""
    assert opt.value_word is not None
    word, start = opt.value_word, opt.value_start
    out = []
    for begin, end in _pieces(word.value, start, ","):
        part = sub(word, begin, end)
        stripped = part.value.strip()
        if stripped:
            out.append(part if stripped == part.value else Located(stripped, part.span, part.raw, part.resolved))
    return out


def _pieces(text: str, start: int, sep: str) -> list[tuple[int, int]]:
    """(begin, end) offsets of the `sep`-separated pieces of `text[start:]`.

    A separator inside `${…}` or `$(…)` is not one: `${DATA:-/srv}:/data` has two
    pieces, not three.
    """
    out = []
    begin = start
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c in "({" and i > 0 and text[i - 1] == "$":
            depth += 1
        elif c in ")}" and depth:
            depth -= 1
        elif c == sep and not depth:
            out.append((begin, i))
            begin = i + 1
    out.append((begin, len(text)))
    return out


def _mount(name: str, opt: Option) -> Mount:
    assert opt.value_word is not None
    if name in ("--mount",):
        return _long_mount(opt.value_word, opt.value_start)
    value = sub(opt.value_word, opt.value_start)
    if name == "--tmpfs":
        return Mount(value.span, None, value.value.split(":", 1)[0], "tmpfs", False)
    return _short_volume(opt.value_word, opt.value_start)


def _short_volume(word: Located[str], start: int) -> Mount:
    """`-v SRC:DST[:OPTS]` (or just `DST`, an anonymous volume)."""
    whole = sub(word, start)
    pieces = _pieces(word.value, start, ":")
    if len(pieces) == 1:
        return Mount(whole.span, None, whole.value, "volume", False)
    src = _home_relative(sub(word, *pieces[0]))
    target = word.value[pieces[1][0]:pieces[1][1]]
    opts = word.value[pieces[2][0]:pieces[-1][1]].split(",") if len(pieces) > 2 else []
    read_only = "ro" in opts or "readonly" in opts
    return Mount(whole.span, src, target, "bind" if _is_host_path(src) else "volume", read_only)


def _is_host_path(src: Located[str]) -> bool:
    """Docker's rule: a source that is a path is a bind, a bare name is a named volume.

    An expansion (`$PWD`, `${DATA_DIR}`) is read as a path: that is how such
    variables are used, and a named volume in a variable is rare.
    """
    return src.value[:1] in ("/", ".", "~", "$")


def _home_relative(src: Located[str]) -> Located[str]:
    """`$HOME/.aws` → `~/.aws`, resolved: the rules know what lives under a home.
    `raw` keeps the spelling for messages."""
    if src.resolved or src.raw.startswith("'"):
        return src  # single-quoted `'$HOME'` is literal text, not the home
    home = hostpaths.home_relative(src.value)
    return src if home is None else Located(home, src.span, src.raw, hostpaths.is_literal(home))


def _long_mount(word: Located[str], start: int) -> Mount:
    """`--mount type=bind,source=…,target=…,readonly` (the default type is volume)."""
    whole = sub(word, start)
    kind = "volume"
    source: Located[str] | None = None
    target: str | None = None
    read_only = False
    for begin, end in _pieces(word.value, start, ","):
        spelled, eq, val = word.value[begin:end].partition("=")
        key = spelled.strip().lower()
        if key == "type":
            kind = _MOUNT_KINDS.get(val.strip().lower(), "unknown")
        elif key in _MOUNT_SOURCE and eq:
            source = _home_relative(sub(word, begin + len(spelled) + 1, end))
        elif key in _MOUNT_TARGET:
            target = val
        elif key in ("readonly", "ro"):
            # bare `readonly` is true; `readonly=false`/`=0` is not
            read_only = not eq or parse_bool(val.strip()) is not False
    return Mount(whole.span, source, target, kind, read_only)  # type: ignore[arg-type]


def _device(opt: Option) -> Device:
    """`--device /dev/x[:/dev/y[:rwm]]`: the host side is the one that matters."""
    assert opt.value_word is not None
    word, start = opt.value_word, opt.value_start
    pieces = _pieces(word.value, start, ":")
    host = sub(word, *pieces[0])
    container = word.value[pieces[1][0]:pieces[1][1]] if len(pieces) > 1 else None
    if container is not None and container and set(container) <= set("rwm"):
        container = None  # `/dev/x:rwm`: permissions, not a path
    return Device(host, container)
