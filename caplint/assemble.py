"""Where files meet: Compose stacks and `build:` → the Dockerfile's Image.

A file is linted as part of what really runs:
- a Compose file that is one of a stack — the default pair (`compose.yaml`,
  `compose.yml`, `docker-compose.yml` or `docker-compose.yaml`, the first that
  exists, with the first `compose.override.yml`/`.yaml` or
  `docker-compose.override.yml`/`.yaml` beside it), or the files `COMPOSE_FILE`
  names in the `.env` beside it (split on `COMPOSE_PATH_SEPARATOR`, default
  `:`) — is parsed together with the other files of the stack, merged;
- a service with a local `build:` is linked to its Dockerfile's Image (its
  target stage) and to the scripts that image COPYs from the context and runs.

The other files are read from disk whoever asks, so a file linted alone (on
save, from stdin, by the language server) gets the same findings as in a scan
of the whole tree, and the result never depends on which files were named:
each file reports the findings written in it. Files read here are cached per
process by (path, mtime, size).
"""
from __future__ import annotations

import os
import posixpath
import stat
from typing import Any, TypeVar

from caplint import evidence
from caplint.values import replace
from caplint.model import Build, Container, Copy, Image, ParseResult, Problem, Process, Script, Span

T = TypeVar("T")

BASE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_NAMES = ("compose.override.yml", "compose.override.yaml", "docker-compose.override.yml",
                  "docker-compose.override.yaml")
MAX_SCRIPT_BYTES = 1_000_000
_SHEBANG_SHELLS = (b"sh", b"bash", b"dash", b"ash", b"ksh")

# Bounded, so a scan's memory stays flat in the number of files: a stack's
# partner or a Dockerfile is asked for by a few neighbours, close together.
CACHE_SIZE = 128
_texts: dict[tuple[str, int, int], str | None] = {}
_images: dict[tuple[str, int, int], Image | None] = {}
_processes: dict[tuple[str, int, int], Process | None] = {}  # scripts the images run, parsed
# id(container) → (the container, the folder, each file looked at and its stat signature, the link made)
_linked: dict[int, tuple[Container, str, tuple[tuple[str, tuple[int, int, int] | None], ...], Container]] = {}
# The files a link in the making looks at (None: no link is being made).
_looked: list[tuple[str, tuple[int, int, int] | None]] | None = None
# Keyed by path and checked against the text's (length, hash): the text may be
# an editor's unsaved buffer, and the cache must never change a result.
_trees: dict[str, tuple[tuple[int, int], Any, Problem | None]] = {}  # YAML roots of stacks' files
_parsed: dict[str, tuple[tuple[int, int], Image]] = {}  # Dockerfiles the engine has parsed


def _remember(cache: dict[tuple[str, int, int], T], key: tuple[str, int, int], value: T) -> T:
    if len(cache) >= CACHE_SIZE:
        del cache[next(iter(cache))]  # the oldest
    cache[key] = value
    return value


def stack_for(path: str) -> list[str]:
    """The files Compose reads together when `path` is one of them, in order; [path] otherwise."""
    from caplint.formats.compose.interpolation import load_dotenv  # Compose's own: not loaded for a Dockerfile

    folder = os.path.dirname(path)
    env = load_dotenv(os.path.join(folder or ".", ".env"))
    name = os.path.basename(path)
    listed = env.get("COMPOSE_FILE")
    if listed:
        separator = env.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        files = [os.path.normpath(os.path.join(folder, f.strip())) for f in listed.split(separator) if f.strip()]
        return files if os.path.normpath(path) in files else [path]
    base = next((n for n in BASE_NAMES if os.path.isfile(os.path.join(folder or ".", n))), None)
    override = next((n for n in OVERRIDE_NAMES if os.path.isfile(os.path.join(folder or ".", n))), None)
    if base is None or override is None or name not in (base, override):
        return [path]
    return [os.path.join(folder, base), os.path.join(folder, override)]


def compose(path: str, text: str, *, require_services: bool = False, reuse: Any = None) -> ParseResult:
    """The containers of the stack `path` belongs to, each linked to what it builds.

    `text` is `path`'s own (perhaps unsaved) text; the stack's other files come
    from disk. With `require_services` (a `.yaml` not named as Compose) a file
    that is not Compose yields nothing. `reuse` (a `parser.Reuse`, kept per
    document by the language server) serves a file read on its own."""
    from caplint.formats.compose import parser

    stack = stack_for(path)
    if len(stack) == 1:
        result = parser.parse(text, path, require_services=require_services, reuse=reuse)
    else:
        same = os.path.normpath(path)
        files: list[tuple[str, str]] = []
        missing: list[str] = []
        for other in stack:
            if os.path.normpath(other) == same:
                files.append((path, text))
                continue
            other_text = _read(other)
            if other_text is None:
                missing.append(other)
            else:
                files.append((other, other_text))
        result = parser.parse_stack(files, load=_load)
        result.problems = [p for p in result.problems if os.path.normpath(p.span.path) == same]
        if missing:
            result.problems.append(Problem(Span.point(path, 1), f"COMPOSE_FILE in .env names {', '.join(missing)}, "
                                                                "which cannot be read: Compose will refuse this stack"))
    base_dir = os.path.dirname(stack[0])
    result.containers = [link(c, base_dir) for c in result.containers]
    return result


