"""GitHub Actions workflows and composite actions → containers and the shell scripts of their steps.

Read as the runner reads them (docs.github.com, "Workflow syntax for GitHub
Actions", and actions/runner):

- `jobs.<id>.container` and `jobs.<id>.services.<id>`: a bare image string, or
  `image` with `options` — `docker create` flags in one string, split by the
  runner on blanks with double quotes grouping — and `volumes` (`-v` values);
- every `steps[*].run` is a bash script unless `shell:` (on the step, or
  `defaults.run.shell` of the job or workflow) names a non-POSIX shell; on a
  Windows runner the default shell is PowerShell, which is not read;
- a composite action (`action.yml`, `runs.using: composite`) has the same
  steps under `runs.steps`.

Each script line is at its YAML line and column; `${{ … }}` is unknown. YAML
anchors and aliases are followed (the runner accepts them), merge keys as YAML
defines them.
"""
from __future__ import annotations

from typing import Any

from caplint.formats import ci, yamlnodes, yamlregions
from caplint.model import ParseResult


def parse(text: str, path: str) -> ParseResult:
    result = ParseResult()
    top, host = ci.document(text, path, result)
    if top is None:
        return result
    default_shell = _default_shell(top)
    jobs = _value(top, "jobs")
    if yamlnodes.is_map(jobs):
        for job_id, (key, job) in yamlnodes.mapping_items(jobs, result.problems, path).items():
            if yamlnodes.is_map(job):
                _job(job_id, key, job, host, default_shell, result)
    _steps(_get(_value(top, "runs"), "steps"), host, None, False, result)
    return result


def _value(items: dict[str, tuple[Any, Any]], key: str) -> Any:
    return items.get(key, (None, None))[1]


def _get(node: Any, *keys: str) -> Any:
    """The node at `node.k1.k2…`, or None where a level is missing or not a mapping."""
    for key in keys:
        if not yamlnodes.is_map(node):
            return None
        node = _value(yamlnodes.mapping_items(node), key)
    return node


def _default_shell(items: dict[str, tuple[Any, Any]]) -> str | None:
    shell = _get(_value(items, "defaults"), "run", "shell")
    return str(shell.value) if yamlnodes.is_scalar(shell) else None


def _job(job_id: str, key: Any, job: Any, host: yamlregions.Host, default_shell: str | None, result: ParseResult) -> None:
    items = yamlnodes.mapping_items(job, result.problems, host.path)
    container_key, container = items.get("container", (None, None))
    if container is not None:
        found = ci.job_container(f"job {job_id} container", container_key, container, host, "github")
        if found is not None:
            result.containers.append(found)
    services = _value(items, "services")
    if yamlnodes.is_map(services):
        for name, (skey, spec) in yamlnodes.mapping_items(services, result.problems, host.path).items():
            found = ci.job_container(f"job {job_id} service {name}", skey, spec, host, "github")
            if found is not None:
                result.containers.append(found)
    runs_on = _value(items, "runs-on")
    windows = yamlnodes.is_scalar(runs_on) and "windows" in str(runs_on.value).lower()
    _steps(_value(items, "steps"), host, _default_shell(items) or default_shell, windows, result)


def _steps(steps: Any, host: yamlregions.Host, default_shell: str | None, windows: bool, result: ParseResult) -> None:
    if not yamlnodes.is_seq(steps):
        return
    for step in steps.value:
        if not yamlnodes.is_map(step):
            continue
        items = yamlnodes.mapping_items(step)
        run = _value(items, "run")
        if run is None:
            continue
        shell = _value(items, "shell")
        chosen = str(shell.value) if yamlnodes.is_scalar(shell) and shell.value else default_shell
        if (chosen is None and windows) or (chosen is not None and not ci.is_posix_shell(chosen)):
            continue  # PowerShell, cmd, python: not shell scripts
        ci.script(run, host, result)
