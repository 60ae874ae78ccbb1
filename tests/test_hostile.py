"""Hostile input, through the real CLI process and through `lint_file`.

Every case: no traceback, no hang (each process runs under a timeout), memory
bounded, the real findings of the other files still reported, and the exit
code the README documents (1: a finding at or above medium; CAP001 is high).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from caplint import engine
from caplint.discover import Found, kind_by_name
from caplint.engine import lint_file
from caplint.model import Finding, ParseResult
from caplint.parallel import map_files

TIMEOUT = 60  # seconds; a hang fails the test instead of the CI job
MAX_RSS_MIB = 300

# A file with real findings that sits beside every hostile input.
REAL_COMPOSE = """\
services:
  web:
    image: nginx:1.27
    privileged: true
    cap_add: [SYS_ADMIN]
"""
REAL = {("real/docker-compose.yml", 4, "CAP101"), ("real/docker-compose.yml", 5, "CAP202")}


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mib: float

    @property
    def findings(self) -> list[dict[str, object]]:
        return json.loads(self.stdout)["findings"]  # type: ignore[no-any-return]

    def rules_at(self, path: str) -> set[tuple[int, str]]:
        return {(int(f["line"]), str(f["rule"])) for f in self.findings if f["path"] == path}  # type: ignore[call-overload]

    def messages(self, path: str) -> str:
        return "\n".join(str(f["message"]) for f in self.findings if f["path"] == path)


# Runs the command given after the file name, then writes the command's peak RSS
# (KiB) there. A child's peak counts the RSS of the process it was forked from
# (Linux folds the pre-exec high-water mark in), so caplint must be forked from
# this small process, not from the test process, which can be hundreds of MB.
_MEASURE = ("import resource, subprocess, sys\n"
            "code = subprocess.call(sys.argv[2:])\n"
            "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
            "sys.exit(code)\n")


def cli(cwd: Path, *args: str) -> Outcome:
    """`caplint check --format json ARGS` in `cwd`, with its time and peak memory."""
    env = {**os.environ, "NO_COLOR": "1"}
    with tempfile.TemporaryDirectory() as scratch:
        rss_file = os.path.join(scratch, "rss")
        cmd = [sys.executable, "-c", _MEASURE, rss_file, sys.executable, "-m", "caplint", "check", "--format", "json",
               *args]
        start = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the wrapper and caplint under it
            proc.communicate()
            pytest.fail(f"caplint {' '.join(args)} did not finish within {TIMEOUT} s")
        rss = int(Path(rss_file).read_text()) / 1024
    return Outcome(proc.returncode, out, err, time.monotonic() - start, rss)


def assert_sane(o: Outcome) -> None:
    assert "Traceback" not in o.stderr, o.stderr
    assert not re.search(r"\w+Warning:", o.stderr), f"a Python warning reached the user:\n{o.stderr}"
    assert o.returncode == 1, (o.returncode, o.stderr, o.stdout[:2000])
    assert o.max_rss_mib < MAX_RSS_MIB, o.max_rss_mib
    got = {(str(f["path"]), int(f["line"]), str(f["rule"])) for f in o.findings}  # type: ignore[call-overload]
    assert REAL <= got, f"real findings lost: {sorted(REAL - got)}"


# --- the hostile inputs: each writes its file(s) under `root` and returns the
# path to name on the command line -------------------------------------------


def alias_bomb(root: Path) -> str:
    """Billion laughs: nine levels of ten aliases each (10⁹ leaves if expanded)."""
    lines = ['x-a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"x-a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    lines += ["services:", "  app:", "    image: alpine:3.20", "    cap_add: *a9", "    volumes: *a9",
              "    security_opt: *a9", "    devices: *a9", "    environment: *a9", ""]
    (root / "docker-compose.yml").write_text("\n".join(lines))
    return "docker-compose.yml"


def merge_bomb(root: Path) -> str:
    """The same through `<<` merge keys: each mapping merges the previous one ten times."""
    lines = ["x-m0: &m0 {cap_add: [NET_ADMIN], user: root}"]
    for i in range(1, 10):
        lines += [f"x-m{i}: &m{i}", f"  <<: [{', '.join([f'*m{i - 1}'] * 10)}]", f"  label{i}: x"]
    lines += ["services:", "  app:", "    <<: *m9", "    image: alpine:3.20", ""]
    (root / "compose.yaml").write_text("\n".join(lines))
    return "compose.yaml"


def oversized(root: Path) -> str:
    """Over the default 5 MiB limit: a sparse file, so the test writes nothing real."""
    with open(root / "docker-compose.yml", "wb") as fh:
        fh.truncate(6 * 1024 * 1024)
    return "docker-compose.yml"


def deep_flow_yaml(root: Path) -> str:
    (root / "docker-compose.yml").write_text("services: " + "[" * 50_000 + "]" * 50_000 + "\n")
    return "docker-compose.yml"


def deep_block_yaml(root: Path) -> str:
    (root / "docker-compose.yml").write_text("services:\n  x:\n    cap_add:\n      " + "- " * 50_000 + "SYS_ADMIN\n")
    return "docker-compose.yml"


def deep_shell(root: Path) -> str:
    text = "#!/bin/sh\necho " + "$(" * 50_000 + "true" + ")" * 50_000 + "\ndocker run --privileged alpine\n"
    (root / "nest.sh").write_text(text)
    return "nest.sh"


def huge_continued_line(root: Path) -> str:
    body = "".join(f"    && echo step{i} \\\n" for i in range(50_000))
    (root / "Dockerfile").write_text(f"FROM debian:12\nRUN true \\\n{body}    && true\nUSER 1000\n")
    return "Dockerfile"


def binary_compose(root: Path) -> str:
    (root / "docker-compose.yml").write_bytes(bytes(range(256)) * 64)
    return "docker-compose.yml"


def binary_dockerfile(root: Path) -> str:
    (root / "Dockerfile").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(4000))
    return "Dockerfile"


def bad_utf8(root: Path) -> str:
    (root / "Dockerfile").write_bytes(b"FROM alpine:3.20\n# caf\xe9 \xff\xfe\nUSER root\n")
    return "Dockerfile"


def utf16_bom(root: Path) -> str:
    (root / "docker-compose.yml").write_bytes(REAL_COMPOSE.encode("utf-16"))
    return "docker-compose.yml"


def crlf(root: Path) -> str:
    (root / "docker-compose.yml").write_bytes(REAL_COMPOSE.replace("\n", "\r\n").encode())
    (root / "Dockerfile").write_bytes(b"FROM alpine:3.20\r\nRUN apk add --no-cache libcap \\\r\n"
                                      b"    && setcap cap_sys_admin+ep /bin/busybox\r\nUSER root\r\n")
    return "."


def python_tags(root: Path) -> str:
    marker = root / "pwned"
    (root / "docker-compose.yml").write_text(
        f'x-evil: !!python/object/apply:os.system ["touch {marker}"]\n'
        "services:\n"
        "  web:\n"
        f'    image: !!python/object/apply:os.system ["touch {marker}"]\n'
        f"    command: !!python/object/new:subprocess.check_output [[touch, {marker}]]\n"
        '    user: !!python/name:os.system ""\n'
    )
    return "docker-compose.yml"


def private_use_characters(root: Path) -> str:
    """`{` before a character of the private-use planes crashed tree-sitter-bash
    (SIGSEGV) in most runs; many lines make one parse hit it reliably."""
    lines = [f"echo {{{chr(0xF0000 + i)}}} {{\U0010fffd \U000e0001" for i in range(2000)]
    (root / "emoji.sh").write_text("#!/bin/sh\n" + "\n".join(lines) + "\ndocker run --privileged alpine:3.20\n")
    (root / "Dockerfile").write_text("FROM alpine:3.20\n" + "".join(f"RUN echo {{{chr(0xF0000 + i)}\n" for i in range(500))
                                     + "USER root\n")
    return "."


def reused_anchor(root: Path) -> str:
    """Legal YAML (the later anchor wins) that makes ruamel.yaml emit a Python warning."""
    (root / "docker-compose.yml").write_text(
        "x-a: &base\n  cap_add: [NET_ADMIN]\nx-b: &base\n  cap_add: [SYS_ADMIN]\n"
        "services:\n  web:\n    image: nginx:1.27\n    <<: *base\n"
    )
    return "docker-compose.yml"


def unterminated_quote(root: Path) -> str:
    (root / "run.sh").write_text('#!/bin/bash\ndocker run --cap-add NET_ADMIN "alpine:3.20\necho done\n')
    (root / "docker-compose.yml").write_text('services:\n  web:\n    image: "nginx\n    privileged: true\n')
    return "."


def truncated_heredoc(root: Path) -> str:
    (root / "setup.sh").write_text("#!/bin/bash\ncat <<EOF > /etc/app.conf\nkey=value\n")
    (root / "Dockerfile").write_text("FROM alpine:3.20\nRUN <<EOF\napk add curl\nchmod u+s /bin/ping\n")
    return "."


def directory_named_dockerfile(root: Path) -> str:
    (root / "Dockerfile").mkdir()
    (root / "Dockerfile" / "notes.txt").write_text("not a Dockerfile\n")
    return "Dockerfile"


def symlink_loop(root: Path) -> str:
    (root / "docker-compose.yml").symlink_to("docker-compose.yml")
    (root / "sub").mkdir()
    (root / "sub" / "back").symlink_to("..", target_is_directory=True)
    return "docker-compose.yml"


def fifo_compose(root: Path) -> str:
    os.mkfifo(root / "docker-compose.yml")
    return "docker-compose.yml"


def fifo_without_extension(root: Path) -> str:
    """A name with no extension is sniffed for a shebang: opening a FIFO would block."""
    os.mkfifo(root / "entrypoint")
    return "entrypoint"


def dangling_symlink(root: Path) -> str:
    """A path whose open fails even for root (chmod 000 does not stop root)."""
    (root / "Dockerfile").symlink_to("does-not-exist")
    return "Dockerfile"


def unreadable(root: Path) -> str:
    path = root / "Dockerfile"
    path.write_text("FROM alpine:3.20\nUSER root\n")
    path.chmod(0)
    return "Dockerfile"


# What each explicitly named hostile path must produce: a CAP001 message part,
# or (line, rule) findings of the file itself.
@dataclass(frozen=True)
class Case:
    make: Callable[[Path], str]
    cap001: str | None = None  # a part of the CAP001 message, if the named file is an error
    # (path, line, rule) that must be reported; line 0: on any line.
    found: frozenset[tuple[str, int, str]] = frozenset()
    # False where a regression would crash the interpreter itself (native code):
    # lint_file then runs in a child process, so pytest survives to report it.
    in_process: bool = True


def _f(*items: tuple[str, int, str]) -> frozenset[tuple[str, int, str]]:
    return frozenset(items)


CASES: dict[str, Case] = {
    "alias-bomb": Case(alias_bomb),
    "merge-key-bomb": Case(merge_bomb, found=_f(("compose.yaml", 1, "CAP203"), ("compose.yaml", 1, "CAP401"))),
    "over-size-limit": Case(oversized, cap001="--max-file-size"),
    "deep-flow-yaml": Case(deep_flow_yaml, cap001="nested"),
    "deep-block-yaml": Case(deep_block_yaml, cap001="nested"),
    "deep-shell-substitution": Case(deep_shell),
    "huge-continued-dockerfile-line": Case(huge_continued_line),
    "binary-compose": Case(binary_compose, cap001="binary"),
    "binary-dockerfile": Case(binary_dockerfile, cap001="binary"),
    "bad-utf8": Case(bad_utf8, cap001="UTF-8"),
    "utf16-bom": Case(utf16_bom, found=_f(("docker-compose.yml", 4, "CAP101"), ("docker-compose.yml", 5, "CAP202"))),
    "crlf": Case(crlf, found=_f(("docker-compose.yml", 4, "CAP101"), ("docker-compose.yml", 5, "CAP202"),
                                ("Dockerfile", 3, "CAP207"), ("Dockerfile", 4, "CAP401"))),
    "python-object-tags": Case(python_tags),
    "private-use-characters": Case(private_use_characters, in_process=False,
                                   found=_f(("emoji.sh", 2002, "CAP101"), ("Dockerfile", 502, "CAP401"))),
    "reused-anchor": Case(reused_anchor, found=_f(("docker-compose.yml", 4, "CAP202"))),
    "unterminated-quote": Case(unterminated_quote, found=_f(("run.sh", 2, "CAP001"), ("docker-compose.yml", 0, "CAP001"))),
    # bash reads a heredoc cut off by the end of the file to the end, with a warning: not CAP001
    "truncated-heredoc": Case(truncated_heredoc),
    "directory-named-dockerfile": Case(directory_named_dockerfile),
    "symlink-loop": Case(symlink_loop, cap001="cannot read"),
    "fifo-compose": Case(fifo_compose, cap001="not a regular file"),
    "fifo-without-extension": Case(fifo_without_extension, cap001="not a regular file"),
    "dangling-symlink": Case(dangling_symlink, cap001="cannot read"),
    "unreadable": Case(unreadable, cap001="cannot read" if os.geteuid() != 0 else None),
}


def _setup(tmp_path: Path, case: Case) -> tuple[Path, str]:
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "docker-compose.yml").write_text(REAL_COMPOSE)
    named = case.make(hostile)
    return hostile, named


@pytest.mark.parametrize("name", list(CASES))
def test_named_on_the_command_line(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    _, named = _setup(tmp_path, case)
    shown = "hostile" if named == "." else f"hostile/{named}"
    o = cli(tmp_path, "--jobs", "1", shown, "real")
    assert_sane(o)
    if case.cap001 is not None:
        errors = [str(f["message"]) for f in o.findings if f["rule"] == "CAP001" and f["path"] == shown]
        assert any(case.cap001 in m for m in errors), o.stdout
    got = {(str(f["path"]), int(f["line"]), str(f["rule"])) for f in o.findings}  # type: ignore[call-overload]
    got |= {(path, 0, rule) for path, _, rule in got}
    want = {(f"hostile/{p}", line, rule) for p, line, rule in case.found}
    assert want <= got, f"missing: {sorted(want - got)}\n{o.stdout}"


@pytest.fixture
def deadline() -> Iterator[None]:
    """In-process calls cannot be killed from outside: an alarm turns a hang
    (a blocking open, a runaway loop) into a failure instead of a stuck CI job."""
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"did not finish within {TIMEOUT} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("name", list(CASES))
def test_through_lint_file(tmp_path: Path, name: str, deadline: None) -> None:
    case = CASES[name]
    hostile, named = _setup(tmp_path, case)
    targets = [hostile / named] if named != "." else sorted(p for p in hostile.iterdir())
    for target in targets:
        kind = kind_by_name(target.name) or "unknown"
        if not case.in_process:
            _lint_file_in_child(target, kind)
            continue
        start = time.monotonic()
        findings = lint_file(str(target), kind)  # must not raise
        assert time.monotonic() - start < TIMEOUT
        if case.cap001 is not None:
            assert any(f.rule_id == "CAP001" and case.cap001 in f.message for f in findings), findings
    if case.make is python_tags:
        assert not (hostile / "pwned").exists()


def _lint_file_in_child(target: Path, kind: str) -> None:
    code = ("import sys\nfrom caplint.engine import lint_file\n"
            "print(len(lint_file(sys.argv[1], sys.argv[2])))\n")
    proc = subprocess.run([sys.executable, "-c", code, str(target), kind], capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, f"lint_file died (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr, proc.stderr


def test_lint_file_on_a_directory(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").mkdir()
    findings = lint_file(str(tmp_path / "Dockerfile"), "dockerfile")
    assert [(f.rule_id, "directory" in f.message) for f in findings] == [("CAP001", True)]


def test_python_tags_execute_nothing(tmp_path: Path) -> None:
    hostile, named = _setup(tmp_path, CASES["python-object-tags"])
    assert_sane(cli(tmp_path, f"hostile/{named}", "real"))
    assert not (hostile / "pwned").exists()


def test_size_limit_message_and_raising_it(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "docker-compose.yml").write_text(REAL_COMPOSE)
    o = cli(tmp_path, "--max-file-size", "64", "real")
    assert o.returncode == 1 and "Traceback" not in o.stderr
    message = o.messages("real/docker-compose.yml")
    assert "64-byte limit" in message and "--max-file-size" in message
    assert cli(tmp_path, "--max-file-size", "100000", "real").rules_at("real/docker-compose.yml") == {
        (4, "CAP101"), (5, "CAP202")}


def test_one_scan_of_everything(tmp_path: Path) -> None:
    """All hostile inputs in one tree, plus enough real files for a parallel scan."""
    for i, (name, case) in enumerate(CASES.items()):
        folder = tmp_path / "hostile" / f"{i:02d}-{name}"
        folder.mkdir(parents=True)
        case.make(folder)
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "docker-compose.yml").write_text(REAL_COMPOSE)
    for i in range(80):
        (tmp_path / "many" / f"s{i:02d}").mkdir(parents=True)
        (tmp_path / "many" / f"s{i:02d}" / "run.sh").write_text(
            f"#!/bin/sh\ndocker run --rm --cap-drop ALL --cap-add SYS_PTRACE --security-opt no-new-privileges \\\n"
            f"    alpine:3.20 echo {i}\n")
    o = cli(tmp_path, "--jobs", "2", ".")
    assert_sane(o)
    assert o.seconds < TIMEOUT
    for i in range(80):
        assert o.rules_at(f"many/s{i:02d}/run.sh") == {(2, "CAP202")}
    assert not any((tmp_path / "hostile").glob("*/pwned"))


# --- the process pool: a worker that raises or dies loses no file's findings --


def _tree_of_scripts(root: Path, count: int) -> list[Found]:
    for i in range(count):
        (root / f"s{i:03d}.sh").write_text(f"#!/bin/sh\ndocker run --privileged alpine:3.20 echo {i}\n")
    return [Found(str(root / f"s{i:03d}.sh"), "shell") for i in range(count)]


def _shell_parser_fails_on(suffix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulate a bug in caplint: the shell parser raises on one file."""
    from caplint.formats.shell import parser as shell

    real_parse = shell.parse

    def flaky(text: str, path: str) -> ParseResult:
        if path.endswith(suffix):
            raise ValueError("simulated bug")
        return real_parse(text, path)

    monkeypatch.setattr(shell, "parse", flaky)


