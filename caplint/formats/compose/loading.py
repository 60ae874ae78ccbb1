"""What Compose refuses while it loads one file, before any schema is applied.

Compose interpolates every file it loads — the files of a stack and every
file an `extends: file:` reaches, all of its services, not only the one
extended — and on the way it refuses:
- a `${…}` it cannot substitute (`${V`, `${}`, `${V:x}`), anywhere in the file;
- a value that does not cast to the type of its field once interpolated:
  `privileged: "${V}"` with `V=1` ("invalid boolean: 1"), `cpus: "${N}"` with `N=two`;
- a key written twice in one mapping;
- a short-syntax volume it cannot split (`/a::/b`, `/a:/b:ro:x`, an empty one)
  or a device with more than three parts.
The schema (shapes, `user: 0`, equal items) is checked later and only on what
is merged into the project: `parser._Fields` reads that.

An unset variable makes a value unknown to caplint (see interpolation), so
such a value is never cast here.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from caplint import lazyre
from caplint.formats import yamlnodes as yn
from caplint.formats.compose.interpolation import interpolate, template_error

_INT = lazyre.compile(r"[-+]?[0-9]+")
# Go's strconv.ParseFloat, decimal forms (what anyone writes for `cpus`).
_FLOAT = lazyre.compile(r"[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE)
_INT64 = 2 ** 63


def _boolean(text: str) -> str | None:
    word = text.lower()
    if word in yn.TRUE_WORDS or word in yn.FALSE_WORDS:
        return None
    return "is not a boolean (Compose reads true/false, yes/no, on/off, y/n)"


def _whole(text: str) -> str | None:
    """Go's strconv.Atoi and ParseInt (int is 64 bits where Compose runs)."""
    if _INT.fullmatch(text) and -_INT64 <= int(text) < _INT64:
        return None
    return "is not a whole number"


def _float(text: str) -> str | None:
    return None if _FLOAT.fullmatch(text) else "is not a number"


Cast = Callable[[str], str | None]

# compose-go's interpolation casts (loader/interpolate.go), under `services.<name>`:
# a path of keys, `[]` for each item of a list, `*` for any key.
SERVICE_CASTS: dict[tuple[str, ...], Cast] = {
    **{(k,): _boolean for k in ("init", "oom_kill_disable", "privileged", "read_only", "stdin_open", "tty")},
    ("healthcheck", "disable"): _boolean,
    ("volumes", "[]", "read_only"): _boolean,
    ("volumes", "[]", "volume", "nocopy"): _boolean,
    **{(k,): _whole for k in ("cpu_count", "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime",
                                    "cpu_shares", "oom_score_adj", "pids_limit")},
    **{(k,): _float for k in ("cpu_percent", "cpus")},
    ("deploy", "replicas"): _whole, ("scale",): _whole, ("healthcheck", "retries"): _whole,
    ("deploy", "update_config", "parallelism"): _whole, ("deploy", "rollback_config", "parallelism"): _whole,
    ("deploy", "update_config", "max_failure_ratio"): _float, ("deploy", "rollback_config", "max_failure_ratio"): _float,
    ("deploy", "restart_policy", "max_attempts"): _whole, ("deploy", "placement", "max_replicas_per_node"): _whole,
    ("ports", "[]", "target"): _whole,
    ("ulimits", "*"): _whole, ("ulimits", "*", "hard"): _whole, ("ulimits", "*", "soft"): _whole,
}
TOP_CASTS: dict[tuple[str, ...], Cast] = {
    **{("networks", "*", k): _boolean for k in ("external", "internal", "attachable", "enable_ipv4", "enable_ipv6")},
    **{(top, "*", "external"): _boolean for top in ("volumes", "secrets", "configs")},
}


def file_problems(root: Any, env: Mapping[str, str], *, skip: Collection[Any] = ()) -> list[tuple[Any, str]]:
    """(node, message) for each value of the file Compose refuses while loading
    it — except inside the services whose nodes are in `skip`, which the caller
    checks one by one (service_problems) to reuse each one's answer; only for a
    tree with no alias (a node shared by a skipped service and the rest)."""
    found: list[tuple[Any, str]] = []
    skipped = {id(node) for node in skip}
    seen: set[int] = set()  # an anchor's node is checked once, however often it is merged

    def report(node: Any, message: str) -> None:
        if id(node) not in seen:
            seen.add(id(node))
            found.append((node, message))

    duplicates: list[Any] = []
    strings: list[tuple[Any, tuple[str, ...]]] = []
    _walk(root, (), set(skipped), duplicates, strings, 0)
    _report_written(duplicates, strings if yn.is_map(root) else [], report)
    if not yn.is_map(root):
        return found
    items_of: dict[int, dict[str, tuple[Any, Any]]] = {}
    top = items_of[id(root)] = yn.mapping_items(root)
    for _, node, where, check in _matches(root, _TOP_TRIE, (), items_of):
        _cast(node, where, check, env, report)
    services = top.get("services", (None, None))[1]
    if not yn.is_map(services):
        return found
    for name, (_, service) in yn.mapping_items(services).items():
        if yn.is_map(service) and id(service) not in skipped:
            _cast_service(name, service, env, report, items_of)
    return found


