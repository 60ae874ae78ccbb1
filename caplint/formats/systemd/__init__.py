"""systemd units (`*.service`) and Podman Quadlet units (`*.container`, `*.pod`)."""
