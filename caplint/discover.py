"""Paths → the files caplint lints, each with its kind.

Kinds: `compose` (named like a Compose file), `yaml` (any other YAML file; the
Compose parser decides by content and stays silent when it is not Compose),
`dockerfile`, `shell`, `devcontainer` (devcontainer.json, .devcontainer.json,
devcontainer-feature.json), `github` (workflows under `.github/workflows/` and
`action.yml` files) and `gitlab` (`.gitlab-ci.yml`),
`bats` (`*.bats`), `systemd` (`*.service`), `quadlet` (`*.container`, `*.pod`),
`quadlet-drop-in` (`*.container.d/*.conf`, `*.pod.d/*.conf`, read with its units),
`bake` (`docker-bake.hcl`, `docker-bake.json`, `*.override.hcl`), `markdown` (`*.md`)
and `makefile` (`Makefile`, `GNUmakefile`, `*.mk`). Every name rule is in
`NAME_RULES`, so what else needs them (the pre-commit hooks) reads them there.
"""
from __future__ import annotations

import fnmatch
import functools
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator

from caplint import lazyre
from caplint.values import value

# Folders that never hold a project's own container configuration.
SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".terraform", ".direnv", ".eggs",
    "site-packages", ".cache", "bower_components",
    # Vendored dependencies (Go modules, PHP Composer, Ruby bundles): other projects' files.
    "vendor",
})

_SHEBANG = lazyre.compile(rb"^#![ \t]*(/usr)?(/local)?/bin/(env[ \t]+(-S[ \t]+)?)?(ba|da|k|z|a)?sh\b")


# Templates are not yet the file they name (`Dockerfile-alpine.template` is full
# of `{{ }}`): a directory scan skips them; named on the command line, they are linted.
TEMPLATE_EXT = (".template", ".tmpl", ".j2", ".jinja", ".in")


@value
class Found:
    path: str
    kind: str  # one of the kinds in this module's docstring, or unknown


@value
class NameRule:
    """Files of one kind, by name. `pattern` is a regular expression for the
    end of the path after a `/` (for most rules the file name alone, `[^/]`
    where it must not cross folders); `unless` names the look-alikes it would
    otherwise take. Rules are tried in order and letter case never matters.

    These rules are the one source of truth for names: a directory scan uses
    them, and `caplint.precommit` turns them into the hooks' `files` patterns
    (`python -m caplint.docs` regenerates .pre-commit-hooks.yaml; a test fails
    when it is stale), so a new format's names reach the hooks by being added here.
    """

    kind: str
    pattern: str
    unless: str | None = None
    by_content: bool = False  # the name only makes the file a candidate; its content decides
    # Lower-case text of which every path the pattern takes holds one (a test
    # proves it for each rule): an ASCII path holding none of them cannot fire,
    # so its pattern is not compiled — a one-file run compiles one or two
    # patterns instead of five or more (each ~0.2 ms, on every editor save).
    hints: tuple[str, ...] = ()

    def fires(self, path: str) -> bool:
        if self.hints and path.isascii():  # beyond ASCII, IGNORECASE also folds `ſ` to `s`, `K` to `k`
            lower = path.lower()
            if not any(h in lower for h in self.hints):
                return False
        return _compiled(self.pattern).fullmatch(path) is not None and (
            self.unless is None or _compiled(self.unless).fullmatch(path) is None)


@functools.lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern[str]:
    return lazyre.compiled(rf"(?:.*/)?(?:{pattern})", re.IGNORECASE | re.DOTALL)


