"""Input formats: one package or module per family, each with `parse(text, path) -> ParseResult`.

`compose`, `dockerfile` and `shell` read their own files; `dockercli` is the
docker/podman/nerdctl command-line model every format that carries such a
line shares; `words` and `yamlnodes` are the pieces several formats use.
"""
