"""The docker/podman/nerdctl option grammar and what each option maps to."""
from __future__ import annotations

import pytest

from caplint import values
from caplint.model import Container, Located
from caplint.formats.dockercli import flags as runflags
from caplint.formats.dockercli.command import container_for
from caplint.formats.shell import parser as shell


def words(line: str) -> tuple[Located[str], ...]:
    cmds, problems = shell.commands(line, "t.sh")
    assert not problems and len(cmds) == 1
    return cmds[0].words


def container(line: str) -> Container:
    c = container_for(words(line))
    assert c is not None, line
    return c


def scan_run(line: str) -> tuple[list[tuple[str, str | None]], str | None]:
    """Options as (name, value) and the image, for `docker run …`."""
    ws = words(line)
    options, operand = runflags.scan(ws, 2, runflags.RUN)
    image = ws[operand].value if operand < len(ws) else None
    return [(o.name, o.value.value if o.value else None) for o in options], image


@pytest.mark.parametrize(
    ("line", "options", "image"),
    [
        ("docker run alpine", [], "alpine"),
        ("docker run --cap-add=SYS_ADMIN alpine", [("--cap-add", "SYS_ADMIN")], "alpine"),
        ("docker run --cap-add SYS_ADMIN alpine", [("--cap-add", "SYS_ADMIN")], "alpine"),
        ("docker run -it alpine sh", [("-i", None), ("-t", None)], "alpine"),
        ("docker run -itd alpine", [("-i", None), ("-t", None), ("-d", None)], "alpine"),
        ("docker run -it --rm alpine", [("-i", None), ("-t", None), ("--rm", None)], "alpine"),
        ("docker run -ti alpine", [("-t", None), ("-i", None)], "alpine"),
        # in a cluster, the letter that takes a value takes the rest or the next word
        ("docker run -dp 80:80 nginx", [("-d", None), ("-p", "80:80")], "nginx"),
        ("docker run -dp80:80 nginx", [("-d", None), ("-p", "80:80")], "nginx"),
        ("docker run -u=root alpine", [("-u", "root")], "alpine"),
        ("docker run -uroot alpine", [("-u", "root")], "alpine"),
        ("docker run -v /a:/b -w /b alpine", [("-v", "/a:/b"), ("-w", "/b")], "alpine"),
        # booleans never take the next word
        ("docker run --privileged alpine", [("--privileged", None)], "alpine"),
        ("docker run --privileged=false alpine", [("--privileged", "false")], "alpine"),
        ("docker run --rm --init alpine", [("--rm", None), ("--init", None)], "alpine"),
        # a value option takes the next word even when it looks like an option
        ("docker run --name --privileged alpine", [("--name", "--privileged")], "alpine"),
        # `--` ends the options
        ("docker run --rm -- alpine --privileged", [("--rm", None)], "alpine"),
        # unknown long options: no value unless written with `=`
        ("docker run --future-switch alpine", [("--future-switch", None)], "alpine"),
        ("docker run --future-opt=x alpine", [("--future-opt", "x")], "alpine"),
        # podman and nerdctl additions
        ("docker run --pod mypod --systemd always fedora", [("--pod", "mypod"), ("--systemd", "always")], "fedora"),
        ("docker run --rootfs /srv/root sh", [("--rootfs", None)], "/srv/root"),
        ("docker run --cosign-key k.pub alpine", [("--cosign-key", "k.pub")], "alpine"),
        ("docker run --rm", [("--rm", None)], None),
    ],
)
def test_option_grammar(line: str, options: list[tuple[str, str | None]], image: str | None) -> None:
    assert scan_run(line) == (options, image)


@pytest.mark.parametrize(
    "line",
    [
        "docker run alpine echo --privileged",
        "docker run -v /data:/data alpine sh -c 'run --privileged'",
        "docker run --rm -it ubuntu:22.04 bash --cap-add=SYS_ADMIN",
        "docker run -e MODE=--privileged alpine",
    ],
)
def test_flags_after_the_image_belong_to_the_container(line: str) -> None:
    c = container(line)
    assert c.privileged is None and c.cap_add == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", True), ("=true", True), ("=1", True), ("=True", True), ("=false", False), ("=0", False), ("=F", False)],
)
def test_privileged_booleans(value: str, expected: bool) -> None:
    c = container(f"docker run --privileged{value} alpine")
    assert c.privileged is not None and c.privileged.value is expected and c.privileged.resolved


