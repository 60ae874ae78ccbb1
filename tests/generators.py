"""Hypothesis generators of *valid-shaped* inputs in all three formats.

The conformance tests hand them to the reference implementations and compare
caplint's model with what those print; the property tests feed them to the
parsers too, since they reach deeper paths than random text does.
Each generator yields text spelled the many ways authors write it: anchors and
merge keys, `${VAR…}` forms, boolean and capability spellings, continuations,
heredocs, every docker flag form.
"""
from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

from hypothesis import strategies as st

CAPABILITIES = ("NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE", "NET_RAW", "CHOWN", "SYS_TIME", "NET_BIND_SERVICE",
                "SETUID", "MKNOD", "BPF", "PERFMON", "ALL")


@st.composite
def capability(draw: st.DrawFn) -> str:
    """A capability name as authors spell it: any case, `CAP_` or not (never `CAP_ALL`)."""
    name = draw(st.sampled_from(CAPABILITIES))
    if name != "ALL" and draw(st.booleans()):
        name = draw(st.sampled_from(("CAP_", "cap_", "Cap_"))) + name
    return draw(st.sampled_from((name, name.lower(), name.title())))


SECURITY_OPTS = ("no-new-privileges", "no-new-privileges:true", "no-new-privileges=true", "no-new-privileges:false",
                 "seccomp:unconfined", "seccomp=unconfined", "apparmor:unconfined", "apparmor=unconfined",
                 "apparmor=docker-default", "label:disable", "label=disable", "label=type:svirt_apache_t",
                 "systempaths=unconfined")
DEVICE_RULES = ("c 1:3 mr", "a *:* rwm", "c *:* rwm", "b 8:* rw", "c 189:* rmw")
USERS = ("root", "0", "0:0", "1000", "1000:1000", "app", "nobody:nogroup", "root:1000", "1000:0")
HOST_PATHS = ("/var/run/docker.sock", "/etc", "/etc/shadow", "/srv/data", "/", "/proc", "/home/app/.ssh",
              "/dev", "/run/containerd/containerd.sock", "/lib/modules", "/tmp/x y")
DEVICES = ("/dev/fuse", "/dev/sda", "/dev/net/tun", "/dev/kmsg", "/dev/dri", "/dev/ttyUSB0", "/dev/mem")
TARGETS = ("/data", "/host", "/var/run/docker.sock", "/etc/app", "/mnt/x", "/sys")


# -- Compose -------------------------------------------------------------------

# Boolean spellings Compose v2 reads (YAML 1.2 words and compose-go's string casts).
COMPOSE_TRUE = ("true", "True", "TRUE", "yes", "Yes", "on", "ON", "y", "Y", '"true"', '"yes"', "'on'")
COMPOSE_FALSE = ("false", "False", "no", "NO", "off", "n", "N", '"false"', "'no'")
COMPOSE_REFUSED = ("1", "0", '"1"', "t", "f", '"T"')  # not booleans to Compose: caplint must say so
NAMESPACE_VALUES = {
    "pid": ("host", "container:abc"),
    "ipc": ("host", "private", "shareable", "none"),
    "network_mode": ("host", "none", "bridge", "container:abc"),
    "userns_mode": ("host", "keep-id"),
    "uts": ("host",),
    "cgroup": ("host", "private"),
}


@dataclass
class ComposeProject:
    """Files in one folder, and the environment Compose and caplint run with."""

    files: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # the process environment
    dotenv: dict[str, str] = field(default_factory=dict)  # written to `.env` when not empty
    stack: list[str] = field(default_factory=lambda: ["compose.yaml"])  # Compose's -f files, in order
    counter: int = 0

    def variable(self) -> str:
        self.counter += 1
        return f"CAPLINT_TEST_V{self.counter}"


def _quoted(text: str) -> str:
    """A YAML scalar for `text` that reads back as that string in any context."""
    return json.dumps(text)