NAME_RULES = (
    NameRule("devcontainer", r"(\.?devcontainer|devcontainer-feature)\.json", hints=("devcontainer",)),
    # A workflow is a workflow by its folder; a composite action by its name.
    NameRule("github", r"\.github/workflows/[^/]+\.ya?ml", hints=(".github/workflows/",)),
    NameRule("github", r"action\.ya?ml", hints=("action.y",)),
    NameRule("gitlab", r"([^/]+\.)?\.?gitlab-ci\.ya?ml", hints=("gitlab-ci.y",)),
    NameRule("compose", r"(docker-)?compose([.-][^/]*)?\.ya?ml", hints=("compose",)),
    # `Dockerfile.dockerignore`, `Dockerfile.md` or `dockerfile_test.go` sit beside
    # Dockerfiles but are not ones; a script or YAML file falls through to its kind.
    NameRule("dockerfile", r"(Dockerfile|Containerfile)([.-][^/]*)?|[^/]+\.(dockerfile|containerfile)",
             unless=r"[^/]*\.(dockerignore|md|rst|txt|orig|rej|swp|py|go|js|ts|rb|rs|java|json|toml|ya?ml|sh|bash)",
             hints=("dockerfile", "containerfile")),
    # Any other YAML file: the Compose parser decides by content and is silent when it is not Compose.
    NameRule("yaml", r"[^/]*\.ya?ml", hints=(".yml", ".yaml")),
    NameRule("shell", r"[^/]*\.(sh|bash|ksh|zsh)", hints=(".sh", ".bash", ".ksh", ".zsh")),
    # Where else containers are written: bats tests, systemd and Podman Quadlet
    # units, Docker Bake files (their default names), Markdown, Makefiles.
    NameRule("bats", r"[^/]*\.bats", hints=(".bats",)),
    NameRule("systemd", r"[^/]*\.service", hints=(".service",)),
    NameRule("quadlet", r"[^/]*\.(container|pod)", hints=(".container", ".pod")),
    # A Quadlet drop-in (`web.container.d/`, `container.d/`, `web-.container.d/`): read
    # with its units; on its own only when none of them is linted too.
    NameRule("quadlet-drop-in", r"([^/]*\.)?(container|pod)\.d/[^/]+\.conf", hints=("container.d/", "pod.d/")),
    NameRule("bake", r"docker-bake(\.override)?\.(hcl|json)|[^/]+\.override\.hcl", hints=("docker-bake.", ".override.hcl")),
    NameRule("markdown", r"[^/]*\.(md|markdown)", hints=(".md", ".markdown")),
    NameRule("makefile", r"Makefile|GNUmakefile|[^/]*\.mk", hints=("makefile", ".mk")),
    # A file name without an extension is a script when its shebang says sh/bash (read by the scan).
    NameRule("shell", r"[^./]+", by_content=True),
)


def name_rule(path: str) -> NameRule | None:
    """The first rule that takes `path` by name."""
    norm = path.replace(os.sep, "/")
    return next((rule for rule in NAME_RULES if rule.fires(norm)), None)


def kind_by_name(name: str) -> str | None:
    """The kind a path's name decides alone (None: the name says nothing, or
    only the content can tell)."""
    rule = name_rule(name)
    return rule.kind if rule is not None and not rule.by_content else None


def has_shell_shebang(head: bytes) -> bool:
    return bool(_SHEBANG.match(head))


def kind_by_content(text: str) -> str | None:
    """For an explicit file or stdin whose name says nothing."""
    if has_shell_shebang(text[:200].encode("utf-8", "replace")):
        return "shell"
    for line in text.splitlines():
        stripped = line.strip()
        # Comments, parser directives and the ARGs allowed before FROM say nothing yet.
        if not stripped or stripped.startswith("#") or re.match(r"(?i)^ARG\s", stripped):
            continue
        if re.match(r"(?i)^FROM\s+\S", stripped):
            return "dockerfile"
        if re.match(r"^(services|version|name|include|volumes|networks|configs|secrets|x-[\w-]+)\s*:", stripped):
            return "yaml"
        return None
    return None


def _shebang_kind(path: str) -> str | None:
    # Only regular files: opening a FIFO would block until a writer comes.
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as fh:
            return "shell" if has_shell_shebang(fh.read(128)) else None
    except OSError:
        return None


def _is_virtualenv(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "pyvenv.cfg"))


def excluded(path: str, patterns: Iterable[str]) -> bool:
    """A glob pattern excludes a path when it matches the path or any run of
    its parts: `vendor` excludes `vendor/run.sh` and `a/vendor/b/run.sh`,
    `*.sh` every script, `deploy/legacy` that folder wherever it is seen from."""
    patterns = tuple(patterns)
    if not patterns:
        return False
    norm = path.replace(os.sep, "/").removeprefix("./")
    parts = norm.split("/")
    runs = {"/".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)}
    return any(fnmatch.fnmatch(run, pattern.rstrip("/")) for pattern in patterns for run in runs)


def _clean(path: str) -> str:
    return path[2:] if path.startswith("./") and len(path) > 2 else path


