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
COMPOSE_REFUSED = ("1", "0", '"1"', "t", "f", '"T"', '" true"')  # not booleans to Compose: caplint must say so
# Other fields Compose casts to booleans or numbers while interpolating (caplint reads none of them,
# but Compose refuses the file when one does not cast), with values that do and do not.
FLAG_FIELDS = ("init", "tty", "read_only", "stdin_open", "oom_kill_disable")
NUMBER_FIELDS = {"cpus": ("0.5", "2", "1e0", ".5"), "pids_limit": ("100", "-1", "+5"), "cpu_shares": ("512", "1024")}
BAD_NUMBERS = {"cpus": ("two", "1,5"), "pids_limit": ("1.5", "many"), "cpu_shares": ("0x10",)}
# Written rarely: shapes Compose refuses, which caplint must report.
BAD_VOLUMES = ("/srv/a::/data", "/srv/a:/data:ro:z", ":/data", "/srv/a:")
BAD_TEMPLATES = ("${CAPLINT_TEST_X", "${}", "${1}", "${CAPLINT_TEST_X:x}")
# How a `.env` line may be written (Compose's dotenv and caplint's reader must agree).
DOTENV_SPELLINGS = ("{k}={v}", '{k}="{v}"', "{k}='{v}'", "export {k}={v}", "{k}={v} # a note", " {k} = {v}")
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
    refusals: bool = True  # whether values Compose refuses are written at all
    dotenv_spellings: list[str] = field(default_factory=list)  # one of DOTENV_SPELLINGS per `.env` line
    decoy_dotenv: str | None = None  # a `.env` Compose does not read, beside an extended file

    def dotenv_text(self) -> str:
        spellings = self.dotenv_spellings + ["{k}={v}"] * len(self.dotenv)
        lines = [spelling.format(k=k, v=v) if v or "#" not in spelling else f"{k}={v}"
                 for (k, v), spelling in zip(self.dotenv.items(), spellings)]
        return "# written by the conformance test\n" + "".join(f"{line}\n" for line in lines)

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
    form = draw(st.sampled_from(("braced", "bare", "default", "default-set", "dash", "required", "unset", "alt",
                                 "nested", "question")))
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
    elif form == "question":
        place[name] = value
        text = f"${{{name}?}}"
    elif form == "alt":
        place[name] = "x"
        text = f"${{{name}:+{value}}}"
    elif form == "nested":  # the default is itself a variable, set or not
        inner = project.variable()
        if draw(st.booleans()):
            place[inner] = value
        text = f"${{{name}:-${{{inner}:-{value}}}}}"
    else:
        text = f"${{{name}}}"
    return _quoted(text)


@st.composite
def _boolean(draw: st.DrawFn, project: ComposeProject) -> str:
    """A boolean as authors write it, Compose's refused spellings included, perhaps from a variable."""
    refused = _refusal(draw, project, 7)
    spelling = draw(st.sampled_from(COMPOSE_REFUSED if refused else COMPOSE_TRUE + COMPOSE_FALSE))
    if spelling[0] in "\"'":
        return spelling
    return draw(_scalar(project, spelling, plain=True))


@st.composite
def _name_list(draw: st.DrawFn, project: ComposeProject, items: list[str], indent: str) -> str:
    if _refusal(draw, project, 23):
        return draw(_scalar(project, items[0]))  # a lone string: Compose wants a list
    if draw(st.booleans()):
        return "[" + ", ".join(draw(_scalar(project, i)) for i in items) + "]"
    return "".join(f"\n{indent}- {draw(_scalar(project, i))}" for i in items)


def _items(draw: st.DrawFn, project: ComposeProject, choices: tuple[str, ...], most: int) -> list[str]:
    """Some of `choices`; now and then one twice (Compose refuses equal items in these lists)."""
    return draw(st.lists(st.sampled_from(choices), min_size=1, max_size=most, unique=not _refusal(draw, project, 7)))


def _refusal(draw: st.DrawFn, project: ComposeProject, odds: int) -> bool:
    """Whether to write a value Compose refuses here (1 in odds + 1): only in
    the projects drawn to have some, so that half of them load and are compared."""
    return project.refusals and draw(st.integers(0, odds)) == 0


