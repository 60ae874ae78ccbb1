"""Compose files → one Container per service.

Works on ruamel.yaml's node tree (see yamlnodes) so every value keeps the line
and column where it is written — inside an anchor or a merged mapping too.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Optional, TypeVar

from caplint.model import Build, Container, Device, Located, Mount, ParseResult, Problem, Process, Span
from caplint.formats import yamlnodes as yn
from caplint.formats.compose.volumes import device_entry, volume_entry
from caplint.formats.compose.interpolation import environment_for, interpolate
from caplint.formats.compose import loading, runtime
from caplint.values import field, record

# Keys that show a mapping under `services` really describes containers.
_SERVICE_KEYS = frozenset({"image", "build", "command", "entrypoint", "privileged", "cap_add", "cap_drop",
                           "volumes", "ports", "environment", "extends", "network_mode", "security_opt",
                           "devices", "user", "pid", "ipc", "restart", "container_name", "depends_on"})
_V1_KEYS = frozenset({"image", "build", "extends"})
MAX_EXTENDS_DEPTH = 10


@record
class _Doc:
    """One Compose file being read: its path, nodes, environment and problems."""

    path: str
    root: Any
    env: Mapping[str, str]
    problems: list[Problem] = field(default_factory=list)
    services: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    volumes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    shown_path: str = ""  # how the `extends: file:` that reached it names this file

    def span_of(self, node: Any) -> Span:
        """Where a finding about `node` should point."""
        return yn.span(node, self.path)


Loader = Callable[[str, str], tuple[Any, Optional[Problem]]]


def parse(text: str, path: str, *, require_services: bool = False, load: Loader = yn.load,
          reuse: Reuse | None = None) -> ParseResult:
    """Lint-model of a Compose file; with `require_services`, a YAML file that
    is not Compose (a CI config, a Kubernetes manifest, a Helm template) yields
    nothing at all rather than noise. `reuse`, kept across parses of one
    document, spares re-reading and re-building the services an edit left as
    they were (the result is the same)."""
    if reuse is not None:
        from caplint.formats import yamledit  # the language server's: not loaded for a one-file run

        reuse.loaded = yamledit.load(text, path, "services", reuse.base)
        if reuse.loaded.layout is not None:
            # The next edit is read against this; a text that broke the YAML
            # (half-typed, as most are for a moment) leaves the last good one the base.
            reuse.base = reuse.loaded
        root, problem = reuse.loaded.root, reuse.loaded.problem
    else:
        root, problem = load(text, path)
    if problem is not None:
        return ParseResult(problems=[] if require_services else [problem])
    if yn.is_null(root):
        return ParseResult()
    doc = _Doc(path, root, _environment(path, text))
    if not _find_services(doc, require_services):
        return ParseResult(problems=doc.problems)
    override = "override" in os.path.basename(path).lower()
    if reuse is not None and reuse.applies(doc, text, override):
        return reuse.parse(doc, override)
    _loading_problems(doc)
    containers = [
        c for name, (key, node) in doc.services.items()
        if (c := _service(doc, name, key, node, partial_file=override)) is not None
    ]
    return ParseResult(containers=containers, problems=doc.problems)


class Reuse:
    """What the last parse of one document (an editor buffer) built from each
    of its services, for the next parse of it after an edit. The tree is read
    again in place (`yamledit`), so a service the edit did not touch is the
    very same nodes, and what `parse` builds from them — its container, its
    problems — depends on nothing else but the file's path, environment and
    top-level `volumes` (the same nodes too), or nothing is reused. Not for
    a file with `extends` (a service built from another) or with an alias
    (yamledit then parses whole)."""

    def __init__(self) -> None:
        self.loaded: Any = None  # yamledit.Loaded: this parse's tree
        self.base: Any = None  # the last that can be read again in place
        self._context: tuple[str, bool, Mapping[str, str], Any] | None = None
        # name → (key node, value node, loading problems, container, its other problems)
        self._built: dict[str, tuple[Any, Any, list[Problem], Container | None, list[Problem]]] = {}

    def applies(self, doc: _Doc, text: str, override: bool) -> bool:
        layout = self.loaded.layout if self.loaded is not None else None
        if layout is None or layout.parent != "services" or "<<" in layout.names or "extends" in text:
            return False
        # A service's mounts read the top-level volumes (a named volume that binds a host path).
        volumes = yn.mapping_items(doc.root).get("volumes", (None, None))[1]
        context = (doc.path, override, doc.env, volumes)
        old = self._context
        if old is None or old[:3] != context[:3] or old[3] is not volumes:
            self._built = {}
            self._context = context
        return True

    def parse(self, doc: _Doc, override: bool) -> ParseResult:
        for node, message in loading.file_problems(doc.root, doc.env, skip=[n for _, n in doc.services.values()]):
            doc.problems.append(Problem(yn.span(node, doc.path), message))
        built: dict[str, tuple[Any, Any, list[Problem], Container | None, list[Problem]]] = {}
        for name, (key, node) in doc.services.items():
            kept = self._built.get(name)
            if kept is None or kept[0] is not key or kept[1] is not node:
                loaded = [Problem(yn.span(n, doc.path), message) for n, message in loading.service_problems(name, node, doc.env)]
                found = len(doc.problems)
                container = _service(doc, name, key, node, partial_file=override)
                kept = (key, node, loaded, container, doc.problems[found:])
                del doc.problems[found:]
            built[name] = kept
        self._built = built
        containers: list[Container] = []
        for _, _, loaded, _, _ in built.values():
            doc.problems.extend(loaded)  # loading problems first, as _loading_problems has them
        for _, _, _, container, problems in built.values():
            doc.problems.extend(problems)
            if container is not None:
                containers.append(container)
        return ParseResult(containers=containers, problems=doc.problems)


def parse_stack(files: list[tuple[str, str]], *, load: Loader = yn.load) -> ParseResult:
    """The containers that really run when Compose reads `files` (path, text)
    together, in order: each service merged across them by Compose's rules.

    A service is declared where it first appears (its whole-container findings
    belong there); each value keeps the file and line it is written on. A merge
    Compose refuses (a list in one file, a string in the next) is a problem at
    the later value, whose layer is then left out, not guessed at."""
    docs: list[_Doc] = []
    problems: list[Problem] = []
    for path, text in files:
        root, problem = load(text, path)
        if problem is not None:
            problems.append(problem)
            continue
        if yn.is_null(root):
            continue
        doc = _Doc(path, root, _environment(path, text), problems)
        if _find_services(doc, False):
            _loading_problems(doc)
            docs.append(doc)
    declared: dict[str, tuple[_Doc, Any]] = {}
    merged: dict[str, dict[str, list[Layer]]] = {}
    for doc in docs:
        for name, (key, node) in doc.services.items():
            if yn.is_null(node) and name in declared:
                continue  # `web:` with nothing under it adds nothing
            if not yn.is_map(node):
                _service(doc, name, key, node, partial_file=True)  # its problem
                continue
            fields = _with_extends(doc, name, node, 0)
            if name not in declared:
                declared[name], merged[name] = (doc, key), fields
            else:
                _merge_into(merged[name], fields, f"service {name!r}", problems)
    containers = [_container(doc, name, key, merged[name], partial_file=False)
                  for name, (doc, key) in declared.items()]
    # Compose checks its schema after merging each file in turn, so a value a
    # later file replaces must also pass it where it is written: each file is
    # read on its own too, for its problems (those of the merge are also its).
    for doc in docs:
        for name, (key, node) in doc.services.items():
            if yn.is_map(node):
                _container(doc, name, key, _with_extends(doc, name, node, 0), partial_file=True)
    return ParseResult(containers=containers, problems=list(dict.fromkeys(problems)))


# Keys whose short and long forms Compose turns into one shape before merging,
# so a string in one file and a mapping in the next is no clash.
_CANONICAL = frozenset({"build", "environment", "labels", "depends_on", "networks", "env_file", "dns", "dns_search",
                        "tmpfs", "extends", "command", "entrypoint", "sysctls", "annotations", "ulimits", "extra_hosts",
                        "healthcheck", "logging", "deploy", "develop", "secrets", "configs"})
_ALL_LAYERS = frozenset({"build", "healthcheck"})  # mappings the readers merge key by key
_SHAPES = {"scalar": "string", "sequence": "list", "mapping": "mapping"}


def _merge_into(base: dict[str, list[Layer]], over: dict[str, list[Layer]], label: str, problems: list[Problem]) -> None:
    for key, layers in over.items():
        if key not in base:
            base[key] = layers
            continue
        before, after = base[key][-1][1], layers[0][1]
        if key not in _CANONICAL and not yn.is_null(after) and not yn.is_null(before) and before.id != after.id:
            where = f"{os.path.basename(base[key][-1][2].path)}:{before.start_mark.line + 1}"
            problems.append(Problem(yn.span(after, layers[0][2].path),
                                    f"{label}: {key} is a {_SHAPES[after.id]} here but a {_SHAPES[before.id]} in {where}: "
                                    "Compose refuses to merge these files (cannot override); this value was not used"))
            continue
        base[key] = base[key] + layers if key in _MERGED_LISTS or key in _ALL_LAYERS else layers


def _find_services(doc: _Doc, require_services: bool) -> bool:
    if not yn.is_map(doc.root):
        if not require_services:
            doc.problems.append(Problem(yn.span(doc.root, doc.path),
                                        "the top level is not a mapping, so this is not a Compose file caplint can read"))
        return False
    top = yn.mapping_items(doc.root)
    if "services" in top:
        key, services = top["services"]
        if yn.is_null(services):
            return False
        if not yn.is_map(services):
            if not require_services:
                doc.problems.append(Problem(yn.span(services, doc.path),
                                            f"'services' is a {services.id}, not a mapping of service names; nothing in it was checked"))
            return False
        doc.services = {k: v for k, v in yn.mapping_items(services).items()}
        if require_services and not _looks_like_compose(doc.services):
            return False
    elif not require_services and _looks_like_v1(top):
        # Compose file format v1: services at the top level, no `services:` key.
        doc.services = {k: v for k, v in top.items() if not k.startswith("x-") and k != "version"}
    else:
        return False
    if "volumes" in top and yn.is_map(top["volumes"][1]):
        doc.volumes = yn.mapping_items(top["volumes"][1])
    return True


def _environment(path: str, text: str) -> Mapping[str, str]:
    """What Compose interpolates the file with — and every file its `extends` reach."""
    return environment_for(path) if "$" in text or "extends" in text else {}


def _loading_problems(doc: _Doc) -> None:
    """What Compose refuses while loading the file itself (see loading), where it is written."""
    for node, message in loading.file_problems(doc.root, doc.env):
        doc.problems.append(Problem(yn.span(node, doc.path), message))


def _looks_like_compose(services: dict[str, tuple[Any, Any]]) -> bool:
    values = [node for _, node in services.values()]
    return bool(values) and all(yn.is_map(v) or yn.is_null(v) for v in values) and any(
        yn.is_map(v) and _SERVICE_KEYS & set(yn.mapping_items(v)) for v in values
    )


def _looks_like_v1(top: dict[str, tuple[Any, Any]]) -> bool:
    values = [node for k, (_, node) in top.items() if not k.startswith("x-") and k != "version"]
    return bool(values) and all(yn.is_map(v) and _V1_KEYS & set(yn.mapping_items(v)) for v in values)


def _service(doc: _Doc, name: str, key: Any, node: Any, *, partial_file: bool) -> Container | None:
    label = f"service {name!r}"
    if yn.is_null(node):
        doc.problems.append(Problem(yn.span(key, doc.path), f"{label} is empty; Compose needs at least an image or a build"))
        return None
    if not yn.is_map(node):
        doc.problems.append(Problem(yn.span(node, doc.path), f"{label} is a {node.id}, not a mapping; nothing in it was checked"))
        return None
    return _container(doc, name, key, _with_extends(doc, name, node, 0), partial_file=partial_file)


def _container(doc: _Doc, name: str, key: Any, fields: dict[str, list[Layer]], *, partial_file: bool) -> Container:
    label = f"service {name!r}"
    complete = not partial_file and bool({"image", "build", "extends"} & set(fields))
    reader = _Fields(doc, label, fields)
    build = reader.build()
    for flag in _FLAGS:
        reader.boolean(flag, cast=True)  # not read by any rule: only Compose's schema is checked
    return Container(
        name=label,
        span=yn.span(key, doc.path),
        source_kind="compose",
        complete=complete,
        privileged=reader.boolean("privileged", cast=True),
        cap_add=reader.names("cap_add"),
        cap_drop=reader.names("cap_drop"),
        security_opt=reader.names("security_opt"),
        pid=reader.text("pid"),
        ipc=reader.text("ipc"),
        network=reader.text("network_mode") or reader.text("net"),
        userns=reader.text("userns_mode"),
        uts=reader.text("uts"),
        cgroupns=reader.text("cgroup"),
        mounts=reader.mounts(),
        devices=reader.devices(),
        device_cgroup_rules=reader.names("device_cgroup_rules"),
        user=reader.text("user"),
        image=reader.text("image"),
        build_privileged=build[0],
        build_entitlements=build[1],
        # What a service runs is evidence only with the image it runs in: for
        # a pulled image nothing is known anyway, and a Compose file of pulled
        # images then never needs the shell parser.
        processes=reader.processes() if "build" in fields else (),
        ports=reader.ports(),
        build=reader.build_link(),
    )


# Boolean fields no rule reads, whose numbers Compose's schema refuses (`init: 1`).
_FLAGS = ("init", "tty", "read_only", "stdin_open", "oom_kill_disable")

# Lists whose items Compose's schema requires to differ (as written, before interpolation).
_UNIQUE_ITEMS = frozenset({"security_opt", "device_cgroup_rules"})

# Compose merges these sequences across `extends` instead of replacing them.
_MERGED_LISTS = frozenset({"cap_add", "cap_drop", "security_opt", "device_cgroup_rules", "volumes", "devices",
                           "ports", "expose", "entitlements"})

# One place a field is written: (key node, value node, the document it is in).
Layer = tuple[Any, Any, "_Doc"]


def _with_extends(doc: _Doc, name: str, node: Any, depth: int) -> dict[str, list[Layer]]:
    """The service's fields after `extends`: for each key, the layers that set
    it, the base's first. Merged lists keep every layer; other keys the last."""
    own: dict[str, list[Layer]] = {
        k: [(kn, vn, doc)] for k, (kn, vn) in yn.mapping_items(node).items()
    }
    if "extends" not in own:
        return own
    ext_key, ext, _ = own.pop("extends")[0]
    if depth >= MAX_EXTENDS_DEPTH:
        doc.problems.append(Problem(doc.span_of(ext_key), "extends chain is too deep (a cycle?); not followed"))
        return own
    base_doc: _Doc | None = doc
    base_name = None
    if yn.is_scalar(ext):
        base_name = ext.value
    elif yn.is_map(ext):
        spec = yn.mapping_items(ext)
        base_name = spec["service"][1].value if "service" in spec and yn.is_scalar(spec["service"][1]) else None
        if "file" in spec and yn.is_scalar(spec["file"][1]):
            base_doc = _other_file(doc, ext_key, spec["file"][1])
    if base_doc is None or base_name is None or base_name not in base_doc.services:
        return own
    if base_doc is doc and base_name == name:
        return own
    base = _with_extends(base_doc, base_name, base_doc.services[base_name][1], depth + 1)
    merged = {**base, **own}
    for k in (_MERGED_LISTS | _ALL_LAYERS) & base.keys() & own.keys():
        # A list replaces a base's lone string (which Compose then never
        # checks: the base file is not validated on its own); lists append.
        before, after = base[k][-1][1], own[k][0][1]
        if k in _ALL_LAYERS or not (yn.is_scalar(before) and not yn.is_null(before) and yn.is_seq(after)):
            merged[k] = base[k] + own[k]
    return merged