def test_worker_exception_becomes_cap001_for_that_file_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = _tree_of_scripts(tmp_path, 40)
    _shell_parser_fails_on("s007.sh", monkeypatch)  # forked workers inherit the patch
    per_file = map_files(found, engine.Settings(), 2)
    assert len(per_file) == len(found)
    for f, findings in zip(found, per_file):
        rules = {x.rule_id for x in findings}
        if f.path.endswith("s007.sh"):
            assert [x.rule_id for x in findings] == ["CAP001"]
            assert "simulated bug" in findings[0].message
        else:
            assert "CAP101" in rules and "CAP001" not in rules


def test_dead_worker_falls_back_to_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    found = _tree_of_scripts(tmp_path, 40)
    expected = [engine.lint_file(f.path, f.kind) for f in found]
    parent = os.getpid()
    real_lint_file = engine.lint_file

    def dies_in_workers(path: str, kind: str, settings: engine.Settings | None = None) -> list[Finding]:
        if os.getpid() != parent and path.endswith("s021.sh"):
            os._exit(3)  # as a crash in native code or the OOM killer would
        return real_lint_file(path, kind, settings)

    monkeypatch.setattr(engine, "lint_file", dies_in_workers)
    got = map_files(found, engine.Settings(), 2)
    err = capsys.readouterr().err
    assert "worker process failed" in err and "Traceback" not in err
    for f, want, findings in zip(found, expected, got):
        if f.path.endswith("s021.sh"):  # it kills every worker it runs in: named, not lost
            assert [(x.rule_id, "worker process died" in x.message) for x in findings] == [("CAP001", True)]
        else:
            assert findings == want


def test_a_bug_on_one_file_is_cap001_in_a_serial_run_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = _tree_of_scripts(tmp_path, 5)
    _shell_parser_fails_on("s002.sh", monkeypatch)
    findings = engine.lint_found(found, engine.Settings())
    broken = [f for f in findings if f.span.path.endswith("s002.sh")]
    assert [f.rule_id for f in broken] == ["CAP001"] and "simulated bug" in broken[0].message
    assert sum(f.rule_id == "CAP101" for f in findings) == 4
