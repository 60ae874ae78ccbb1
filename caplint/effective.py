"""`caplint caps`: each container's effective capability set and where each came from."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from caplint import capabilities as caps, evidence
from caplint.model import Container, ImageFile, Located, ParseResult, SavedImage


def _named(values: tuple[Located[str], ...]) -> list[tuple[Located[str], str]]:
    return [(loc, name) for loc in values if loc.resolved and (name := caps.normalize(loc.value)) is not None]


def effective_capabilities(c: Container) -> frozenset[str]:
    """The capabilities the container ends up with, from the names that are known."""
    privileged = c.privileged is not None and c.privileged.value
    return caps.effective_set([n for _, n in _named(c.cap_add)], [n for _, n in _named(c.cap_drop)],
                              privileged=privileged, runtime=c.runtime)


def provenance(c: Container) -> dict[str, str]:
    """Each capability the container ends up with → why it has it."""
    def where(loc: Located[str] | Located[bool]) -> str:
        return f"{loc.span.path}:{loc.span.line}"

    added = {name: loc for loc, name in reversed(_named(c.cap_add))}  # the first mention wins
    result: dict[str, str] = {}
    for name in sorted(effective_capabilities(c)):
        if c.privileged is not None and c.privileged.value:
            result[name] = f"privileged ({where(c.privileged)})"
        elif name in added:
            result[name] = f"added ({where(added[name])})"
        elif caps.ALL in added:
            result[name] = f"ALL added ({where(added[caps.ALL])})"
        else:
            result[name] = f"{c.runtime} default"
    return result


def _unresolved(c: Container) -> list[str]:
    return [loc.raw for loc in (*c.cap_add, *c.cap_drop) if not loc.resolved]


def describe(c: Container, image: SavedImage | None = None, image_path: str = "") -> str:
    lines = [f"{c.span.path}:{c.span.line}: {c.name} ({c.runtime})"]
    unknown = _unresolved(c)
    have = provenance(c)
    lines.append(f"  {len(have)} of {len(caps.CAPABILITIES)} capabilities"
                 + (f"; depends on unset variables: {', '.join(unknown)}" if unknown else ""))
    for name, why in have.items():
        tier = caps.CAPABILITIES[name].tier.value
        lines.append(f"    {name:<20} {tier:<9} {why}")
    lines += _describe_suggestion(evidence.suggest(c))
    if image is not None:
        lines.extend(_image_lines(c, image, image_path, frozenset(have)))
    return "\n".join(lines)


def _no_new_privileges(c: Container) -> bool:
    from caplint.rules.confinement import security_options

    return any(key == "no-new-privileges" and value.lower() in ("", "true", "1")
               for _, key, value in security_options(c))


def _image_user(c: Container, image: SavedImage) -> tuple[Located[str] | None, str, bool]:
    """(the user the process runs as, where that is set, whether it is root): the
    container's own `user` first, else the image config's `User`."""
    from caplint.rules.users import is_root

    user: Located[str] | None = c.user or image.user
    why = f"{c.user.span.path}:{c.user.span.line}" if c.user is not None else "the image config's User"
    return user, why, user is None or is_root(user)


def _image_lines(c: Container, image: SavedImage, path: str, have: frozenset[str]) -> list[str]:
    """What the scanned image adds to the reasoning: who the process runs as,
    and what its file capabilities and setuid files do under this set."""
    lines = [f"  image {image.reference} ({image.platform or 'platform unknown'}) from {path}"]
    user, why, root = _image_user(c, image)
    shown = "root (the image sets no User)" if user is None else f"{user.shown} ({why})"
    lines.append(f"    user: {shown}")
    if not root:
        lines.append("    a non-root process holds none of the capabilities above after execve, "
                     "except through the files below")
    nnp = _no_new_privileges(c)
    if nnp and image.files:
        lines.append("    no-new-privileges: setuid bits and file capabilities grant nothing here")
    for file in image.files:
        verdict = _file_verdict(file, have, root, nnp)
        if verdict:
            lines.append(f"    {file.path}  {verdict}")
    return lines


def _file_verdict(file: ImageFile, have: frozenset[str], root: bool, nnp: bool) -> str:
    """What running `file` does in a container holding `have` (capabilities(7), execve)."""
    parts = []
    cap = file.capability
    if cap is not None:
        # Docker starts processes with an empty inheritable set, so P' = F(P) & bounding.
        missing = sorted(set(cap.permitted) - have)
        gained = sorted(set(cap.permitted) & have)
        if cap.effective and missing:
            parts.append(f"{cap.text}: execve fails (EPERM), {', '.join(missing)} not in the container's set")
        elif nnp or root:
            parts.append(f"{cap.text}: adds nothing" + (" (no-new-privileges)" if nnp else " (root has the set)"))
        elif gained:
            parts.append(f"{cap.text}: whoever runs it gets {', '.join(gained)}"
                         + ("" if cap.effective else " (permitted; the program raises them)"))
        else:
            parts.append(f"{cap.text}: grants nothing the container has")
    if file.mode & 0o6000:
        kind = "setuid " + file.owner if file.mode & 0o4000 else "setgid " + file.group
        if nnp:
            parts.append(f"{kind}: ignored (no-new-privileges)")
        elif file.mode & 0o4000 and file.uid == 0 and not root:
            parts.append(f"{kind}: runs as root with the whole set above")
        else:
            parts.append(kind)
    return "; ".join(parts)


def _describe_suggestion(s: evidence.Suggestion) -> list[str]:
    if s.complete:
        wanted = f"cap_add: [{', '.join(s.cap_add)}]" if s.cap_add else "nothing added"
        lines = [f"  needs: cap_drop: [ALL], {wanted}"]
    elif s.evidence:
        lines = [f"  needs at least: cap_add: [{', '.join(s.cap_add)}] (incomplete: {s.unknown})"]
    else:
        lines = [f"  needs: not known ({s.unknown})"]
    if s.note:
        lines.append(f"    {s.note}")
    lines += [f"    {e.capability:<20} {e.span.path}:{e.span.line}  {e.reason}" for e in s.evidence]
    return lines


def image_json(c: Container, image: SavedImage, path: str) -> dict[str, Any]:
    """The scanned image's facts that `caplint caps` used for container `c`: who
    its process runs as, and each file capability and setuid/setgid file with
    what running it does under the container's set (the text's `verdict`)."""
    user, why, root = _image_user(c, image)
    have = frozenset(provenance(c))
    nnp = _no_new_privileges(c)
    files = []
    for file in image.files:
        cap = file.capability
        files.append({
            "path": file.path,
            "mode": f"{file.mode:04o}",
            "owner": file.owner,
            "group": file.group,
            "uid": file.uid,
            "gid": file.gid,
            "setuid": bool(file.mode & 0o4000),
            "setgid": bool(file.mode & 0o2000),
            "capabilities": None if cap is None else {
                "text": cap.text, "permitted": list(cap.permitted), "inheritable": list(cap.inheritable),
                "effective": cap.effective, "version": cap.version, "rootid": cap.rootid},
            "verdict": _file_verdict(file, have, root, nnp),
        })
    return {
        "reference": image.reference,
        "platform": image.platform or None,
        "path": path,
        "user": None if user is None else user.shown,
        "user_from": None if user is None else why,
        "root": root,
        "no_new_privileges": nnp,
        "files": files,
    }


def as_json(c: Container, image: tuple[SavedImage, str] | None = None) -> dict[str, Any]:
    """One container in the documented `caplint caps --format json` shape; `image`
    (a scanned image and its path) adds the `image` facts, else `image` is null."""
    s = evidence.suggest(c)
    known = not _unresolved(c)
    return {
        "name": c.name,
        "path": c.span.path,
        "line": c.span.line,
        "runtime": c.runtime,
        "effective": sorted(effective_capabilities(c)) if known else None,
        "sources": provenance(c) if known else {},
        "suggested": {
            "cap_add": list(s.cap_add),
            "evidence": [{"capability": e.capability, "path": e.span.path, "line": e.span.line, "reason": e.reason}
                         for e in s.evidence],
            "complete": s.complete,
            "unknown": s.unknown,
        },
        "image": image_json(c, *image) if image is not None else None,
    }


def parse_file(path: str, kind: str, runtime: str | None = None) -> ParseResult:
    """One file's containers as `caplint check` sees them: merged with its
    stack and linked to the images it builds."""
    from caplint.engine import detect_kind, parse_assembled
    from caplint.reading import ReadError, read_file

    try:
        text = read_file(path)
    except ReadError as err:
        return ParseResult(problems=[err.problem])
    kind = kind if kind != "unknown" else (detect_kind(path, text) or "unknown")
    if kind == "unknown":
        return ParseResult()
    return parse_assembled(path, text, kind, runtime)


def containers(paths: Sequence[str], runtime: str | None = None) -> tuple[list[Container], list[str]]:
    """Every container declared under `paths`, once (a stack's merged service is
    listed under the file that declares it), and what could not be read."""
    from caplint.discover import discover

    out: list[Container] = []
    problems: list[str] = []
    seen: set[tuple[str, int, str]] = set()
    for found in discover(paths):
        result = parse_file(found.path, found.kind, runtime)
        for c in result.containers:
            key = (os.path.normpath(c.span.path), c.span.line, c.name)
            if (c.complete or c.cap_add or c.privileged) and key not in seen:
                seen.add(key)
                out.append(c)
        problems.extend(f"{p.span.path}:{p.span.line}: cannot read: {p.message}" for p in result.problems
                        if os.path.normpath(p.span.path) == os.path.normpath(found.path))
    return out, problems


def text_containers(path: str, text: str, runtime: str | None = None) -> tuple[list[Container], list[str]]:
    """For stdin: the containers of `text` read as the file `path` would be."""
    from caplint.engine import detect_kind, parse_assembled

    kind = detect_kind(path, text)
    result = ParseResult() if kind is None else parse_assembled(path, text, kind, runtime)
    found = [c for c in result.containers if c.complete or c.cap_add or c.privileged]
    return found, [f"{p.span.path}:{p.span.line}: cannot read: {p.message}" for p in result.problems]


def _render(found: list[Container], problems: list[str], fmt: str,
            scanned: Mapping[str, tuple[SavedImage, str]] | None = None) -> str:
    def match(c: Container) -> tuple[SavedImage, str] | None:
        return (scanned or {}).get(normalize_reference(c.image.value)) if c.image and c.image.resolved else None

    if fmt == "json":
        import json

        doc: dict[str, Any] = {"containers": [as_json(c, match(c)) for c in found]}
        if scanned is not None:
            doc["problems"] = problems
        return json.dumps(doc, indent=2) + "\n"
    blocks: list[str] = []
    for c in found:
        image = match(c)
        blocks.append(describe(c, *image) if image else describe(c))
    blocks += problems
    return "\n\n".join(blocks) + ("\n" if blocks else "no containers found\n")


def render_paths(paths: Sequence[str], runtime: str | None = None, fmt: str = "text") -> str:
    return _render(*containers(paths, runtime), fmt)


def render_text(path: str, text: str, runtime: str | None = None, fmt: str = "text") -> str:
    return _render(*text_containers(path, text, runtime), fmt)


def describe_paths(paths: Sequence[str], runtime: str | None = None, images: Mapping[str, str] | None = None,
                   fmt: str = "text", verify: bool = True) -> str:
    """Each container's set; `images` maps an image name (`example/app:1`) to a
    scanned image (a `docker save` tarball, an OCI layout) that containers
    running that image are judged with."""
    problems: list[str] = []
    scanned: dict[str, tuple[SavedImage, str]] = {}
    for name, path in (images or {}).items():
        saved, image_problems = scanned_image(name, path, verify)
        problems.extend(f"{path}: cannot read: {p}" for p in image_problems)
        if saved is not None:
            scanned[normalize_reference(name)] = (saved, path)
    found, file_problems = containers(paths, runtime)
    return _render(found, problems + file_problems, fmt, scanned)


def json_paths(paths: Sequence[str], runtime: str | None = None) -> str:
    return render_paths(paths, runtime, "json")


def scanned_image(name: str, path: str, verify: bool = True) -> tuple[SavedImage | None, list[str]]:
    """The image in `path` that `name` runs: the one tagged so, else the only
    one; of several platforms, linux/amd64 where there is one, else the first."""
    from caplint.image import Options
    from caplint.image.lint import scan

    result = scan(path, Options(verify=verify))
    problems = [p.message for p in result.problems]
    saved = [i.saved for i in result.images if i.saved is not None]
    wanted = normalize_reference(name)
    tagged = [s for s in saved if any(normalize_reference(n) == wanted for n in s.names)]
    candidates = tagged or (saved if len({s.names for s in saved}) == 1 else [])
    if not candidates:
        if saved:
            problems.append(f"no image tagged {name} in it (it has {', '.join(s.reference for s in saved)})")
        return None, problems
    return next((s for s in candidates if s.platform == "linux/amd64"), candidates[0]), problems


def normalize_reference(name: str) -> str:
    """`nginx` → `docker.io/library/nginx:latest`, as Docker reads an image name."""
    name = name.strip()
    name, at, digest = name.partition("@")
    first, slash, rest = name.partition("/")
    if not slash or not ("." in first or ":" in first or first == "localhost"):
        first, rest = "docker.io", name
    if first == "docker.io" and "/" not in rest:
        rest = f"library/{rest}"
    if ":" not in rest.rsplit("/", 1)[-1] and not at:
        rest += ":latest"
    return f"{first}/{rest}{at}{digest}".lower()