@st.composite
def _volume(draw: st.DrawFn, project: ComposeProject, indent: str, named: set[str]) -> str:
    kind = draw(st.sampled_from(("bind", "bind", "relative", "named", "anonymous", "long-bind", "long-volume",
                                 "long-tmpfs", "home")))
    target = draw(st.sampled_from(TARGETS))
    mode = draw(st.sampled_from(("", ":ro", ":rw", ":ro,z", ":z", ":readonly")))
    if _refusal(draw, project, 20):
        return draw(_scalar(project, draw(st.sampled_from(BAD_VOLUMES))))
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
        lines.append(f"read_only: {draw(_boolean(project))}")
    return lines[0] + "".join(f"\n{pad}{line}" for line in lines[1:])


@st.composite
def _device(draw: st.DrawFn, project: ComposeProject, indent: str) -> str:
    host = draw(st.sampled_from(DEVICES))
    # Sometimes one container path for several devices: Compose keeps the last.
    inside = draw(st.sampled_from(("/dev/inside", "/dev/c/" + host.rsplit("/", 1)[-1])))
    form = draw(st.sampled_from(("bare", "pair", "triple", "long", "pair", "triple", "bare", "four")))
    if form == "long":
        return f"source: {_quoted(host)}\n{indent}  target: {_quoted(inside)}\n{indent}  permissions: rwm"
    if form == "four" and not _refusal(draw, project, 3):
        form = "pair"  # rarely: Compose refuses a fourth part
    text = {"bare": host, "pair": f"{host}:{inside}", "triple": f"{host}:{inside}:rwm", "four": f"{host}:{inside}:rwm:x"}[form]
    return draw(_scalar(project, text))


@st.composite
def _service_fields(draw: st.DrawFn, project: ComposeProject, indent: str, named: set[str]) -> list[str]:
    """Some of the fields caplint reads, each as one YAML `key: value` block."""
    out: list[str] = []
    keys = draw(st.lists(st.sampled_from(("privileged", "cap_add", "cap_drop", "security_opt", "namespace",
                                          "user", "volumes", "devices", "device_cgroup_rules", "build", "flag",
                                          "number", "note")),
                         min_size=1, max_size=6, unique=True))
    for key in keys:
        if key == "privileged":
            out.append(f"privileged: {draw(_boolean(project))}")
        elif key == "flag":
            out.append(f"{draw(st.sampled_from(FLAG_FIELDS))}: {draw(_boolean(project))}")
        elif key == "number":
            name = draw(st.sampled_from(sorted(NUMBER_FIELDS)))
            choices = BAD_NUMBERS[name] if _refusal(draw, project, 3) else NUMBER_FIELDS[name]
            out.append(f"{name}: {draw(_scalar(project, draw(st.sampled_from(choices))))}")
        elif key == "note":  # a label caplint does not read: only its `${…}` must be one Compose can substitute
            text = draw(st.sampled_from(BAD_TEMPLATES)) if _refusal(draw, project, 7) else "a $$1 note, $5 $"
            out.append(f"labels: {{note: {_quoted(text)}}}")
        elif key in ("cap_add", "cap_drop", "security_opt", "device_cgroup_rules"):
            items = (draw(st.lists(capability(), min_size=1, max_size=3)) if key.startswith("cap_")
                     else _items(draw, project, SECURITY_OPTS, 3) if key == "security_opt"
                     else _items(draw, project, DEVICE_RULES, 2))
            out.append(f"{key}: {draw(_name_list(project, items, indent))}")
        elif key in ("namespace", "user"):
            name = "user" if key == "user" else draw(st.sampled_from(sorted(NAMESPACE_VALUES)))
            choices = USERS if key == "user" else NAMESPACE_VALUES[name]
            out.append(f"{name}: {draw(_scalar(project, draw(st.sampled_from(choices))))}")
        elif key == "volumes":
            items = [draw(_volume(project, indent, named)) for _ in range(draw(st.integers(1, 3)))]
            out.append("volumes:" + "".join(f"\n{indent}- {item}" for item in items))
        elif key == "devices":
            items = [draw(_device(project, indent)) for _ in range(draw(st.integers(1, 2)))]
            out.append("devices:" + "".join(f"\n{indent}- {item}" for item in items))
        else:
            lines = ["context: ."]
            if draw(st.booleans()):
                lines.append(f"privileged: {draw(_boolean(project))}")
            if draw(st.booleans()):
                lines.append("entitlements: [security.insecure]")
            out.append("build:" + "".join(f"\n{indent}  {line}" for line in lines))
    return out


