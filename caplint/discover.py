"""Paths → the files caplint lints, each with its kind.

Kinds: `compose` (named like a Compose file), `yaml` (any other YAML file; the
Compose parser decides by content and stays silent when it is not Compose),
`dockerfile`, `shell`, `bats` (`*.bats`), `systemd` (`*.service`),
`quadlet` (`*.container`, `*.pod`), `bake` (`docker-bake.hcl`,
`docker-bake.json`, `*.override.hcl`), `markdown` (`*.md`) and `makefile`
(`Makefile`, `GNUmakefile`, `*.mk`).
"""
from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Iterable, Iterator
from caplint.values import value

# Folders that never hold a project's own container configuration.
SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".terraform", ".direnv", ".eggs",
    "site-packages", ".cache", "bower_components",
})

_COMPOSE_NAME = re.compile(r"^(docker-)?compose([.-][^/]*)?\.ya?ml$", re.IGNORECASE)
_DOCKERFILE_NAME = re.compile(
    r"^((Dockerfile|Containerfile)([.-][^/]*)?|[^/]+\.(dockerfile|containerfile))$", re.IGNORECASE
)
_YAML_EXT = (".yml", ".yaml")
_SHELL_EXT = (".sh", ".bash", ".ksh", ".zsh")
# Where else containers are written: systemd and Podman Quadlet units, bats tests, Markdown.
_OTHER_EXT = {".service": "systemd", ".container": "quadlet", ".pod": "quadlet", ".bats": "bats",
              ".md": "markdown", ".markdown": "markdown"}
# docker-bake.hcl, docker-bake.json, docker-bake.override.hcl, any *.override.hcl (Bake's default names).
_BAKE_NAME = re.compile(r"^(docker-bake(\.override)?\.(hcl|json)|[^/]+\.override\.hcl)$")
_SHEBANG = re.compile(rb"^#![ \t]*(/usr)?(/local)?/bin/(env[ \t]+(-S[ \t]+)?)?(ba|da|k|z|a)?sh\b")


@value
class Found:
    path: str
    kind: str  # compose | yaml | dockerfile | shell


# `Dockerfile.dockerignore`, `Dockerfile.md` or `dockerfile_test.go` sit beside
# Dockerfiles but are not ones; a script or YAML file falls through to its kind.
_NOT_DOCKERFILE_EXT = (".dockerignore", ".md", ".rst", ".txt", ".orig", ".rej", ".swp", ".py", ".go", ".js",
                       ".ts", ".rb", ".rs", ".java", ".json", ".toml", ".yml", ".yaml", ".sh", ".bash")


def kind_by_name(name: str) -> str | None:
    base = os.path.basename(name)
    if _COMPOSE_NAME.match(base):
        return "compose"
    lower = base.lower()
    if _DOCKERFILE_NAME.match(base) and not lower.endswith(_NOT_DOCKERFILE_EXT):
        return "dockerfile"
    if lower.endswith(_YAML_EXT):
        return "yaml"
    if lower.endswith(_SHELL_EXT):
        return "shell"
    if _BAKE_NAME.match(lower):
        return "bake"
    if lower in ("makefile", "gnumakefile") or lower.endswith(".mk"):
        return "makefile"
    return _OTHER_EXT.get(os.path.splitext(lower)[1])


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


def discover(paths: Iterable[str], exclude: Iterable[str] = ()) -> Iterator[Found]:
    """Every lintable file under `paths`, in a stable order.

    An explicit file is always linted (its kind sniffed later when its name says
    nothing); directories are walked without following symlinks, so a symlink
    loop cannot trap the walk.
    """
    patterns = tuple(exclude)
    seen: set[str] = set()
    for root in paths:
        if os.path.isdir(root):
            for found in _walk(root, patterns):
                if found.path not in seen:
                    seen.add(found.path)
                    yield found
        else:
            path = _clean(root)
            if path not in seen:
                seen.add(path)
                yield Found(path, kind_by_name(path) or _shebang_kind(path) or "unknown")


def _walk(root: str, patterns: tuple[str, ...]) -> Iterator[Found]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(
            d for d in dirnames
            if d not in SKIPPED_DIRS
            and not _is_virtualenv(os.path.join(dirpath, d))
            and not excluded(_clean(os.path.join(dirpath, d)), patterns)
        )
        for name in sorted(filenames):
            path = _clean(os.path.join(dirpath, name))
            if patterns and excluded(path, patterns):
                continue
            kind = kind_by_name(name)
            if kind is None and "." not in name:
                kind = _shebang_kind(path)
            if kind is not None and os.path.isfile(path):
                yield Found(path, kind)
