"""The docker/podman/nerdctl command-line model: option tables (`flags`), option values → Container fields (`fields`), words → Container (`command`)."""
