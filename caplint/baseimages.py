"""Base images known to run as a non-root user, each with where that is written.

A Dockerfile built on one of these runs as that user even without a `USER` of
its own (the image config's `User` is inherited), so CAP403 does not apply.
One table, each entry with its source, so a reviewer can check an entry
against its publisher's documentation rather than against code.
"""
from __future__ import annotations

import re

from caplint import lazyre
from caplint.values import value


@value
class NonRootBase:
    pattern: re.Pattern[str]  # matched against the normalised reference: registry/path:tag
    user: str
    source: str


NON_ROOT_BASES: tuple[NonRootBase, ...] = (
    NonRootBase(lazyre.compile(r"gcr\.io/distroless/[^:]+:(debug-)?nonroot(-[a-z0-9]+)?"), "nonroot (65532)",
                "https://github.com/GoogleContainerTools/distroless#image-contents"),
    # Chainguard's images run as nonroot; the `-dev` variants (with a shell and apk) run as root.
    NonRootBase(lazyre.compile(r"cgr\.dev/chainguard/[^:]+(:(?![^:]*-dev$)[^:]+)?"), "nonroot (65532)",
                "https://github.com/chainguard-images/images/blob/main/BEST_PRACTICES.md (Users: run-as 65532); "
                "https://edu.chainguard.dev/chainguard/chainguard-images/differences-development-production/"),
    NonRootBase(lazyre.compile(r"(ghcr\.io/)?nginxinc/nginx-unprivileged(:[^:]+)?"), "nginx (101)",
                "https://github.com/nginxinc/docker-nginx-unprivileged#readme"),
    # Bitnami's application images run as 1001; minideb is their plain OS base and runs as root.
    NonRootBase(lazyre.compile(r"(public\.ecr\.aws/)?bitnami/(?!minideb)[^:]+(:[^:]+)?"), "1001",
                "https://docs.bitnami.com/tutorials/why-non-root-containers-are-important-for-security"),
)

_DOCKER_HUB = lazyre.compile(r"^(docker\.io/|index\.docker\.io/|registry-1\.docker\.io/)")


def normalised(reference: str) -> str:
    """`docker.io/bitnami/redis:7.2@sha256:…` → `bitnami/redis:7.2`."""
    ref = reference.strip().split("@", 1)[0].lower()
    return _DOCKER_HUB.sub("", ref)


def non_root_base(reference: str) -> NonRootBase | None:
    """The table entry saying `reference` runs as a non-root user, or None."""
    ref = normalised(reference)
    return next((entry for entry in NON_ROOT_BASES if entry.pattern.fullmatch(ref)), None)