def test_privileged_from_a_variable_is_unknown() -> None:
    c = container('docker run --privileged="$PRIV" alpine')
    assert c.privileged is not None and not c.privileged.resolved


def test_cap_list_gives_one_located_name_each() -> None:
    c = container("docker run --cap-add=NET_ADMIN,SYS_TIME --cap-drop ALL alpine")
    assert [(x.value, x.span.column, x.span.end_column) for x in c.cap_add] == [
        ("NET_ADMIN", 22, 31), ("SYS_TIME", 32, 40)]
    assert [x.value for x in c.cap_drop] == ["ALL"]


def test_quoted_capability_points_inside_the_quotes() -> None:
    c = container('docker run "--cap-add=SYS_ADMIN" alpine')
    (cap,) = c.cap_add
    assert (cap.value, cap.raw, cap.span.column, cap.span.end_column) == ("SYS_ADMIN", "SYS_ADMIN", 23, 32)


def test_capability_in_a_variable_is_unresolved() -> None:
    c = container("docker run --cap-add=$EXTRA_CAP --cap-add NET_ADMIN alpine")
    assert [(x.value, x.resolved) for x in c.cap_add] == [("$EXTRA_CAP", False), ("NET_ADMIN", True)]


@pytest.mark.parametrize(
    ("opt", "expected"),
    [
        ("--security-opt seccomp=unconfined", ("seccomp=unconfined",)),
        ("--security-opt=seccomp:unconfined", ("seccomp:unconfined",)),
        ("--security-opt apparmor=unconfined --security-opt no-new-privileges", ("apparmor=unconfined", "no-new-privileges")),
        ("--security-opt label=disable", ("label=disable",)),
    ],
)
def test_security_opts(opt: str, expected: tuple[str, ...]) -> None:
    assert tuple(x.value for x in container(f"docker run {opt} alpine").security_opt) == expected


@pytest.mark.parametrize(
    ("opt", "field", "value"),
    [
        ("--pid=host", "pid", "host"),
        ("--pid host", "pid", "host"),
        ("--ipc=host", "ipc", "host"),
        ("--network host", "network", "host"),
        ("--net=host", "network", "host"),
        ("--network name=host,alias=web", "network", "host"),
        ("--userns=host", "userns", "host"),
        ("--uts=host", "uts", "host"),
        ("--cgroupns=host", "cgroupns", "host"),
        ("-u root", "user", "root"),
        ("--user=0:0", "user", "0:0"),
    ],
)
def test_namespaces_and_user(opt: str, field: str, value: str) -> None:
    located = getattr(container(f"docker run {opt} alpine"), field)
    assert located is not None and located.value == value


def test_podman_empty_userns_means_host() -> None:
    c = container('podman run --userns="" fedora')
    assert c.userns is not None and c.userns.value == "host"
    assert container('docker run --userns="" alpine').userns.value == ""  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("opt", "source", "target", "kind", "read_only"),
    [
        ("-v /var/run/docker.sock:/var/run/docker.sock", "/var/run/docker.sock", "/var/run/docker.sock", "bind", False),
        ("-v /etc:/host/etc:ro", "/etc", "/host/etc", "bind", True),
        ("--volume=./data:/data:rw,z", "./data", "/data", "bind", False),
        ("-v ~/.ssh:/root/.ssh:readonly", "~/.ssh", "/root/.ssh", "bind", True),
        ('-v "$PWD":/src', "$PWD", "/src", "bind", False),
        ("-v /srv:/srv:Z,U", "/srv", "/srv", "bind", False),
        ("-v pgdata:/var/lib/postgresql/data", "pgdata", "/var/lib/postgresql/data", "volume", False),
        ("-v /scratch", None, "/scratch", "volume", False),
        ("--mount type=bind,source=/,target=/host,readonly", "/", "/host", "bind", True),
        ("--mount type=bind,src=/run,dst=/run,ro=true", "/run", "/run", "bind", True),
        ("--mount=type=bind,source=/a,destination=/b,readonly=false", "/a", "/b", "bind", False),
        ("--mount source=cache,target=/cache", "cache", "/cache", "volume", False),
        ("--mount type=tmpfs,target=/tmp", None, "/tmp", "tmpfs", False),
        ("--tmpfs /run:rw,size=64m", None, "/run", "tmpfs", False),
    ],
)
def test_mounts(opt: str, source: str | None, target: str, kind: str, read_only: bool) -> None:
    (m,) = container(f"docker run {opt} alpine").mounts
    assert (m.source.value if m.source else None, m.target, m.kind, m.read_only) == (source, target, kind, read_only)


