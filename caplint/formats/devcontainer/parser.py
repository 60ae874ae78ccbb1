"""devcontainer.json and devcontainer-feature.json → the Container they configure.

The devcontainer CLI turns these fields into its `docker run` (containers.dev,
"devcontainer.json reference"), so they map onto the model one to one:

- `privileged` (a boolean), `capAdd` and `securityOpt` (string arrays);
- `runArgs`: `docker run` arguments, one per item — no shell quoting, each
  item is one argument — read with the shared docker command-line model;
- `mounts`: strings in `--mount` syntax or objects with `source`/`target`/`type`;
  `workspaceMount` (a `--mount` string) too;
- `containerUser`: the user the container runs as (`remoteUser` is only the
  user the tools connect as, so it is not read).

With `dockerComposeFile` + `service` the Compose service is the container:
the CLI ignores `runArgs` and `workspaceMount` there, and adds `privileged`,
`capAdd`, `securityOpt` and `mounts` on top of the service, so the Container
is not complete (the service's own file says the rest). A feature's
`devcontainer-feature.json` contributes `privileged`, `capAdd`, `securityOpt`
and `mounts` to every container that uses it.

`${localEnv:X}`, `${localWorkspaceFolder}` and the other variables are
unknown here, never guessed — except the home folder at the start of a mount
source (`${localEnv:HOME}/.ssh`, also `${localEnv:USERPROFILE}` and both in a
row), which is `~/.ssh` whoever runs it, as `$HOME` is in Compose and scripts. Features named in `features` are not fetched, so
the privileges their own metadata adds are not seen.
"""
from __future__ import annotations

import os
import re
from typing import Any

from caplint import values
from caplint.formats.dockercli.command import option, options
from caplint.formats.devcontainer import jsonc
from caplint.model import Container, Located, Mount, ParseResult, Problem, Span

_IMAGE_KEYS = ("image", "build", "dockerFile", "dockerfile", "dockerComposeFile")


def parse(text: str, path: str) -> ParseResult:
    result = ParseResult()
    root = jsonc.parse(text, path)
    if root is None or root.kind != "object":
        where = root.span if root is not None else Span.point(path, 1)
        result.problems.append(Problem(Span.point(path, where.line, where.column),
                                       f"{os.path.basename(path)} must contain a JSON object (the devcontainer CLI refuses "
                                       "any other file)"))
        return result
    feature = os.path.basename(path).lower().startswith("devcontainer-feature")
    compose = root.get("dockerComposeFile") is not None and not feature
    fields: dict[str, Any] = {}
    lists: dict[str, list[Any]] = {"cap_add": [], "security_opt": [], "mounts": []}
    privileged = root.get("privileged")
    if privileged is not None and privileged.kind in ("true", "false"):
        fields["privileged"] = Located(privileged.value, privileged.span, privileged.raw)
    lists["cap_add"] += _strings(root.get("capAdd"))
    lists["security_opt"] += _strings(root.get("securityOpt"))
    if not feature and not compose:
        run_args, _ = options(_strings(root.get("runArgs")))
        for key, value in run_args.items():
            if isinstance(value, tuple):
                lists.setdefault(key, []).extend(value)
            else:
                fields.setdefault(key, value)
        workspace = root.get("workspaceMount")
        if workspace is not None and workspace.kind == "string" and workspace.value:
            lists["mounts"] += option("--mount", _unknown_vars(workspace.located()))["mounts"]
    mounts = root.get("mounts")
    for item in mounts.items if mounts is not None and mounts.kind == "array" else []:
        if item.kind == "string":
            lists["mounts"] += option("--mount", _unknown_vars(item.located()))["mounts"]
        elif item.kind == "object":
            lists["mounts"].append(_mount_object(item))
    user = root.get("containerUser")
    if user is not None and user.kind == "string" and not feature:
        fields["user"] = _unknown_vars(user.located())
    lists["mounts"] = [_home_source(m) for m in lists["mounts"]]
    fields.update({k: tuple(v) for k, v in lists.items() if v})
    result.containers.append(Container(
        name=_name(root, feature, compose),
        span=_anchor(root),
        source_kind="devcontainer",
        complete=not (feature or compose),
        **fields,
    ))
    return result


def _strings(node: jsonc.Value | None) -> list[Located[str]]:
    """The string items of an array (anything else in it is not an argument)."""
    if node is None or node.kind != "array":
        return []
    return [_unknown_vars(i.located()) for i in node.items if i.kind == "string"]


def _unknown_vars(value: Located[str]) -> Located[str]:
    """`${localEnv:HOME}`, `${localWorkspaceFolder}`: known only when the CLI runs."""
    return Located(value.value, value.span, value.raw, False) if "${" in value.value else value


# The home folder as devcontainer.json writes it: `${localEnv:HOME}` on Linux and
# macOS, `${localEnv:USERPROFILE}` on Windows, often both in a row (one of them
# is empty wherever the CLI runs); `env:` is the older spelling of `localEnv:`.
_HOME = re.compile(r"^(?:\$\{(?:localEnv|env):(?:HOME|USERPROFILE)\}){1,2}(?=[/\\]|$)")


def _home_source(mount: Mount) -> Mount:
    """A bind of `${localEnv:HOME}/.ssh` is a bind of `~/.ssh`: the rules know what lives in a home."""
    source = mount.source
    m = _HOME.match(source.value) if source is not None else None
    if source is None or m is None:
        return mount
    rest = source.value[m.end():].replace("\\", "/")
    home = Located("~" + rest, source.span, source.raw, "${" not in rest)
    return values.replace(mount, source=home)


def _mount_object(item: jsonc.Value) -> Mount:
    kind = item.get("type")
    source = item.get("source")
    target = item.get("target")
    mount_kind = str(kind.value) if kind is not None and kind.kind == "string" else "volume"
    return Mount(
        item.span,
        _unknown_vars(source.located()) if source is not None and source.kind == "string" else None,
        str(target.value) if target is not None and target.kind == "string" else None,
        mount_kind if mount_kind in ("bind", "volume", "tmpfs") else "unknown",  # type: ignore[arg-type]
        False,
    )


def _name(root: jsonc.Value, feature: bool, compose: bool) -> str:
    if feature:
        ident = root.get("id")
        return f"devcontainer feature {ident.value}" if ident is not None and ident.kind == "string" else "devcontainer feature"
    if compose:
        service = root.get("service")
        return f"devcontainer service {service.value}" if service is not None and service.kind == "string" else "devcontainer"
    name = root.get("name")
    return f"devcontainer {name.value!r}" if name is not None and name.kind == "string" else "devcontainer"


def _anchor(root: jsonc.Value) -> Span:
    """Where the container is named: its image, build or Compose key, else the file's start."""
    for key in _IMAGE_KEYS:
        pair = root.pairs.get(key)
        if pair is not None:
            return pair[0].span
    return Span.point(root.span.path, root.span.line, root.span.column)
