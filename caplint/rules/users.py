"""The user a container runs as."""
from __future__ import annotations

from collections.abc import Iterator

from caplint import advice
from caplint.evidence import is_root as is_root  # one reading of "root", shared with the evidence
from caplint.model import Container, Hit, Image, Located, Severity
from caplint.rules import rule


@rule("CAP401", "root-user", Severity.MEDIUM, (Container, Image))
def root_user(subject: Container | Image) -> Iterator[Hit]:
    """
    A container is explicitly set to run as root.

    ## What it does
    Flags a final Dockerfile stage whose last `USER` is root (`USER root`,
    `USER 0`, `USER 0:0`, `USER root:root`), Compose `user: root` / `"0"` /
    `"0:0"`, and `--user 0` / `-u root`. The user part decides: `root:1000` is
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
        final = subject.final_stage
        if final is not None and final.users and is_root(final.users[-1]):
            yield Hit(final.users[-1].span, f"the final stage runs as root (USER {final.users[-1].shown})",
                      advice=f"end the final stage with a non-root user: `USER {_non_root(final.users[-1])}` after the steps "
                             "that need root (create it with `useradd --system --uid 10001 app` if the image has none)")
        return
    if subject.user is not None and is_root(subject.user):
        yield Hit(subject.user.span, f"{subject.name} runs as root (user {subject.user.shown})",
                  advice=advice.at(subject, subject.user, advice.spelled(
                      subject, f'write user: "{_non_root(subject.user)}"', f"write --user={_non_root(subject.user)}")
                      + " (a non-root uid the image's files allow), or remove "
                      + advice.spelled(subject, f"`user: {advice.as_written(subject.user)}`", f"`--user {advice.as_written(subject.user)}`")
                      + " to keep the image's own user"))


def _non_root(user: Located[str]) -> str:
    """A non-root `uid[:gid]` in the shape the author wrote (`root:root` → `10001:10001`)."""
    return "10001:10001" if ":" in user.value else "10001"
