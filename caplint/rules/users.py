"""The user a container runs as."""
from __future__ import annotations

from collections.abc import Iterator

from caplint.model import Container, Hit, Image, Located, Severity
from caplint.rules import rule


def is_root(user: Located[str]) -> bool:
    """True when the user part of `user[:group]` is root; the group does not decide."""
    if not user.resolved:
        return False
    name = user.value.strip().split(":", 1)[0].strip()
    return name == "root" or (name.isdigit() and int(name) == 0)


@rule("CAP401", "root-user", Severity.MEDIUM, (Container, Image))
def root_user(subject: Container | Image) -> Iterator[Hit]:
    """
    A container is explicitly set to run as root.

    ## What it does
    Flags a final Dockerfile stage whose last `USER` is root (`USER root`,
    `USER 0`, `USER 0:0`, `USER root:root`), Compose `user: root` / `"0"` /
    `"0:0"`, `--user 0` / `-u root`, and the config's `User` of a scanned
    image (`caplint image`). The user part decides: `root:1000` is
    root, `1000:0` is not. A `USER root` in an earlier build stage is not
    reported: only the final stage's user runs.

    ## Why is this bad?
    Root in a container is root on the host's kernel, limited only by capabilities,
    seccomp and namespaces. Every container escape — a kernel bug, a mounted
    socket, a writable host path — is worse, often only possible, as root. An
    explicit root user also undoes a non-root `USER` the image author chose.

    ## Example
    ```dockerfile
    FROM node:22
    COPY . /app
    USER root
    CMD ["node", "/app/server.js"]
    ```

    ## Use instead
    ```dockerfile
    FROM node:22
    COPY --chown=node:node . /app
    USER node
    CMD ["node", "/app/server.js"]
    ```

    ## References
    - [Dockerfile reference: USER](https://docs.docker.com/reference/dockerfile/#user)
    - [Docker run: --user](https://docs.docker.com/reference/cli/docker/container/run/#user)
    """
    if isinstance(subject, Image):
        saved = subject.saved
        if saved is not None and saved.user is not None and is_root(saved.user):
            yield Hit(saved.user.span, f"image {saved.reference} runs as root (config User {saved.user.shown})")
        final = subject.final_stage
        if final is not None and final.users and is_root(final.users[-1]):
            yield Hit(final.users[-1].span, f"the final stage runs as root (USER {final.users[-1].shown})")
        return
    if subject.user is not None and is_root(subject.user):
        yield Hit(subject.user.span, f"{subject.name} runs as root (user {subject.user.shown})")
