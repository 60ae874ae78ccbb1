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
    A Compose file that parses but does not follow the Compose schema is not a parse
    error: caplint lints what it can and reports values it cannot judge precisely.

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
)