@st.composite
def _scalar(draw: st.DrawFn, project: ComposeProject, value: str, *, plain: bool = False) -> str:
    """`value` as YAML: literal, or through one of the `${VAR…}` forms, with the
    variable in the environment, in `.env`, or unset (unknown to caplint)."""
    if draw(st.booleans()):
        return value if plain else _quoted(value)
    form = draw(st.sampled_from(("braced", "bare", "default", "default-set", "dash", "required", "unset", "alt")))
    name = project.variable()
    place = project.env if draw(st.booleans()) else project.dotenv
    if form == "braced":
        place[name] = value
        text = f"${{{name}}}"
    elif form == "bare":
        place[name] = value
        text = f"${name}"
    elif form == "default":
        if draw(st.booleans()):
            place[name] = ""
        text = f"${{{name}:-{value}}}"
    elif form == "default-set":
        place[name] = value
        text = f"${{{name}:-other}}"
    elif form == "dash":
        text = f"${{{name}-{value}}}"
    elif form == "required":
        place[name] = value
        text = f"${{{name}:?{name} must be set}}"
    elif form == "alt":
        place[name] = "x"
        text = f"${{{name}:+{value}}}"
    else:
        text = f"${{{name}}}"
    return _quoted(text)


@st.composite
def _name_list(draw: st.DrawFn, project: ComposeProject, items: list[str], indent: str) -> str:
    if draw(st.booleans()):
        return "[" + ", ".join(draw(_scalar(project, i)) for i in items) + "]"
    return "".join(f"\n{indent}- {draw(_scalar(project, i))}" for i in items)


@st.composite
def _volume(draw: st.DrawFn, project: ComposeProject, indent: str, named: set[str]) -> str:
    kind = draw(st.sampled_from(("bind", "bind", "relative", "named", "anonymous", "long-bind", "long-volume",
                                 "long-tmpfs", "home")))
    target = draw(st.sampled_from(TARGETS))
    mode = draw(st.sampled_from(("", ":ro", ":rw", ":ro,z", ":z", ":readonly")))
    if kind in ("bind", "relative", "named", "home"):
        source = {"bind": draw(st.sampled_from(HOST_PATHS)), "relative": "./data", "named": "appdata",
                  "home": "~/.aws"}[kind]
        if kind == "named":
            named.add("appdata")
        if mode == ":readonly" and kind == "named":
            mode = ":ro"
        return draw(_scalar(project, f"{source}:{target}{mode if mode != ':readonly' else ':ro'}"))
    if kind == "anonymous":
        return draw(_scalar(project, target))
    pad = indent + "  "
    lines = []
    if kind == "long-bind":
        lines += ["type: bind", f"source: {draw(_scalar(project, draw(st.sampled_from(HOST_PATHS))))}"]
    elif kind == "long-volume":
        named.add("appdata")
        lines += ["type: volume", "source: appdata"]
    else:
        lines += ["type: tmpfs"]
    lines.append(f"target: {_quoted(target)}")
    if kind != "long-tmpfs" and draw(st.booleans()):
        lines.append(f"read_only: {draw(st.sampled_from(COMPOSE_TRUE + COMPOSE_FALSE))}")
    return lines[0] + "".join(f"\n{pad}{line}" for line in lines[1:])


@st.composite
def _device(draw: st.DrawFn, project: ComposeProject, indent: str) -> str:
    host = draw(st.sampled_from(DEVICES))
    # Sometimes one container path for several devices: Compose keeps the last.
    inside = draw(st.sampled_from(("/dev/inside", "/dev/c/" + host.rsplit("/", 1)[-1])))
    form = draw(st.sampled_from(("bare", "pair", "triple", "long")))
    if form == "long":
        return f"source: {_quoted(host)}\n{indent}  target: {_quoted(inside)}\n{indent}  permissions: rwm"
    text = {"bare": host, "pair": f"{host}:{inside}", "triple": f"{host}:{inside}:rwm"}[form]
    return draw(_scalar(project, text))