def _block(fields: list[str], indent: str) -> str:
    """Fields as mapping lines at `indent` (continuation lines already carry theirs)."""
    return "".join(f"{indent}{f}\n" for f in fields)


@st.composite
def _extended_file(draw: st.DrawFn, project: ComposeProject, named: set[str]) -> str:
    """A file for `extends: file:` — beside the project or in a folder of its own,
    perhaps with other services (Compose interpolates them too) — and its name."""
    name = draw(st.sampled_from(("base.yaml", "sub/base.yaml")))
    text = "services:\n  base:\n    image: alpine\n" + _block(draw(_service_fields(project, "      ", named)), "    ")
    if draw(st.booleans()):
        text += "  other:\n    image: alpine\n" + _block(draw(_service_fields(project, "      ", named)), "    ")
    project.files[name] = text
    if name.startswith("sub/") and draw(st.booleans()):
        project.decoy_dotenv = "sub/.env"  # Compose reads the project's `.env`, not this one
    return name


@st.composite
def compose_projects(draw: st.DrawFn) -> ComposeProject:
    """A Compose project: anchors, merge keys, extends (same file or another),
    an override pair, `${VAR…}` forms from the environment and `.env`."""
    project = ComposeProject(refusals=draw(st.booleans()))
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
        if n == 0 and draw(st.integers(0, 3)) == 0:
            lines.append(f"extends:\n{field_indent}  file: {draw(_extended_file(project, named))}\n"
                         f"{field_indent}  service: base")
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
    project.dotenv_spellings = [draw(st.sampled_from(DOTENV_SPELLINGS)) for _ in project.dotenv]
    return project


# -- Dockerfiles -----------------------------------------------------------------

@st.composite
def _run_body(draw: st.DrawFn, escape: str) -> tuple[str, ...]:
    """Lines of one RUN after its keyword and flags (the first is joined to them)."""
    form = draw(st.sampled_from(("shell", "shell", "continued", "json", "heredoc", "heredoc-bash", "comment",
                                 "not-json", "two-heredocs", "blank-continued")))
    cmds = ("apt-get update", "setcap cap_net_raw+ep /bin/ping", "chmod u+s /usr/bin/x", "echo \"a b\" 'c'",
            "useradd -r app", "go build ./...", "echo $HOME ${PATH}")
    if form == "shell":
        return (draw(st.sampled_from(cmds)),)
    if form == "continued":
        parts = draw(st.lists(st.sampled_from(cmds), min_size=2, max_size=3))
        pad = draw(st.sampled_from(("", " ")))
        after = draw(st.sampled_from(("", "", " ", "\t ")))  # whitespace after the escape still continues
        return tuple(f"{p} &&{pad}{escape}{after}" if i < len(parts) - 1 else p for i, p in enumerate(parts))
    if form == "comment":
        return (f"{cmds[0]} && {escape}", draw(st.sampled_from(("# a comment inside", "  # indented", "#"))), "",
                f"    {cmds[1]}")
    if form == "blank-continued":
        return (f"{cmds[0]} && {escape}", draw(st.sampled_from(("", "   "))), f"    {cmds[1]}")
    if form == "json":
        words = draw(st.sampled_from((["sh", "-c", draw(st.sampled_from(cmds))], ["/bin/true"], ["echo", "a\\b"])))
        return (json.dumps(words, separators=draw(st.sampled_from(((", ", ": "), (",", ":"))))),)
    if form == "not-json":  # not valid JSON: the shell form
        return (draw(st.sampled_from(("[ -f /etc/x ] && echo y", "['sh', '-c', 'id']", "[\"sh\", \"-c\""))),)
    body = tuple(draw(st.lists(st.sampled_from(cmds), min_size=1, max_size=3)))
    if form == "two-heredocs":
        return ("<<A <<B", *body, "A", "echo second", "B")
    marker = draw(st.sampled_from(("EOF", "'EOF'", "\"SCRIPT\"", "-EOT", "-'EOT'")))
    name = marker.strip("'\"-")
    tail = ("\t" + name) if marker.startswith("-") else name
    if marker.startswith("-"):
        body = tuple("\t" + line for line in body)
    head = f"<<{marker}" if form == "heredoc" else f"bash <<{marker}"
    return (head, *body, tail)