def link(c: Container, folder: str) -> Container:
    """`c` with its `build:` resolved against `folder` (the stack's first file's).

    The language server links every service on every keystroke, most of them
    the same container objects as before (compose.parser.Reuse): the link of
    one is kept with every file it looked at and what `stat` said of each, and
    is made again when any of them says otherwise."""
    build = c.build
    if build is None or build.unknown is not None or build.context is None:
        return c
    known = _linked.get(id(c))
    if known is not None and known[0] is c and known[1] == folder and all(
            _signature(_quiet_stat(path)) == signature for path, signature in known[2]):
        return known[3]
    global _looked
    _looked = []
    try:
        linked = _link(c, folder)
        looked = tuple(dict.fromkeys(_looked))
    finally:
        _looked = None
    if len(_linked) >= CACHE_SIZE:
        del _linked[next(iter(_linked))]
    _linked[id(c)] = (c, folder, looked, linked)
    return linked


def _link(c: Container, folder: str) -> Container:
    build = c.build
    assert build is not None and build.context is not None
    context = os.path.normpath(os.path.join(folder, build.context))
    dockerfile = os.path.join(context, build.dockerfile or "Dockerfile")
    image = _inline_image(build) if build.inline is not None else _image(dockerfile)
    if image is None:
        return replace(c, build=replace(build, unknown=f"its Dockerfile {dockerfile} cannot be read"))
    if not image.stages:
        return replace(c, build=replace(build, image=image, unknown="its Dockerfile has no stage"))
    if build.target is None:
        stage = len(image.stages) - 1
    else:
        named = [i for i, s in enumerate(image.stages) if s.name is not None and s.name.lower() == build.target.lower()]
        if not named:
            return replace(c, build=replace(build, image=image, unknown=f"target {build.target!r} is not a stage of "
                                                                        f"{image.path}"))
        stage = named[0]
    linked = replace(build, context=context, image=image, stage=stage)
    return replace(c, build=replace(linked, scripts=_scripts(replace(c, build=linked), context)))


def _scripts(c: Container, context: str) -> tuple[Script, ...]:
    """The files the container's processes run that its image COPYs from the
    context, read and parsed, following the scripts they run in turn."""
    assert c.build is not None and c.build.image is not None and c.build.stage is not None
    from caplint import filecaps

    stages = filecaps.chain(c.build.image, c.build.stage)
    copies = [cp for s in stages for cp in s.copies if cp.from_stage is None]
    workdir = stages[-1].workdir
    found: dict[str, Script] = {}
    todo = evidence.scripts_run(evidence.processes(c)[0])
    for _ in range(evidence.MAX_SCRIPT_DEPTH):
        more: list[str] = []
        for path in todo:
            if path in found:
                continue
            source = _source_of(path, copies, workdir, context)
            process = _shell_script(source) if source is not None else None
            found[path] = Script(path, source, process)
            if process is not None:
                more += evidence.scripts_run([process])
        todo = more
    return tuple(found.values())


def _source_of(path: str, copies: list[Copy], workdir: str, context: str) -> str | None:
    """The context file a COPY puts at `path` (a bare name: anywhere the COPYs put one; the last COPY wins)."""
    bare = "/" not in path
    wanted = posixpath.normpath(posixpath.join(workdir, path))
    for copy in reversed(copies):
        dest = posixpath.normpath(posixpath.join(copy.workdir, copy.dest))
        into_folder = copy.dest.endswith("/") or len(copy.sources) > 1
        for source in copy.sources:
            if "*" in source or "?" in source or source.startswith(("http://", "https://")):
                continue
            on_disk = os.path.normpath(os.path.join(context, source))
            outside = os.path.relpath(on_disk, context)
            if outside == os.pardir or outside.startswith(os.pardir + os.sep):
                continue  # (a context of `.`, for a Compose file named without a folder, is a prefix of nothing)
            if _is_dir(on_disk):
                rest = posixpath.relpath(wanted, dest) if wanted.startswith(dest.rstrip("/") + "/") else None
                if rest is not None and _is_file(os.path.join(on_disk, rest)):
                    return os.path.join(on_disk, rest)
                continue
            target = posixpath.join(dest, posixpath.basename(source)) if into_folder else dest
            if target == wanted or (bare and posixpath.basename(target) == path):
                return on_disk if _is_file(on_disk) else None
    return None