@pytest.mark.parametrize(
    ("opt", "value", "resolved"),
    [
        ('-v "$HOME/.aws:/root/.aws"', "~/.aws", True),
        ('-v "$HOME"/.ssh:/root/.ssh', "~/.ssh", True),
        ("-v ${HOME}/.kube:/root/.kube:ro", "~/.kube", True),
        ('--mount "type=bind,source=$HOME/.docker,target=/d"', "~/.docker", True),
        ("-v $HOME:/home/me", "~", True),
        # only `$HOME` itself is known
        ('-v "$HOME/$PROJECT:/src"', "~/$PROJECT", False),
        ("-v $HOMEDIR/.aws:/root/.aws", "$HOMEDIR/.aws", False),
        ("-v ${HOME}x/.aws:/root/.aws", "${HOME}x/.aws", False),
        ("-v ${HOME:-/root}/.aws:/root/.aws", "${HOME:-/root}/.aws", False),
        ("-v '$HOME/.aws:/root/.aws'", "$HOME/.aws", True),  # single quotes: literal text
    ],
)
def test_home_variable_in_a_bind_source_is_the_home(opt: str, value: str, resolved: bool) -> None:
    (m,) = container(f"docker run {opt} alpine").mounts
    assert m.source is not None and (m.source.value, m.source.resolved) == (value, resolved)
    assert m.source.raw.lstrip("'\"").startswith("$") and m.kind == "bind"


def test_mount_source_points_at_the_host_path() -> None:
    (m,) = container("docker run --mount type=bind,source=/etc,target=/e alpine").mounts
    assert m.source is not None and (m.source.span.column, m.source.span.end_column) == (37, 41)


@pytest.mark.parametrize(
    ("opt", "host", "inside"),
    [
        ("--device /dev/fuse", "/dev/fuse", None),
        ("--device=/dev/sda:/dev/xvda:rwm", "/dev/sda", "/dev/xvda"),
        ("--device /dev/kvm:rw", "/dev/kvm", None),
    ],
)
def test_devices(opt: str, host: str, inside: str | None) -> None:
    (d,) = container(f"docker run {opt} alpine").devices
    assert (d.host.value, d.container) == (host, inside)


def test_device_cgroup_rule_is_one_value() -> None:
    c = container("docker run --device-cgroup-rule='c 189:* rmw' alpine")
    assert [r.value for r in c.device_cgroup_rules] == ["c 189:* rmw"]


def test_unquoted_variable_before_known_options_is_read_as_options() -> None:
    c = container("docker run $DOCKER_OPTS --privileged alpine")
    assert c.privileged is not None and c.name == "docker run alpine"


def test_variable_image_stays_the_image() -> None:
    c = container("docker run --rm $IMAGE ./test.sh --privileged")
    assert c.privileged is None and c.name == "docker run $IMAGE"


def test_every_table_entry_is_consistent() -> None:
    for table in (runflags.RUN, runflags.EXEC, runflags.COMPOSE_RUN, runflags.SERVICE_CREATE, runflags.BUILD):
        for name in ("--cap-add", "--privileged", "-v", "--user"):
            flag = table.get(name)
            if flag is not None:
                assert flag.field is None or flag.field in values.fields(Container)
    assert runflags.RUN.get("--privileged") == runflags.Flag("privileged", None, False, "privileged")
    assert runflags.RUN.get("-v") is runflags.RUN.get("--volume")


def test_separators_inside_expansions_do_not_split() -> None:
    c = container('docker run -v "${DATA_DIR:-/srv/data}:/data:ro" --cap-add="${CAPS:-NET_ADMIN,SYS_TIME}" alpine')
    (m,) = c.mounts
    assert m.source is not None and (m.source.value, m.target, m.read_only) == ("${DATA_DIR:-/srv/data}", "/data", True)
    assert not m.source.resolved and m.kind == "bind"
    assert [(x.value, x.resolved) for x in c.cap_add] == [("${CAPS:-NET_ADMIN,SYS_TIME}", False)]
