"""A generated corpus shaped like real repositories, for the benchmark.

Each "project" folder holds a Compose file (anchors, merge keys, 5–30
services), one or more multi-stage Dockerfiles with long `RUN` chains, and a
few deploy scripts with several docker commands. Most of it is clean and a
little of it is insecure, as in real code, so the rules do real work. The same
seed always gives byte-identical files.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

IMAGES = ("nginx:1.27-alpine", "postgres:16", "redis:7.2", "grafana/grafana:11.1.0", "prom/prometheus:v2.53.0",
          "rabbitmq:3.13-management", "traefik:v3.1", "minio/minio:RELEASE.2024-07-16T23-46-41Z",
          "elasticsearch:8.14.3", "node:20-bookworm-slim", "python:3.12-slim", "golang:1.22")
SAFE_CAPS = ("NET_BIND_SERVICE", "CHOWN", "SETUID", "SETGID", "DAC_OVERRIDE")
RISKY_CAPS = ("SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_TIME", "IPC_LOCK", "NET_RAW")
PACKAGES = ("curl", "ca-certificates", "git", "build-essential", "libpq-dev", "tini", "gosu", "jq", "unzip",
            "openssl", "libssl-dev", "pkg-config", "zlib1g-dev", "locales", "tzdata", "gnupg", "wget")


@dataclass(frozen=True)
class Corpus:
    root: Path
    files: int
    compose: Path  # one representative file of each kind, for the one-file timings
    dockerfile: Path
    script: Path
    workflow: Path | None = None  # with `mixed`: a GitHub workflow and a devcontainer.json
    devcontainer: Path | None = None


def _service(rng: random.Random, name: str, anchors: list[str]) -> list[str]:
    lines = [f"  {name}:"]
    if anchors and rng.random() < 0.8:
        picked = rng.sample(anchors, k=rng.randint(1, min(2, len(anchors))))
        merge = f"*{picked[0]}" if len(picked) == 1 else "[" + ", ".join(f"*{a}" for a in picked) + "]"
        lines.append(f"    <<: {merge}")
    if rng.random() < 0.3:
        lines += ["    build:", "      context: ./" + name, "      dockerfile: Dockerfile"]
    else:
        lines.append(f"    image: {rng.choice(IMAGES)}")
    lines.append(f"    container_name: {name}")
    if rng.random() < 0.6:
        lines += ["    ports:", f'      - "{rng.randint(1024, 9999)}:{rng.choice((80, 443, 8080, 5432, 6379))}"']
    lines += ["    environment:", f"      SERVICE_NAME: {name}", "      LOG_LEVEL: ${LOG_LEVEL:-info}",
              f"      DATABASE_URL: postgres://app:${{DB_PASSWORD:?set it}}@db:5432/{name}"]
    adds = []
    if rng.random() < 0.5:
        lines += ["    cap_drop:", "      - ALL"]
        adds.append(rng.choice(SAFE_CAPS))
    if rng.random() < 0.08:
        adds.append(rng.choice(RISKY_CAPS))
    if adds:
        lines += ["    cap_add:", *(f"      - {cap}" for cap in adds)]
    if rng.random() < 0.04:
        lines.append("    privileged: true")
    if rng.random() < 0.05:
        lines.append("    network_mode: host")
    vols = ["    volumes:", f"      - {name}-data:/var/lib/{name}", f"      - ./config/{name}.conf:/etc/{name}.conf:ro"]
    if rng.random() < 0.05:
        vols.append("      - /var/run/docker.sock:/var/run/docker.sock:ro")
    lines += vols
    if rng.random() < 0.7:
        lines += ["    security_opt:", "      - no-new-privileges:true"]
    if rng.random() < 0.6:
        lines.append(f'    user: "{rng.choice((1000, 65534, 101, 999))}"')
    lines += ["    restart: unless-stopped", "    healthcheck:",
              f'      test: ["CMD", "wget", "-qO-", "http://localhost:{rng.choice((80, 8080, 3000))}/health"]',
              "      interval: 30s", "      timeout: 5s", "      retries: 3"]
    if rng.random() < 0.5:
        lines += ["    depends_on:", "      - db"]
    return lines


def compose_file(rng: random.Random) -> str:
    out = ["# Generated benchmark corpus: a typical multi-service stack.", 'name: "app"', ""]
    anchors = []
    if rng.random() < 0.9:
        anchors.append("defaults")
        out += ["x-defaults: &defaults", "  restart: unless-stopped", "  logging:", "    driver: json-file",
                "    options:", '      max-size: "10m"', '      max-file: "3"', ""]
    if rng.random() < 0.7:
        anchors.append("hardening")
        out += ["x-hardening: &hardening", "  cap_drop: [ALL]", "  read_only: true", "  security_opt:",
                "    - no-new-privileges:true", "  tmpfs:", "    - /tmp", ""]
    out.append("services:")
    count = rng.randint(5, 30)
    names = [f"svc{i:02d}" for i in range(count - 1)]
    for name in ["db", *names]:
        out += _service(rng, name, anchors)
        out.append("")
    out.append("volumes:")
    out += [f"  {n}-data:" for n in ["db", *names]]
    out += ["", "networks:", "  default:", "    name: app-net", ""]
    return "\n".join(out)


def _run_chain(rng: random.Random, length: int) -> list[str]:
    pkgs = sorted(rng.sample(PACKAGES, k=min(len(PACKAGES), rng.randint(4, 12))))
    steps = ["apt-get update", "apt-get install -y --no-install-recommends " + " ".join(pkgs)]
    while len(steps) < length:
        steps.append(rng.choice((
            f"useradd --system --uid {rng.randint(100, 999)} --create-home app",
            "mkdir -p /app/data /app/logs && chown -R app:app /app",
            f"curl -fsSL https://example.com/tool-{rng.randint(1, 9)}.tar.gz | tar -xz -C /usr/local/bin",
            'echo "export PATH=/app/bin:$PATH" >> /etc/profile.d/app.sh',
            "ln -sf /usr/share/zoneinfo/UTC /etc/localtime",
            "sed -i 's/^# *en_US.UTF-8/en_US.UTF-8/' /etc/locale.gen && locale-gen",
            "if [ -f /app/setup.sh ]; then sh /app/setup.sh; fi",
            "find /usr/local -name '*.pyc' -delete",
        )))
    steps.append("rm -rf /var/lib/apt/lists/*")
    return ["RUN " + steps[0] + " \\"] + [f"    && {s} \\" for s in steps[1:-1]] + [f"    && {steps[-1]}"]


def dockerfile(rng: random.Random) -> str:
    base = rng.choice(("golang:1.22-bookworm", "node:20-bookworm", "python:3.12-bookworm", "rust:1.79"))
    out = ["# syntax=docker/dockerfile:1.7", f"FROM {base} AS build", "WORKDIR /src", "COPY . ."]
    out += _run_chain(rng, rng.randint(6, 20))
    out += ["RUN --mount=type=cache,target=/root/.cache make build", "",
            f"FROM {rng.choice(('debian:bookworm-slim', 'alpine:3.20', 'gcr.io/distroless/base-debian12'))}",
            'LABEL org.opencontainers.image.source="https://example.com/app"', "ENV APP_HOME=/app"]
    out += _run_chain(rng, rng.randint(5, 15))
    if rng.random() < 0.05:
        out.append("RUN setcap cap_net_raw+ep /usr/local/bin/probe")
    if rng.random() < 0.05:
        out.append("RUN chmod u+s /usr/local/bin/helper")
    out += ["COPY --from=build /src/bin/app /usr/local/bin/app", "EXPOSE 8080"]
    if rng.random() < 0.75:
        out.append(f"USER {rng.choice(('app', '10001', 'nobody', '1000:1000'))}")
    out += ['ENTRYPOINT ["/usr/local/bin/app"]', 'CMD ["serve"]', ""]
    return "\n".join(out)


def script(rng: random.Random) -> str:
    out = ["#!/usr/bin/env bash", "# Deploy helper generated for the caplint benchmark.", "set -euo pipefail", "",
           'IMAGE="${IMAGE:-registry.example.com/app:${VERSION:-latest}}"', 'NAME="app-$(date +%s)"', "",
           "log() { printf '%s %s\\n' \"$(date -Is)\" \"$*\" >&2; }", ""]
    for i in range(rng.randint(3, 8)):
        flags = ["--rm", "-d", f"--name \"$NAME-{i}\"", f"-p {rng.randint(1024, 9999)}:8080",
                 "-e LOG_LEVEL=info", "--read-only", "--cap-drop=ALL"]
        if rng.random() < 0.5:
            flags.append(f"--cap-add {rng.choice(SAFE_CAPS)}")
        if rng.random() < 0.06:
            flags.append(f"--cap-add={rng.choice(RISKY_CAPS)}")
        if rng.random() < 0.04:
            flags.append("--privileged")
        if rng.random() < 0.05:
            flags.append("-v /var/run/docker.sock:/var/run/docker.sock")
        if rng.random() < 0.7:
            flags.append("--security-opt no-new-privileges")
        flags.append(f"--user {rng.choice((1000, 65534))}")
        out.append(f"deploy_{i}() {{")
        out.append(f'  log "starting worker {i}"')
        out.append("  docker run " + " \\\n    ".join(flags) + ' \\\n    "$IMAGE" worker --queue q' + str(i))
        out.append("}")
        out.append("")
    out += ["docker pull \"$IMAGE\"", "for fn in $(declare -F | awk '{print $3}' | grep ^deploy_); do",
            '  "$fn"', "done", 'if ! docker exec "$NAME-0" /bin/healthcheck; then',
            '  echo "docker run --privileged is never needed here" >&2', "  exit 1", "fi", ""]
    return "\n".join(out)


def devcontainer(rng: random.Random) -> str:
    run_args = ['"--init"', '"--cap-drop=ALL"', f'"--cap-add={rng.choice(SAFE_CAPS)}"']
    if rng.random() < 0.2:
        run_args.append(f'"--cap-add={rng.choice(RISKY_CAPS)}"')
    if rng.random() < 0.1:
        run_args += ['"-v"', '"/var/run/docker.sock:/var/run/docker.sock"']
    return "\n".join([
        "// Dev container generated for the caplint benchmark.",
        "{",
        f'  "name": "dev {rng.randint(1, 999)}",',
        '  "build": { "dockerfile": "../services/s0/Dockerfile", "context": ".." },',
        '  /* one docker run argument per item */',
        f'  "runArgs": [{", ".join(run_args)}],',
        f'  "privileged": {"true" if rng.random() < 0.08 else "false"},',
        '  "mounts": ["source=${localEnv:HOME}/.cache,target=/home/dev/.cache,type=bind"],',
        '  "customizations": { "vscode": { "extensions": ["ms-python.python", "redhat.vscode-yaml"] } },',
        '  "remoteUser": "dev",',
        "}", ""])


def workflow(rng: random.Random) -> str:
    out = ["name: ci", "on: [push, pull_request]", "jobs:"]
    for j in range(rng.randint(2, 4)):
        out += [f"  job{j}:", "    runs-on: ubuntu-latest", "    strategy:", "      matrix:",
                "        python: ['3.11', '3.12']"]
        if rng.random() < 0.4:
            flags = ["--cap-drop ALL", "--health-cmd pg_isready", "--health-interval 10s"]
            if rng.random() < 0.15:
                flags.append("--privileged")
            out += ["    services:", "      db:", f"        image: {rng.choice(IMAGES)}", "        options: >-"]
            out += [f"          {f}" for f in flags]
        out += ["    steps:", "      - uses: actions/checkout@v4",
                "      - uses: actions/setup-python@v5", "        with:", "          python-version: ${{ matrix.python }}",
                "      - name: test", "        run: |", "          set -euo pipefail",
                "          pip install -e '.[test]'", "          python -m pytest -q"]
        for k in range(rng.randint(1, 3)):
            extra = " --privileged" if rng.random() < 0.05 else ""
            out += [f"      - name: e2e {k}", "        run: |",
                    f"          docker build -t app:${{{{ github.sha }}}} -f services/s0/Dockerfile .",
                    f"          docker run --rm --cap-drop=ALL --security-opt no-new-privileges{extra} \\",
                    f"            -e CASE={k} app:${{{{ github.sha }}}} make e2e"]
    return "\n".join(out) + "\n"


def gitlab_ci(rng: random.Random) -> str:
    out = ["stages: [build, test]", "variables:", "  DOCKER_TLS_CERTDIR: ''", "", ".docker: &docker",
           "  image: docker:27", "  services: [docker:27-dind]", ""]
    for j in range(rng.randint(2, 5)):
        out += [f"test{j}:", "  <<: *docker", "  stage: test", "  script:",
                "    - docker build -t app .",
                f"    - docker run --rm --cap-drop ALL{' --pid host' if rng.random() < 0.05 else ''} app make test{j}", ""]
    return "\n".join(out)


def generate(root: Path, projects: int = 380, seed: int = 20240805, mixed: bool = False) -> Corpus:
    """Writes `projects` folders (about 10 files each) under `root`; rewrites only what changed.

    `mixed` adds a devcontainer.json and a GitHub workflow to every project and a
    .gitlab-ci.yml to a third of them, from a generator of their own, so the
    other files stay byte-identical to the plain corpus."""
    rng = random.Random(seed)
    extra = random.Random(seed + 1)
    written: set[Path] = set()
    for p in range(projects):
        project = root / f"project{p:04d}"
        files: dict[str, str] = {"docker-compose.yml": compose_file(rng)}
        if rng.random() < 0.3:
            files["compose.override.yaml"] = compose_file(rng)
        for d in range(rng.randint(2, 4)):
            files[f"services/s{d}/Dockerfile"] = dockerfile(rng)
        for s in range(rng.randint(3, 5)):
            files[f"scripts/deploy-{s}.sh"] = script(rng)
        if mixed:
            files[".devcontainer/devcontainer.json"] = devcontainer(extra)
            files[".github/workflows/ci.yml"] = workflow(extra)
            if extra.random() < 0.33:
                files[".gitlab-ci.yml"] = gitlab_ci(extra)
        for rel, text in files.items():
            _write(project / rel, text)
            written.add(project / rel)
    _prune(root, written)
    first = root / "project0000"
    return Corpus(root, len(written), first / "docker-compose.yml", first / "services/s0/Dockerfile",
                  first / "scripts/deploy-0.sh",
                  first / ".github/workflows/ci.yml" if mixed else None,
                  first / ".devcontainer/devcontainer.json" if mixed else None)


def _write(path: Path, text: str) -> None:
    # Unchanged files keep their mtime, so re-running is cheap and warm caches stay honest.
    data = text.encode()
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _prune(root: Path, keep: set[Path]) -> None:
    """Removes what an earlier, larger or older run left, so the corpus is exactly this one."""
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_file() and path not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