@st.composite
def _service_fields(draw: st.DrawFn, project: ComposeProject, indent: str, named: set[str]) -> list[str]:
    """Some of the fields caplint reads, each as one YAML `key: value` block."""
    out: list[str] = []
    keys = draw(st.lists(st.sampled_from(("privileged", "cap_add", "cap_drop", "security_opt", "namespace",
                                          "user", "volumes", "devices", "device_cgroup_rules", "build")),
                         min_size=1, max_size=6, unique=True))
    for key in keys:
        if key == "privileged":
            spelling = draw(st.sampled_from(COMPOSE_TRUE + COMPOSE_FALSE + COMPOSE_REFUSED))
            quoted = spelling[0] in "\"'"
            out.append(f"privileged: {spelling if quoted else draw(_scalar(project, spelling, plain=True))}")
        elif key in ("cap_add", "cap_drop"):
            caps = draw(st.lists(capability(), min_size=1, max_size=3))
            out.append(f"{key}: {draw(_name_list(project, caps, indent))}")
        elif key == "security_opt":
            opts = draw(st.lists(st.sampled_from(SECURITY_OPTS), min_size=1, max_size=3, unique=True))
            out.append(f"security_opt: {draw(_name_list(project, opts, indent))}")
        elif key == "device_cgroup_rules":
            rules = draw(st.lists(st.sampled_from(DEVICE_RULES), min_size=1, max_size=2, unique=True))
            out.append(f"device_cgroup_rules: {draw(_name_list(project, rules, indent))}")
        elif key == "namespace":
            ns = draw(st.sampled_from(sorted(NAMESPACE_VALUES)))
            out.append(f"{ns}: {draw(_scalar(project, draw(st.sampled_from(NAMESPACE_VALUES[ns]))))}")
        elif key == "user":
            out.append(f"user: {draw(_scalar(project, draw(st.sampled_from(USERS))))}")
        elif key == "volumes":
            items = [draw(_volume(project, indent, named)) for _ in range(draw(st.integers(1, 3)))]
            out.append("volumes:" + "".join(f"\n{indent}- {item}" for item in items))
        elif key == "devices":
            items = [draw(_device(project, indent)) for _ in range(draw(st.integers(1, 2)))]
            out.append("devices:" + "".join(f"\n{indent}- {item}" for item in items))
        else:
            lines = ["context: ."]
            if draw(st.booleans()):
                lines.append(f"privileged: {draw(st.sampled_from(COMPOSE_TRUE + COMPOSE_FALSE))}")
            if draw(st.booleans()):
                lines.append("entitlements: [security.insecure]")
            out.append("build:" + "".join(f"\n{indent}  {line}" for line in lines))
    return out


def _block(fields: list[str], indent: str) -> str:
    """Fields as mapping lines at `indent` (continuation lines already carry theirs)."""
    return "".join(f"{indent}{f}\n" for f in fields)


@st.composite
def compose_projects(draw: st.DrawFn) -> ComposeProject:
    """A Compose project: anchors, merge keys, extends (same file or another),
    an override pair, `${VAR…}` forms from the environment and `.env`."""
    project = ComposeProject()
    named: set[str] = set()
    field_indent = "      "
    top: list[str] = []
    anchors: list[str] = []
    for n in range(draw(st.integers(0, 2))):
        fields = draw(_service_fields(project, "    ", named))
        anchors.append(f"x-a{n}")
        top.append(f"x-a{n}: &a{n}\n" + _block(fields, "  "))
    services: list[str] = []
    count = draw(st.integers(1, 3))
    for n in range(count):
        lines = [f"image: {draw(st.sampled_from(('alpine', 'nginx:1.27')))}"]
        if anchors and draw(st.booleans()):
            chosen = draw(st.lists(st.sampled_from(range(len(anchors))), min_size=1, max_size=2, unique=True))
            lines.append("<<: *a%d" % chosen[0] if len(chosen) == 1 else "<<: [" + ", ".join(f"*a{c}" for c in chosen) + "]")
        if n > 0 and draw(st.integers(0, 3)) == 0:
            lines.append(f"extends: s{n - 1}" if draw(st.booleans()) else f"extends:\n{field_indent}  service: s{n - 1}")
        if n == 0 and draw(st.integers(0, 4)) == 0:
            base_fields = draw(_service_fields(project, "      ", named))
            project.files["base.yaml"] = "services:\n  base:\n    image: alpine\n" + _block(base_fields, "    ")
            lines.append(f"extends:\n{field_indent}  file: base.yaml\n{field_indent}  service: base")
        lines += draw(_service_fields(project, field_indent, named))
        services.append(f"  s{n}:\n" + _block(lines, field_indent))
    # Declared whether used or not: the override and the extended file may use it too.
    text = "".join(top) + "services:\n" + "".join(services) + "volumes:\n  appdata: {}\n"
    project.files["compose.yaml"] = text
    if draw(st.integers(0, 3)) == 0:
        chosen = draw(st.integers(0, count - 1))
        over = draw(_service_fields(project, field_indent, named))
        project.files["compose.override.yaml"] = f"services:\n  s{chosen}:\n" + _block(over, field_indent)
        project.stack.append("compose.override.yaml")
    return project