class _Foreign(_Doc):
    """A document seen through the `extends` line of the file being linted.

    Compose interpolates it with the project's environment (the linted file's,
    `.env` beside that file), and everything found in it belongs to the linted
    file: it points at that file's `extends`, quoting where it came from (the
    other file has its own lint run)."""

    def __init__(self, origin: _Doc, viewer: _Doc, at: Any, shown_path: str) -> None:
        super().__init__(origin.path, origin.root, viewer.env, viewer.problems, origin.services, origin.volumes,
                         shown_path)
        self.viewer = viewer
        self.at = at

    def span_of(self, node: Any) -> Span:
        return self.viewer.span_of(self.at)


# Several services, or files, often extend the same base file: parse it once
# per process, and again only when it changes (the language server lives long).
_other_cache: dict[tuple[str, float], tuple[_Doc | None, str | None]] = {}


def _other_file(doc: _Doc, at: Any, file_node: Any) -> _Foreign | None:
    """The document an `extends: file:` names as `doc` sees it (or None).

    Its problems — it does not parse, or Compose refuses a value while loading
    it, in any of its services — are reported for every file that extends it,
    so what one file's lint learned never changes another's findings."""
    rel, _ = interpolate(file_node.value, doc.env)
    other = os.path.normpath(os.path.join(os.path.dirname(doc.path), rel))
    try:
        key = (other, os.stat(other).st_mtime)
    except OSError:
        key = (other, 0.0)
    if key not in _other_cache:
        _other_cache[key] = _read_other(other)
    result, error = _other_cache[key]
    if error is not None:
        doc.problems.append(Problem(doc.span_of(file_node), f"extends file {rel!r}: {error}"))
    if result is None:
        return None
    shown = rel if not isinstance(doc, _Foreign) else os.path.normpath(os.path.join(os.path.dirname(doc.shown_path), rel))
    for node, message in loading.file_problems(result.root, doc.env):
        doc.problems.append(Problem(doc.span_of(file_node),
                                    f"extends file {shown!r}, line {node.start_mark.line + 1}: {message}"))
    return _Foreign(result, doc, at, shown)


