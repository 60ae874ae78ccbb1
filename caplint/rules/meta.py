"""Pseudo-rules the engine raises itself."""
from __future__ import annotations

from caplint.model import Severity
from caplint.rules import pseudo_rule

parse_error = pseudo_rule(
    "CAP001",
    "parse-error",
    Severity.HIGH,
    """
    A file caplint was asked to lint could not be read or parsed.

    ## What it does
    Reports a file that caplint could not read (binary content, a file over the size
    limit, an unreadable file) or could not parse (invalid YAML, an unterminated quote
    in a script, a Dockerfile without `FROM`), on the line the parser stopped at.
    A Compose file that parses but that Docker Compose refuses to load is linted
    as far as it can be, and each value Compose refuses is reported on its own
    line — checked against Compose v2 itself (tests/conformance): `services`
    that is a list, a service that is empty or a list, a duplicate key, a
    mapping or an empty item where a name belongs, a string where a list
    belongs, `user: 0`, equal `security_opt` items (also once interpolated,
    and across `extends` and the files of a stack), and what Compose refuses
    while interpolating: a `${…}` it cannot substitute, a value that does not
    cast to its field's type (`privileged: "${V}"` with `V=1`, `cpus: two`), a
    volume or device it cannot split. A file reached through `extends: file:`
    is loaded by Compose too — all its services, with the project's `.env` —
    so what it refuses there is reported at the `extends` of the file being
    linted. Where the intent is clear (`cap_add: SYS_ADMIN` as a plain string)
    the value is linted as well.
    For a saved image (`caplint image`) it names what is broken or hostile: a
    member name with `..` or an absolute path, a link out of the tree, a member
    larger than the archive, truncated or corrupt data, a compression bomb, an
    oversized PAX header, a manifest naming a missing layer, an index loop, or a
    `security.capability` attribute that is not a VFS_CAP value.

    ## Why is this bad?
    A file caplint cannot read is a file nobody has checked: it may hide
    `privileged: true` or a mounted Docker socket. Docker and Compose will usually
    reject the same file, so the error is worth fixing for its own sake.

    ## Example
    ```yaml
    services:
      web:
        image: nginx
         ports: ["80:80"]   # wrong indentation
    ```

    ## Use instead
    ```yaml
    services:
      web:
        image: nginx
        ports: ["80:80"]
    ```

    ## References
    - [YAML 1.2 specification](https://yaml.org/spec/1.2.2/)
    - [Dockerfile reference](https://docs.docker.com/reference/dockerfile/)
    """,
    advice="correct the file where the message says, so that its own tool reads it (nothing in it is checked "
           "until then); a file that is not meant to be linted belongs in the configuration's `exclude`",
)

unused_suppression = pseudo_rule(
    "CAP002",
    "unused-suppression",
    Severity.LOW,
    """
    A `# caplint: ignore` comment that suppresses nothing.

    ## What it does
    Reports an inline suppression that no longer hides any finding: a
    `# caplint: ignore[CAP306]` on a line (or above a command) with no CAP306 finding,
    a `# caplint: ignore-file[CAP204]` in a file without one, an id that is not a
    caplint rule (`ignore[CAP999]`, `ignore[NET_ADMIN]`), and a `# caplint:` comment
    caplint does not understand (`# caplint: ignroe[CAP101]`). An id is only reported
    when its rule was run: under `--select CAP1` an `ignore[CAP306]` is not unused, and
    a blanket `# caplint: ignore` only when every rule was run.

    Turn this rule off with `--ignore CAP002` or `ignore = ["CAP002"]` in the
    configuration, or keep one suppression quiet by naming CAP002 in it:
    `# caplint: ignore[CAP101, CAP002] dind only on some hosts`.

    ## Why is this bad?
    A suppression outlives the problem it was written for. Once the privileged flag is
    gone, a leftover `ignore[CAP101]` would silently hide it when someone puts it back.
    A misspelt suppression is worse: it looks like a reviewed exception and hides
    nothing, so the finding it was meant for stays and nobody knows why.

    ## Example
    ```yaml
    services:
      web:
        image: nginx:1.27
        # caplint: ignore[CAP306] needs the host network for mDNS
        network_mode: bridge
    ```

    ## Use instead
    ```yaml
    services:
      web:
        image: nginx:1.27
        network_mode: bridge
    ```

    ## References
    - [caplint suppressions](https://github.com/caplint/caplint/blob/main/docs/integrations.md#suppressions)
    - [ruff: unused-noqa (RUF100)](https://docs.astral.sh/ruff/rules/unused-noqa/)
    """,
    advice="delete the suppression, or the rule ids in it that no longer suppress anything",
)