# -- Dockerfiles -----------------------------------------------------------------

@st.composite
def _run_body(draw: st.DrawFn, escape: str) -> tuple[str, ...]:
    """Lines of one RUN after its keyword and flags (the first is joined to them)."""
    form = draw(st.sampled_from(("shell", "shell", "continued", "json", "heredoc", "heredoc-bash", "comment")))
    cmds = ("apt-get update", "setcap cap_net_raw+ep /bin/ping", "chmod u+s /usr/bin/x", "echo \"a b\" 'c'",
            "useradd -r app", "go build ./...")
    if form == "shell":
        return (draw(st.sampled_from(cmds)),)
    if form == "continued":
        parts = draw(st.lists(st.sampled_from(cmds), min_size=2, max_size=3))
        pad = draw(st.sampled_from(("", " ")))
        return tuple(f"{p} &&{pad}{escape}" if i < len(parts) - 1 else p for i, p in enumerate(parts))
    if form == "comment":
        return (f"{cmds[0]} && {escape}", "# a comment inside", "", f"    {cmds[1]}")
    if form == "json":
        return (json.dumps(["sh", "-c", draw(st.sampled_from(cmds))]),)
    marker = draw(st.sampled_from(("EOF", "'EOF'", "\"SCRIPT\"", "-EOT")))
    name = marker.strip("'\"-")
    body = tuple(draw(st.lists(st.sampled_from(cmds), min_size=1, max_size=3)))
    tail = ("\t" + name) if marker.startswith("-") else name
    head = f"<<{marker}" if form == "heredoc" else f"bash <<{marker}"
    return (head, *body, tail)


@st.composite
def dockerfiles(draw: st.DrawFn) -> str:
    """A multi-stage Dockerfile: directives, continuations, heredocs, JSON and
    shell forms, RUN flags, USER, comments and blank lines where Docker allows them."""
    escape = draw(st.sampled_from(("\\", "\\", "`")))
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("# syntax=docker/dockerfile:1")
    if escape == "`" or draw(st.booleans()):
        lines.append(f"# escape={escape}")
    if draw(st.booleans()):
        lines.append("ARG BASE=alpine:3.20")
    for n in range(draw(st.integers(1, 3))):
        base = draw(st.sampled_from(("alpine:3.20", "debian:12", "${BASE}" if "ARG BASE" in lines[-1:] else "golang")))
        if n and draw(st.booleans()):
            base = f"s{n - 1}"
        flag = draw(st.sampled_from(("", "--platform=linux/amd64 ")))
        keyword = draw(st.sampled_from(("FROM", "from", "From")))
        lines.append(f"{keyword} {flag}{base} AS s{n}")
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(("RUN", "RUN", "RUN", "USER", "ENV", "blank", "comment", "COPY", "WORKDIR")))
            if kind == "RUN":
                flags = draw(st.lists(st.sampled_from(("--security=insecure", "--network=host", "--network=none",
                                                       "--mount=type=cache,target=/root/.cache",
                                                       "--mount=type=secret,id=tok")), max_size=2, unique=True))
                body = draw(_run_body(escape))
                sep = draw(st.sampled_from((" ", "  ")))
                if flags and draw(st.booleans()):
                    lines.append(f"RUN {' '.join(flags)} {escape}")
                    lines.append("    " + body[0])
                else:
                    lines.append(sep.join(["RUN", *flags, body[0]]))
                lines.extend(body[1:])
            elif kind == "USER":
                lines.append(f"USER {draw(st.sampled_from(USERS))}")
            elif kind == "ENV":
                lines.append("ENV APP_HOME=/app")
            elif kind == "blank":
                lines.append("")
            elif kind == "comment":
                lines.append("# a comment")
            elif kind == "COPY":
                lines.append("COPY --chown=1000:1000 . /app")
            else:
                lines.append("WORKDIR /app")
    return "\n".join(lines) + "\n"


# -- docker command lines ------------------------------------------------------------