def service_problems(name: str, service: Any, env: Mapping[str, str]) -> list[tuple[Any, str]]:
    """What file_problems finds inside the service `name` (its node `service`,
    under `services:`) of a tree with no alias."""
    found: list[tuple[Any, str]] = []

    def report(node: Any, message: str) -> None:
        found.append((node, message))  # no alias: each node is met once

    duplicates: list[Any] = []
    strings: list[tuple[Any, tuple[str, ...]]] = []
    _walk(service, ("services", name), set(), duplicates, strings, 2)
    _report_written(duplicates, strings, report)
    if yn.is_map(service):
        _cast_service(name, service, env, report, {})
    return found


def _report_written(duplicates: list[Any], strings: list[tuple[Any, tuple[str, ...]]],
                    report: Callable[[Any, str], None]) -> None:
    for key in duplicates:
        report(key, f"duplicate key {key.value!r} (the mapping already has it): Compose refuses the file")
    for node, where in strings:
        why = template_error(str(node.value))
        if why is not None:
            report(node, f"{'.'.join(where)}: {why}")


def _cast_service(name: str, service: Any, env: Mapping[str, str], report: Callable[[Any, str], None],
                  items_of: dict[int, dict[str, tuple[Any, Any]]]) -> None:
    superseded = _superseded_devices(service, env)
    for _, node, where, check in _matches(service, _SERVICE_TRIE, (f"service {name!r}",), items_of):
        if check is not device_error or id(node) not in superseded:
            _cast(node, where, check, env, report)


def _superseded_devices(service: Any, env: Mapping[str, str]) -> set[int]:
    """The devices a later item of the same list replaces (the same container
    path, its second part): Compose keeps the last one per target before it
    splits the short syntax, so it never refuses one of these."""
    devices = yn.mapping_items(service).get("devices", (None, None))[1]
    if not yn.is_seq(devices):
        return set()
    targets: list[tuple[Any, str | None]] = []
    for item in devices.value:
        target = None
        if yn.is_map(item):
            node = yn.mapping_items(item).get("target", (None, None))[1]
            target = str(node.value) if yn.is_scalar(node) else None
        elif is_string(item):
            value, resolved = interpolate(str(item.value), env)
            parts = value.split(":")
            target = (parts[1] if len(parts) > 1 else parts[0]) if resolved else None
        targets.append((item, target))
    later: set[str] = set()
    superseded: set[int] = set()
    for item, target in reversed(targets):
        if target is not None and target in later:
            superseded.add(id(item))
        if target is not None:
            later.add(target)
    return superseded


def is_string(node: Any) -> bool:
    """A scalar Compose's YAML library reads as a string (not a number, boolean or null)."""
    return yn.is_scalar(node) and not yn.is_null(node) and yn.implicit_type(node) is None


def _checked(node: Any, where: tuple[str, ...], env: Mapping[str, str], check: Cast,
             report: Callable[[Any, str], None]) -> None:
    written = str(node.value)
    value, resolved = interpolate(written, env)
    if not resolved or template_error(written) is not None:
        return  # unknown, or already reported
    why = check(value)
    if why is not None:
        shown = repr(written) if value == written else f"{written!r} (= {value!r})"
        report(node, f"{': '.join(where)}: {shown} {why}; Compose will reject it")


def _cast(node: Any, where: tuple[str, ...], cast: Cast, env: Mapping[str, str],
          report: Callable[[Any, str], None]) -> None:
    if is_string(node):  # Compose casts strings only; other types meet the schema later
        _checked(node, where, env, cast, report)


# A trie of paths: step → (the checks of the paths ending there, as (order, cast), and the trie below).
_Trie = dict[str, tuple[list[tuple[int, Cast]], "_Trie"]]


def _trie(paths: list[tuple[tuple[str, ...], Cast]]) -> _Trie:
    root: _Trie = {}
    for order, (path, check) in enumerate(paths):
        level = root
        for i, step in enumerate(path):
            ends, below = level.setdefault(step, ([], {}))
            if i == len(path) - 1:
                ends.append((order, check))
            level = below
    return root