def _keyword(draw: st.DrawFn, word: str) -> str:
    return draw(st.sampled_from((word, word.lower(), word.title())))


@st.composite
def dockerfiles(draw: st.DrawFn) -> str:
    """A multi-stage Dockerfile: directives, continuations, heredocs, JSON and
    shell forms, RUN flags, USER, ONBUILD, comments and blank lines where Docker allows them."""
    escape = draw(st.sampled_from(("\\", "\\", "`")))
    lines: list[str] = []
    directives = []
    if draw(st.booleans()):
        directives.append(draw(st.sampled_from(("# syntax=docker/dockerfile:1", "#syntax=docker/dockerfile:1.7",
                                                "# check=skip=all"))))
    if escape == "`" or draw(st.booleans()):
        directives.append(draw(st.sampled_from((f"# escape={escape}", f"#escape={escape}", f"# ESCAPE = {escape}"))))
    lines += draw(st.permutations(directives))
    if draw(st.booleans()):
        lines.append("ARG BASE=alpine:3.20")
    for n in range(draw(st.integers(1, 3))):
        base = draw(st.sampled_from(("alpine:3.20", "debian:12", "${BASE}" if "ARG BASE" in lines[-1:] else "golang")))
        if n and draw(st.booleans()):
            base = f"s{n - 1}"
        flag = draw(st.sampled_from(("", "--platform=linux/amd64 ", "--platform=$BUILDPLATFORM ")))
        indent = draw(st.sampled_from(("", "", "  ")))
        lines.append(f"{indent}{_keyword(draw, 'FROM')} {flag}{base} {draw(st.sampled_from(('AS', 'as')))} s{n}")
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.sampled_from(("RUN", "RUN", "RUN", "USER", "ENV", "blank", "comment", "COPY", "WORKDIR",
                                         "ONBUILD")))
            if kind in ("RUN", "ONBUILD"):
                flags = draw(st.lists(st.sampled_from(("--security=insecure", "--network=host", "--network=none",
                                                       "--mount=type=cache,target=/root/.cache",
                                                       "--mount=type=secret,id=tok", "--device=/dev/fuse")),
                                      max_size=2, unique=True))
                body = draw(_run_body(escape))
                sep = draw(st.sampled_from((" ", "  ")))
                keyword = _keyword(draw, "RUN") if kind == "RUN" else f"{_keyword(draw, 'ONBUILD')} RUN"
                if kind == "ONBUILD" and "<<" in body[0]:
                    body = ("apt-get update",)  # BuildKit keeps no heredoc under ONBUILD
                if flags and draw(st.booleans()):
                    lines.append(f"{keyword} {' '.join(flags)} {escape}")
                    lines.append("    " + body[0])
                else:
                    lines.append(sep.join([keyword, *flags, body[0]]))
                lines.extend(body[1:])
            elif kind == "USER":
                user = draw(st.sampled_from(USERS))
                lines.append(f"{_keyword(draw, 'USER')} {draw(st.sampled_from((user, user, repr(user).replace(chr(39), chr(34)))))}")
            elif kind == "ENV":
                lines.append(draw(st.sampled_from(("ENV APP_HOME=/app", "ENV A=1 B=\"two words\"", "ENV OLD style"))))
            elif kind == "blank":
                lines.append(draw(st.sampled_from(("", "   "))))
            elif kind == "comment":
                # After an instruction a directive is only a comment.
                lines.append(draw(st.sampled_from(("# a comment", "  # indented comment", "#RUN not a run",
                                                   "# escape=`" if escape != "`" else "# escape=\\"))))
            elif kind == "COPY":
                lines.append(draw(st.sampled_from(("COPY --chown=1000:1000 . /app", "COPY <<EOF /etc/x\nx\nEOF",
                                                   "COPY --from=s0 /a /b"))))
            else:
                lines.append("WORKDIR /app")
    newline = "\r\n" if draw(st.integers(0, 7)) == 0 else "\n"
    return newline.join(lines) + newline