# (flag, values it is given): the privilege-relevant options and a few of the rest.
RUN_VALUES: dict[str, tuple[str, ...]] = {
    "--cap-add": CAPABILITIES + ("NET_ADMIN,SYS_TIME", "cap_sys_admin"), "--cap-drop": CAPABILITIES + ("chown,kill",),
    "--security-opt": ("no-new-privileges", "no-new-privileges=true", "seccomp=unconfined", "apparmor=unconfined",
                       "label=disable", "systempaths=unconfined", "label:disable", "seccomp:unconfined"),
    "--pid": ("host",), "--ipc": ("host", "private", "shareable"), "--network": ("host", "none", "bridge"),
    "--net": ("host", "none"), "--userns": ("host",), "--uts": ("host",), "--cgroupns": ("host", "private"),
    "--user": USERS, "-u": USERS,
    "--volume": tuple(f"{h}:{t}" for h, t in zip(HOST_PATHS[:6], TARGETS)) + ("/etc:/e:ro", "named:/n", "/anon"),
    "-v": ("/var/run/docker.sock:/var/run/docker.sock", "/srv:/srv:ro,z", "data:/data:rw"),
    "--mount": ("type=bind,source=/etc,target=/e,readonly", "type=bind,src=/,dst=/host", "type=volume,src=v,dst=/v",
                "type=tmpfs,dst=/t", "type=bind,source=/srv,target=/s,readonly=false"),
    "--tmpfs": ("/run", "/tmp:rw,size=64m"),
    "--device": tuple(f"{d}:/dev/x" for d in DEVICES[:3]) + ("/dev/fuse", "/dev/sda:/dev/xvda:rwm"),
    "--device-cgroup-rule": DEVICE_RULES,
    "-e": ("A=1", "--privileged"), "--name": ("web",), "--workdir": ("/app",), "-p": ("8080:80",),
    "--label": ("-v",), "--hostname": ("-h",),
}
RUN_SWITCHES = ("-d", "--sig-proxy=false", "--rm", "-i", "--init", "--read-only", "-P")  # `create` has no first two
SHORT_CLUSTERS = ("-id", "-di", "-dP", "-iP")
IMAGES = ("alpine", "nginx:1.27", "registry.example.com/team/app:1.0")
TRAILING = ((), ("sh", "-c", "echo hi"), ("--privileged",), ("-v", "/:/host"), ("--cap-add=SYS_ADMIN", "x"))


@st.composite
def _option(draw: st.DrawFn, create: bool) -> list[str]:
    kind = draw(st.sampled_from(("value", "value", "value", "switch", "cluster", "privileged")))
    if kind == "switch":
        return [draw(st.sampled_from(RUN_SWITCHES[2:] if create else RUN_SWITCHES))]
    if kind == "cluster":
        cluster = draw(st.sampled_from(("-iP", "-Pi") if create else SHORT_CLUSTERS))
        if draw(st.booleans()):  # a value letter last in the cluster takes the next word or the rest
            user = draw(st.sampled_from(USERS))
            return [cluster + "u", user] if draw(st.booleans()) else [cluster + "u" + user]
        return [cluster]
    if kind == "privileged":
        return [draw(st.sampled_from(("--privileged", "--privileged=true", "--privileged=false",
                                      "--privileged=1", "--privileged=0", "--privileged=True", "--privileged=F")))]
    flag = draw(st.sampled_from(sorted(RUN_VALUES)))
    value = draw(st.sampled_from(RUN_VALUES[flag]))
    if flag.startswith("--") and draw(st.booleans()):
        return [f"{flag}={value}"]
    if not flag.startswith("--") and draw(st.booleans()) and not value.startswith("-"):
        return [flag + value]  # `-uroot`
    return [flag, value]


@st.composite
def docker_argvs(draw: st.DrawFn) -> list[str]:
    """`docker run|create …`: every flag form, values that look like flags,
    and arguments after the image that belong to the container's command."""
    verb = draw(st.sampled_from((["run"], ["create"], ["container", "run"], ["container", "create"])))
    create = verb[-1] == "create"
    options = [word for _ in range(draw(st.integers(0, 7))) for word in draw(_option(create))]
    image = draw(st.sampled_from(IMAGES))
    rest = list(draw(st.sampled_from(TRAILING)))
    end = ["--"] if draw(st.integers(0, 5)) == 0 else []
    return [*verb, *options, *end, image, *rest]


def shell_line(argv: list[str], program: str = "docker") -> str:
    """The command line as a script would write it, each word quoted only when needed."""
    return " ".join(shlex.quote(w) for w in [program, *argv]) + "\n"