def _matches(node: Any, trie: _Trie, where: tuple[str, ...], items_of: dict[int, dict[str, tuple[Any, Any]]]
             ) -> list[tuple[int, Any, tuple[str, ...], Cast]]:
    """(order, node, keys leading to it, check) for every path of `trie` below
    `node`, walked once (the service paths share their first steps), in the
    order checking each path in turn would meet them: by path, then as written."""
    out: list[tuple[int, Any, tuple[str, ...], Cast]] = []
    _descend(node, trie, where, items_of, out)
    out.sort(key=lambda match: match[0])  # stable: within one path, the order of the file
    return out


def _descend(node: Any, trie: _Trie, where: tuple[str, ...], items_of: dict[int, dict[str, tuple[Any, Any]]],
             out: list[tuple[int, Any, tuple[str, ...], Cast]]) -> None:
    kind = None if node is None else node.id
    if kind == "sequence":
        each = trie.get("[]")
        if each is not None:
            ends, below = each
            for item in node.value:
                for order, check in ends:
                    out.append((order, item, where, check))
                if below:
                    _descend(item, below, where, items_of, out)
    elif kind == "mapping":
        items = items_of.get(id(node))
        if items is None:
            items = items_of[id(node)] = yn.mapping_items(node)
        for step, (ends, below) in trie.items():
            if step == "*":
                chosen = list(items)
            elif step in items:
                chosen = [step]
            else:
                continue
            for key in chosen:
                value, at = items[key][1], (*where, key)
                for order, check in ends:
                    out.append((order, value, at, check))
                if below:
                    _descend(value, below, at, items_of, out)


def _walk(node: Any, where: tuple[str, ...], seen: set[int], duplicates: list[Any],
          strings: list[tuple[Any, tuple[str, ...]]], depth: int) -> None:
    """One pass over the document, each node once however many aliases share it:
    keys written twice in one mapping (Compose's YAML library refuses them), and
    every scalar with a `$` in it (mapping keys are not interpolated)."""
    if depth > yn.MAX_DEPTH or node is None or id(node) in seen:
        return
    seen.add(id(node))
    kind = node.id
    if kind == "scalar":
        if "$" in str(node.value):
            strings.append((node, where))
    elif kind == "sequence":
        for item in node.value:
            _walk(item, where, seen, duplicates, strings, depth + 1)
    elif kind == "mapping":
        keys: set[str] = set()
        for key, value in node.value:
            if key.id == "scalar":
                if not (key.value == "<<" and not key.style):
                    if key.value in keys:
                        duplicates.append(key)
                    keys.add(key.value)
                step = str(key.value)
            else:
                step = "?"
            _walk(value, (*where, step), seen, duplicates, strings, depth + 1)


def volume_error(spec: str) -> str | None:
    """Why Compose cannot split a short-syntax volume (compose-go's ParseVolume)."""
    if spec == "":
        return "is an empty volume"
    if len(spec) <= 2:
        return None
    parts: list[str] = []
    buffer = ""
    if "${" not in spec:  # no braces to skip: split at each colon but a drive letter's
        pieces = spec.split(":")
        buffer = pieces[0]
        for piece in pieces[1:]:
            if len(buffer) == 1 and buffer.isalpha():
                buffer += ":" + piece
            else:
                parts.append(buffer)
                buffer = piece
        parts.append(buffer)
        return _parts_error(parts)
    depth = 0
    for i, char in enumerate(spec):
        if char == "$" and spec[i + 1: i + 2] == "{":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == ":" and not depth and not (len(buffer) == 1 and buffer.isalpha()):
            parts.append(buffer)
            buffer = ""
            continue
        buffer += char
    parts.append(buffer)
    return _parts_error(parts)


def _parts_error(parts: list[str]) -> str | None:
    if "" in parts:
        return "has an empty part between colons"
    if len(parts) > 3:
        return "has too many colons (SOURCE:TARGET:MODE at most)"
    return None


def device_error(spec: str) -> str | None:
    if spec.count(":") > 2:
        return "has more than three parts (HOST:CONTAINER:PERMISSIONS); Compose asks for the long syntax"
    return None


_TOP_TRIE = _trie(list(TOP_CASTS.items()))
# Each service's casts, then its short-syntax volumes and devices Compose must split.
_SERVICE_TRIE = _trie([*SERVICE_CASTS.items(), (("volumes", "[]"), volume_error), (("devices", "[]"), device_error)])
