"""Random layer stacks (files, folders, symlinks, hard links, deletions, opaque
folders, setuid bits, capabilities), built as real tars and read by caplint,
compared with a plain reference model of the final filesystem: a flat dict of
paths, written from the OCI changeset rules without caplint's tree."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imagebuild import Ent, Img, caps, docker_save, file, folder, hardlink, layer, opaque, symlink, whiteout

from caplint.image import scan

NAMES = ("a", "b", "c")
PATHS = [p for p in ("a", "b", "c", "a/b", "a/c", "b/a", "a/b/c", "a/b/a", "c/a/b")]
CAP = caps("NET_ADMIN")

entry = st.one_of(
    st.builds(lambda p, m, c: file(p, m, CAP if c else None), st.sampled_from(PATHS),
              st.sampled_from([0o755, 0o4755, 0o2755]), st.booleans()),
    st.builds(lambda p: folder(p), st.sampled_from(PATHS)),
    st.builds(lambda p: symlink(p, "a"), st.sampled_from(PATHS)),
    st.builds(lambda p: whiteout(p), st.sampled_from(PATHS)),
    st.builds(lambda p: opaque(p), st.sampled_from([p for p in PATHS if "/" not in p or p.count("/") == 1])),
)


@st.composite
def stacks(draw: st.DrawFn) -> list[list[Ent]]:
    """Layers of entries; a hard link mostly names a file that exists at that
    point (a link to nothing is also tried: both sides must refuse it)."""
    layers: list[list[Ent]] = []
    for _ in range(draw(st.integers(1, 4))):
        entries: list[Ent] = []
        layers.append(entries)
        for _ in range(draw(st.integers(0, 8))):
            if draw(st.integers(0, 3)) == 0:
                try:
                    files = sorted(p[1:] for p, kind in _apply(layers)[1].items() if kind == "file")
                except Broken:
                    files = []
                if files and draw(st.integers(0, 19)):
                    target = draw(st.sampled_from(files))
                elif draw(st.integers(0, 19)) == 0:
                    target = draw(st.sampled_from(PATHS))  # most likely a link to nothing
                else:
                    continue
                entries.append(hardlink(draw(st.sampled_from(PATHS)), target,
                                        draw(st.sampled_from([0o755, 0o4755])), CAP if draw(st.booleans()) else None))
            else:
                entries.append(draw(entry))
    return layers


class Broken(Exception):
    pass


def reference(layers: list[list[Ent]]) -> dict[str, tuple[int, bool]]:
    """Final notable files: path → (mode, has capabilities)."""
    return _apply(layers)[0]


def _apply(layers: list[list[Ent]]) -> tuple[dict[str, tuple[int, bool]], dict[str, str]]:
    """(notable files, every path → its kind)."""
    state: dict[str, tuple[str, int, int]] = {}  # path → (kind, layer, inode)
    meta: dict[int, tuple[int, bool]] = {}
    counter = 0

    def under(path: str, top: str) -> bool:
        return path == top or path.startswith(top + "/")

    def remove(top: str) -> None:
        for q in [q for q in state if under(q, top)]:
            del state[q]

    for n, entries in enumerate(layers):
        for e in entries:
            parent, _, name = e.path.rpartition("/")
            prefix = ""
            for part in parent.split("/") if parent else ():
                prefix = f"{prefix}/{part}" if prefix else part
                if prefix in state and state[prefix][0] == "dir":
                    state[prefix] = ("dir", n, 0)
                else:
                    remove(prefix)
                    state[prefix] = ("dir", n, 0)
            if name == ".wh..wh..opq":
                for q in [q for q in state if parent == "" or q.startswith(parent + "/")]:
                    if state[q][1] < n:
                        del state[q]
            elif name.startswith(".wh."):
                gone = f"{parent}/{name[4:]}" if parent else name[4:]
                for q in [q for q in state if under(q, gone)]:
                    if state[q][1] < n:
                        del state[q]
            elif e.kind == "dir":
                if e.path not in state or state[e.path][0] != "dir":
                    remove(e.path)
                state[e.path] = ("dir", n, 0)
            elif e.kind == "hardlink":
                if e.target not in state or state[e.target][0] == "dir":
                    raise Broken
                kind, _, inode = state[e.target]
                remove(e.path)
                state[e.path] = (kind, n, inode)
                if kind == "file":
                    meta.pop(inode, None)
                    if e.mode & 0o6000 or e.caps:
                        meta[inode] = (e.mode, e.caps is not None)
            else:
                counter += 1
                remove(e.path)
                state[e.path] = (e.kind, n, counter)
                if e.kind == "file" and (e.mode & 0o6000 or e.caps):
                    meta[counter] = (e.mode, e.caps is not None)
    notable = {f"/{p}": meta[i] for p, (kind, _, i) in state.items() if kind == "file" and i in meta}
    return notable, {f"/{p}": kind for p, (kind, _, _) in state.items()}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks())
def test_caplint_applies_layers_like_the_reference(layers: list[list[Ent]]) -> None:
    try:
        want: dict[str, tuple[int, bool]] | None = reference(layers)
    except Broken:
        want = None
    with tempfile.TemporaryDirectory() as tmp:
        path = docker_save(Path(tmp) / "app.tar", Img([layer(*entries) for entries in layers], user="1"))
        result = scan(str(path))
    if want is None:
        assert [p.message for p in result.problems] and "hard link" in result.problems[0].message
        return
    assert result.problems == []
    (image,) = result.images
    got = {f.path: (f.mode, f.capability is not None) for f in image.saved.files}
    assert got == want


@given(st.lists(st.sampled_from(["a", "b.c", ".", "..", "", ".d", "e.."]), max_size=6),
       st.sampled_from(["", "/", "./"]), st.booleans())
def test_member_names_are_cleaned_or_refused_like_docker(parts: list[str], lead: str, trailing: bool) -> None:
    from caplint.image.layers import clean_name
    from caplint.image.streams import ImageError

    name = lead + "/".join(parts) + ("/" if trailing else "")
    kept = [p for p in name.split("/") if p not in ("", ".")]
    try:
        got: str | None = clean_name(name, "member")
    except ImageError:
        got = None
    assert got == (None if name.startswith("/") or ".." in kept else "/".join(kept))