def _read_other(path: str) -> tuple[_Doc | None, str | None]:
    from caplint.reading import ReadError, read_file

    try:
        text = read_file(path)
    except ReadError as err:
        return None, err.problem.message
    root, problem = yn.load(text, path)
    if problem is not None:
        return None, problem.message
    if not yn.is_map(root):
        return None, None
    result = _Doc(path, root, {})
    _find_services(result, True)
    return result, None


Item = TypeVar("Item")


def _last_per_target(items: list[Item], target: Callable[[Item], str | None]) -> tuple[Item, ...]:
    """Compose keeps one volume (or device) per container path, the last written —
    in one list and across `extends` alike — so only that one is mounted."""
    last = {t: i for i, item in enumerate(items) if (t := target(item)) is not None}
    return tuple(item for i, item in enumerate(items) if (t := target(item)) is None or last[t] == i)


class _Fields:
    """Reads one service's fields into located model values."""

    def __init__(self, doc: _Doc, label: str, fields: dict[str, list[Layer]]) -> None:
        self.doc, self.label, self.fields = doc, label, fields

    def _nodes(self, key: str) -> list[tuple[Any, _Doc]]:
        """Value nodes of `key`: every layer of a merged list, else the last."""
        layers = self.fields.get(key)
        if not layers:
            return []
        if key in _MERGED_LISTS or key in _ALL_LAYERS:
            return [(node, doc) for _, node, doc in layers]
        return [(layers[-1][1], layers[-1][2])]

    def located(self, node: Any, doc: _Doc) -> Located[str]:
        raw = str(node.value)
        value, resolved = interpolate(raw, doc.env)
        if isinstance(doc, _Foreign):
            return Located(value, doc.span_of(node), f"{raw} (from {doc.shown_path}:{node.start_mark.line + 1})",
                           resolved)
        return Located(value, yn.span(node, doc.path), raw, resolved)

    def text(self, key: str, *, string: bool = True) -> Located[str] | None:
        """The field's scalar; for a `string` field, a plain number or boolean
        there is reported (Compose's schema refuses `user: 0`) and still read."""
        if key not in self.fields:
            return None
        for node, doc in self._nodes(key):
            if yn.is_scalar(node) and not yn.is_null(node):
                loc = self.located(node, doc)
                kind = yn.implicit_type(node) if string else None
                if kind is not None:
                    self.doc.problems.append(Problem(loc.span, f"{self.label}: {key}: {loc.raw} is {kind}, and Compose "
                                                               f"requires a string here: write \"{loc.raw}\""))
                return loc
        return None

    def boolean(self, key: str, *, cast: bool = False) -> Located[bool] | None:
        """A boolean field. Where Compose `cast`s the field's strings while
        interpolating (`privileged`), a string it refuses is the loading
        check's to report (see loading): here only a number is."""
        loc = self.text(key, string=False)
        if loc is None:
            return None
        if not loc.resolved:
            return Located(False, loc.span, loc.raw, False)
        word = loc.value.lower()
        if word in yn.TRUE_WORDS or word in yn.FALSE_WORDS:
            return Located(word in yn.TRUE_WORDS, loc.span, loc.raw)
        node = self.fields[key][-1][1]
        if not cast or not loading.is_string(node):
            self.doc.problems.append(Problem(loc.span, f"{self.label}: {key}: {loc.raw!r} is not a boolean; "
                                                       "Compose will reject it"))
        return None

    def names(self, key: str) -> tuple[Located[str], ...]:
        """A list of names. A lone string is reported (Compose's schema wants a
        list) and read as a one-item list, the intent being clear. Files merged
        into one stack make a union: a name an earlier file has is not added again.
        Compose refuses equal items in some lists once interpolated, whether
        they meet in one list or through `extends` or the files of a stack."""
        if key not in self.fields:
            return ()
        out: list[Located[str]] = []
        first: dict[tuple[bool, str], Located[str]] = {}  # for _UNIQUE_ITEMS: what Compose compares → the first item
        for node, doc in self._nodes(key):
            earlier = {loc.value for loc in out if loc.span.path != doc.span_of(node).path}
            items = [node] if yn.is_scalar(node) else node.value if yn.is_seq(node) else None
            if items is None:
                self._shape_problem(node, doc, key, "a list")
                continue
            if yn.is_scalar(node):
                self._list_shape(node, doc, key, f"write [{node.value}]")
            for item in items:
                if yn.is_scalar(item) and not yn.is_null(item):
                    loc = self.located(item, doc)
                    kind = yn.implicit_type(item)
                    if kind is not None:
                        self.doc.problems.append(Problem(loc.span, f"{self.label}: {key}: {loc.raw} is {kind}, and "
                                                                   f"Compose requires a string here: write \"{loc.raw}\""))
                    if key in _UNIQUE_ITEMS:
                        self._unique(key, loc, first)
                    if loc not in out and loc.value not in earlier:
                        out.append(loc)
                elif yn.is_null(item):
                    if yn.is_seq(node):
                        self._empty_item(item, doc, key)
                else:
                    self._shape_problem(item, doc, key, "a name")
        return tuple(out)

    def _unique(self, key: str, loc: Located[str], first: dict[tuple[bool, str], Located[str]]) -> None:
        """Report `loc` if it equals an earlier item. Compose compares the
        interpolated values (an unknown one only with its own spelling)."""
        compared = (loc.resolved, loc.value if loc.resolved else loc.raw)
        before = first.setdefault(compared, loc)
        if before is loc:
            return
        where = "" if "(from " in before.raw else f" (line {before.span.line}" + (
            ")" if before.span.path == loc.span.path else f" of {os.path.basename(before.span.path)})")
        said = "is listed twice" if before.raw == loc.raw and not where.count(" of ") else f"equals {before.raw!r}{where}"
        self.doc.problems.append(Problem(loc.span, f"{self.label}: {key}: {loc.raw!r} {said}, and Compose refuses "
                                                   "a list with equal items"))

    def _list_shape(self, node: Any, doc: _Doc, key: str, hint: str = "not checked") -> None:
        """Compose's schema wants a list here (an empty one is `[]`); anything else is refused."""
        if not yn.is_seq(node):
            kind = "empty" if yn.is_null(node) else "a string" if yn.is_scalar(node) else f"a {node.id}"
            self.doc.problems.append(Problem(doc.span_of(node), f"{self.label}: {key} is {kind}, and Compose requires "
                                                                f"a list here: {'write []' if kind == 'empty' else hint}"))

    def _empty_item(self, item: Any, doc: _Doc, key: str) -> None:
        self.doc.problems.append(Problem(doc.span_of(item), f"{self.label}: {key} has an empty item, and Compose "
                                                            "refuses it: remove the `-`"))

    def _shape_problem(self, node: Any, doc: _Doc, key: str, wanted: str) -> None:
        self.doc.problems.append(Problem(doc.span_of(node), f"{self.label}: {key} holds a {node.id} where {wanted} "
                                                            "belongs; not checked"))

    def mounts(self) -> tuple[Mount, ...]:
        """Volumes; a later layer's volume replaces an earlier one on the same target."""
        out: list[Mount] = []
        for node, doc in self._nodes("volumes"):
            self._list_shape(node, doc, "volumes")
            mine: list[Mount] = []
            for item in node.value if yn.is_seq(node) else []:
                if yn.is_null(item):
                    self._empty_item(item, doc, "volumes")
                elif yn.is_map(item) and "read_only" in (entry := yn.mapping_items(item)):
                    entry_fields = {"read_only": [(*entry["read_only"], doc)]}
                    _Fields(doc, f"{self.label}: volumes", entry_fields).boolean("read_only", cast=True)
                mount = volume_entry(item, doc, self.located)
                if mount is not None:
                    mine.append(mount)
            targets = {m.target for m in mine if m.target is not None}
            out = [m for m in out if m.target is None or m.target not in targets] + mine
        return _last_per_target(out, lambda m: m.target)  # and one per target within a list

    def processes(self) -> tuple[Process, ...]:
        out: list[Process] = []
        for key in ("entrypoint", "command"):
            for node, doc in self._nodes(key):
                process = runtime.command(key, node, doc.path, self._locator(doc))
                if process is not None:
                    out.append(process)
        test: tuple[Any, _Doc] | None = None
        for node, doc in self._nodes("healthcheck"):
            items = yn.mapping_items(node) if yn.is_map(node) else {}
            if "disable" in items and yn.is_scalar(items["disable"][1]) and str(items["disable"][1].value).lower() in yn.TRUE_WORDS:
                test = None
            elif "test" in items:
                test = (items["test"][1], doc)
        if test is not None:
            process = runtime.healthcheck(test[0], test[1].path, self._locator(test[1]))
            if process is not None:
                out.append(process)
        return tuple(out)

    def ports(self) -> tuple[Located[int], ...]:
        out: list[Located[int]] = []
        for key in ("ports", "expose"):
            for node, doc in self._nodes(key):
                out += runtime.ports(node, self._locator(doc), expose=key == "expose")
        return tuple(out)

    def build_link(self) -> Build | None:
        layers = list(self._nodes("build"))
        if not layers:
            return None
        doc = layers[0][1]
        return runtime.build([n for n, _ in layers], doc.path, self._locator(doc))

    def _locator(self, doc: _Doc) -> runtime.Locate:
        return lambda node: self.located(node, doc)

    def devices(self) -> tuple[Device, ...]:
        out: list[Device] = []
        for node, doc in self._nodes("devices"):
            self._list_shape(node, doc, "devices")
            for item in node.value if yn.is_seq(node) else []:
                if yn.is_null(item):
                    self._empty_item(item, doc, "devices")
                dev = device_entry(item, doc, self.located)
                if dev is not None:
                    out.append(dev)
        return _last_per_target(out, lambda d: d.container or d.host.value)

    def build(self) -> tuple[Located[bool] | None, tuple[Located[str], ...]]:
        """`build.privileged` and `build.entitlements`. Compose merges `build`
        across `extends` key by key (a base's `privileged: true` survives a
        `build: {context: .}` below it), the entitlements as one list."""
        fields: dict[str, list[Layer]] = {}
        for _, node, doc in self.fields.get("build", []):
            if not yn.is_map(node):
                fields = {}  # `build: ./dir`: just a context
                continue
            for k, (kn, vn) in yn.mapping_items(node).items():
                fields[k] = fields.get(k, []) + [(kn, vn, doc)] if k in _MERGED_LISTS else [(kn, vn, doc)]
        sub = _Fields(self.doc, self.label, fields)
        return sub.boolean("privileged"), sub.names("entitlements")