def _shell_script(path: str) -> Process | None:
    """A file's commands if it is a shell script (a `.sh` name or a shell
    shebang); None for a program caplint does not read (Python, a binary).
    Parsed once while the file is unchanged: every service that builds the
    image runs it, and the language server links them on every keystroke."""
    key = _stat_key(path)
    if key is None:
        return None
    if key not in _processes:
        _remember(_processes, key, _read_script(path))
    return _processes[key]


def _read_script(path: str) -> Process | None:
    text = _read(path, MAX_SCRIPT_BYTES)
    if text is None:
        return None
    first = text.split("\n", 1)[0].encode("utf-8", "replace")
    interpreter = first[2:].split()[-1:] if first.startswith(b"#!") else []
    if first.startswith(b"#!") and first[2:].split()[:1] == [b"/usr/bin/env"]:
        interpreter = first[2:].split()[1:2]
    shell = bool(interpreter) and os.path.basename(interpreter[0].decode()) in {s.decode() for s in _SHEBANG_SHELLS}
    if not shell and not (not first.startswith(b"#!") and path.endswith((".sh", ".bash"))):
        return None
    from caplint.formats.shell import commands as sh

    found, problems = sh.commands(text, path, embedded=[])
    why = problems[0].message if problems else ""
    return Process("script", Span.point(path, 1), tuple(found), not why, why)


def _stat_key(path: str) -> tuple[str, int, int] | None:
    st = _stat(path)
    return None if st is None else (path, st.st_mtime_ns, st.st_size)


def _stat(path: str) -> os.stat_result | None:
    """`os.stat`, None where it fails; noted while a link is made (see link)."""
    st = _quiet_stat(path)
    if _looked is not None:
        _looked.append((path, _signature(st)))
    return st


def _quiet_stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _signature(st: os.stat_result | None) -> tuple[int, int, int] | None:
    return None if st is None else (st.st_mode, st.st_mtime_ns, st.st_size)


def _is_file(path: str) -> bool:
    st = _stat(path)
    return st is not None and stat.S_ISREG(st.st_mode)


def _is_dir(path: str) -> bool:
    st = _stat(path)
    return st is not None and stat.S_ISDIR(st.st_mode)


def _read(path: str, limit: int | None = None) -> str | None:
    key = _stat_key(path)
    if key is None:
        return None
    if key in _texts:
        return _texts[key]
    from caplint.reading import ReadError, read_file

    try:
        text: str | None = read_file(path, **({"max_bytes": limit} if limit else {}))
    except ReadError:
        text = None
    return _remember(_texts, key, text)


def _image(path: str) -> Image | None:
    key = _stat_key(path)
    if key is None or not _is_file(path):
        return None
    if key in _images:
        return _images[key]
    text = _read(path)
    image = None
    known = _parsed.get(path)
    if text is not None and known is not None and known[0] == _identity(text):
        image = known[1]
    elif text is not None:
        from caplint.formats.dockerfile.parser import parse

        images = parse(text, path).images
        image = images[0] if images else Image(path, Span.point(path, 1))
    return _remember(_images, key, image)


def _load(text: str, path: str) -> tuple[Any, Problem | None]:
    """A YAML node tree, loaded once per process for the same file and text:
    a stack's files are each other's partners, and the tree is only read."""
    from caplint.formats import yamlnodes

    known = _trees.get(path)
    if known is not None and known[0] == _identity(text):
        return known[1], known[2]
    root, problem = yamlnodes.load(text, path)
    if len(_trees) >= CACHE_SIZE:
        del _trees[next(iter(_trees))]
    _trees[path] = (_identity(text), root, problem)
    return root, problem


def _identity(text: str) -> tuple[int, int]:
    return len(text), hash(text)


def remember_image(path: str, text: str, result: ParseResult) -> None:
    """A Dockerfile the engine has just parsed, kept for the services that build it."""
    if result.images and os.path.isfile(path):
        _parsed[path] = (_identity(text), result.images[0])
        if len(_parsed) > CACHE_SIZE:
            del _parsed[next(iter(_parsed))]


def _inline_image(build: Build) -> Image:
    """`dockerfile_inline`, parsed with its lines where the Compose file has them."""
    from caplint.formats.dockerfile.parser import parse

    assert build.inline is not None
    inline = build.inline
    path = inline.span.path
    # A block scalar's text starts on the line after `dockerfile_inline: |`.
    pad = "\n" * (inline.span.line if "\n" in inline.value else inline.span.line - 1)
    images = parse(pad + inline.value, path).images
    return images[0] if images else Image(path, inline.span)