# -- docker command lines ------------------------------------------------------------

# (flag, values it is given): the privilege-relevant options and a few of the rest.
RUN_VALUES: dict[str, tuple[str, ...]] = {
    "--cap-add": CAPABILITIES + ("NET_ADMIN,SYS_TIME", "cap_sys_admin"), "--cap-drop": CAPABILITIES + ("chown,kill",),
    "--security-opt": ("no-new-privileges", "no-new-privileges=true", "seccomp=unconfined", "apparmor=unconfined",
                       "label=disable", "systempaths=unconfined", "label:disable", "seccomp:unconfined"),
    "--pid": ("host", "container:abc"), "--ipc": ("host", "private", "shareable", "container:abc"),
    "--network": ("host", "none", "bridge", "container:abc"),
    "--net": ("host", "none"), "--userns": ("host",), "--uts": ("host",), "--cgroupns": ("host", "private"),
    "--user": USERS, "-u": USERS,
    "--volume": tuple(f"{h}:{t}" for h, t in zip(HOST_PATHS[:6], TARGETS)) + ("/etc:/e:ro", "named:/n", "/anon"),
    "-v": ("/var/run/docker.sock:/var/run/docker.sock", "/srv:/srv:ro,z", "data:/data:rw", "/:/host:ro,rslave",
           "/etc:/e:Z"),
    "--mount": ("type=bind,source=/etc,target=/e,readonly", "type=bind,src=/,dst=/host", "type=volume,src=v,dst=/v",
                "type=tmpfs,dst=/t", "type=bind,source=/srv,target=/s,readonly=false", "type=bind,src=/etc,dst=/e,ro",
                "type=bind,source=/srv,target=/s,readonly=true", "type=bind,src=/srv,dst=/s,bind-propagation=rshared",
                "src=/var/run/docker.sock,dst=/s,type=bind"),
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


# What podman takes beyond docker's values (podman-run(1)).
PODMAN_VALUES: dict[str, tuple[str, ...]] = {
    **RUN_VALUES,
    "--userns": ("host", "keep-id", "auto"),
    "--security-opt": RUN_VALUES["--security-opt"] + ("unmask=ALL", "mask=/proc/kcore", "no-new-privileges=false"),
    "--cap-add": RUN_VALUES["--cap-add"] + ("net_raw,CAP_SYS_PTRACE", "ALL"),
    "--cap-drop": RUN_VALUES["--cap-drop"] + ("ALL,net_raw",),
}


@st.composite
def _option(draw: st.DrawFn, create: bool, values: dict[str, tuple[str, ...]] = RUN_VALUES) -> list[str]:
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
    flag = draw(st.sampled_from(sorted(values)))
    value = draw(st.sampled_from(values[flag]))
    if flag.startswith("--") and draw(st.booleans()):
        return [f"{flag}={value}"]
    if not flag.startswith("--") and draw(st.booleans()) and not value.startswith("-"):
        return [flag + value]  # `-uroot`
    return [flag, value]


@st.composite
def docker_argvs(draw: st.DrawFn, podman: bool = False) -> list[str]:
    """`docker run|create …` (or podman's): every flag form, values that look
    like flags, and arguments after the image that belong to the container's command."""
    verb = draw(st.sampled_from((["run"], ["create"], ["container", "run"], ["container", "create"])))
    create = verb[-1] == "create"
    values = PODMAN_VALUES if podman else RUN_VALUES
    options = [word for _ in range(draw(st.integers(0, 7))) for word in draw(_option(create, values))]
    image = draw(st.sampled_from(IMAGES))
    rest = list(draw(st.sampled_from(TRAILING)))
    end = ["--"] if draw(st.integers(0, 5)) == 0 else []
    return [*verb, *options, *end, image, *rest]


def shell_line(argv: list[str], program: str = "docker") -> str:
    """The command line as a script would write it, each word quoted only when needed."""
    return " ".join(shlex.quote(w) for w in [program, *argv]) + "\n"