# Config excludes, as glob patterns (relative to the cwd) or as a question
# about a path and whether it is a folder: `caplint.settings.Resolver.excludes`
# answers it with the config that applies to that path.
IsExcluded = Callable[[str, bool], bool]
Exclude = Iterable[str] | IsExcluded


def _exclusion(exclude: Exclude) -> IsExcluded:
    if callable(exclude):
        return exclude
    patterns = tuple(exclude)
    return lambda path, _is_dir: bool(patterns) and excluded(path, patterns)


def discover(paths: Iterable[str], exclude: Exclude = ()) -> Iterator[Found]:
    """Every lintable file under `paths`, in a stable order.

    An explicit file is always linted (its kind sniffed later when its name says
    nothing); directories are walked without following symlinks, so a symlink
    loop cannot trap the walk.
    """
    is_excluded = _exclusion(exclude)

    def each() -> Iterator[Found]:
        for root in paths:
            if os.path.isdir(root):
                yield from _walk(root, is_excluded)
            else:
                path = _clean(root)
                yield Found(path, kind_by_name(path) or _shebang_kind(path) or "unknown")

    return _once(each())


def _once(found: Iterable[Found]) -> Iterator[Found]:
    """Each file once; a Quadlet drop-in last, and only when one of the units it
    is merged into is not linted too (they report its values): pre-commit names
    just the drop-in a commit changed."""
    seen: set[str] = set()
    drop_ins: list[Found] = []
    for f in found:
        if f.path in seen:
            continue
        seen.add(f.path)
        if f.kind == "quadlet-drop-in":
            drop_ins.append(f)
        else:
            yield f
    if drop_ins:
        from caplint.formats.systemd.quadlet import units_of

        for f in drop_ins:
            units = units_of(f.path)
            if not units or not {_clean(u) for u in units} <= seen:
                yield f


def _skipped_dir(path: str, is_excluded: IsExcluded) -> bool:
    return os.path.basename(path) in SKIPPED_DIRS or _is_virtualenv(path) or is_excluded(path, True)


def _scanned_file(path: str, is_excluded: IsExcluded) -> Found | None:
    """The file as a directory scan takes it, or None when a scan passes it by."""
    if is_excluded(path, False) or path.lower().endswith(TEMPLATE_EXT):
        return None
    rule = name_rule(path)
    if rule is None:
        return None
    kind = _shebang_kind(path) if rule.by_content else rule.kind
    return Found(path, kind) if kind is not None and os.path.isfile(path) else None


def _walk(root: str, is_excluded: IsExcluded) -> Iterator[Found]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not _skipped_dir(_clean(os.path.join(dirpath, d)), is_excluded))
        for name in sorted(filenames):
            found = _scanned_file(_clean(os.path.join(dirpath, name)), is_excluded)
            if found is not None:
                yield found


def as_scanned(paths: Iterable[str], exclude: Exclude = ()) -> Iterator[Found]:
    """Of the files named in `paths`, those a directory scan of the current
    folder would take, with the kind it would give them — the same rules, so a
    hook that names files (pre-commit) lints exactly what `caplint check .`
    lints: no look-alike source file, no script without a shell shebang, nothing
    in a skipped or excluded folder. Folders in `paths` are scanned as usual."""
    is_excluded = _exclusion(exclude)

    def each() -> Iterator[Found]:
        for given in paths:
            if os.path.isdir(given):
                # A scan does not follow a link to a folder (pre-commit names such links as files).
                if not os.path.islink(given):
                    yield from _walk(given, is_excluded)
                continue
            path = _clean(given)
            if any(_skipped_dir(folder, is_excluded) for folder in _folders_below_cwd(path)):
                continue
            found = _scanned_file(path, is_excluded)
            if found is not None:
                yield found

    return _once(each())


def _folders_below_cwd(path: str) -> list[str]:
    """The folders a scan of the current folder passes through to reach `path`,
    in `path`'s own spelling (`a/b/c.sh` → `a`, `a/b`)."""
    rel = os.path.relpath(os.path.abspath(path)) if os.path.isabs(path) else os.path.normpath(path)
    if rel == ".." or rel.startswith(".." + os.sep):
        return []  # outside the current folder: no scan of it would pass its folders
    parts = rel.split(os.sep)[:-1]
    return [os.path.join(*parts[: i + 1]) for i in range(len(parts))]
