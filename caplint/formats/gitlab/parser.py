"""GitLab CI (`.gitlab-ci.yml`) → the shell commands of its jobs' scripts.

`script`, `before_script` and `after_script` — of a job, or at the top level
(the old global form) or under `default:` — are lists of shell lines (or one
string); nested lists (from `!reference` or anchors) are flattened as GitLab
does. Each line is read at its own YAML line and column. Hidden jobs
(`.name:`) are templates whose scripts run through `extends`, so they are
read too: the line is written there.

Not read, on purpose: a job's `image:` and `services:` entries (`name`,
`entrypoint`, `command`, `alias`) start containers whose privileges are the
runner's configuration (`privileged = true` in config.toml), not the
file's; `variables:` such as `DOCKER_HOST` or `DOCKER_TLS_CERTDIR` only say
where a docker client connects.
"""
from __future__ import annotations

from typing import Any

from caplint.formats import ci, yamlnodes, yamlregions
from caplint.model import ParseResult

_SCRIPTS = ("before_script", "script", "after_script")
# Top-level keys that are not jobs (docs.gitlab.com, CI/CD YAML syntax reference).
_GLOBAL = frozenset({"default", "include", "stages", "variables", "workflow", "image", "services", "cache"})


def parse(text: str, path: str) -> ParseResult:
    result = ParseResult()
    top, host = ci.document(text, path, result)
    if top is None:
        return result
    _scripts(top, host, result)
    for name, (_, job) in top.items():
        if yamlnodes.is_map(job) and (name == "default" or name not in _GLOBAL):
            _scripts(yamlnodes.mapping_items(job), host, result)
    return result


def _scripts(items: dict[str, tuple[Any, Any]], host: yamlregions.Host, result: ParseResult) -> None:
    for key in _SCRIPTS:
        for line in _lines(items.get(key, (None, None))[1]):
            ci.script(line, host, result)


def _lines(node: Any, depth: int = 0) -> list[Any]:
    if yamlnodes.is_scalar(node):
        return [node]
    if yamlnodes.is_seq(node) and depth < 10 and node.tag != "!reference":
        # `!reference [.setup, script]` names another job's lines; they are read there.
        return [line for item in node.value for line in _lines(item, depth + 1)]
    return []
