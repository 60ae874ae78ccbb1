"""The Dockerfile parser and the image rules (CAP207, CAP402, CAP403)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caplint.engine import lint_text
from caplint.model import Image, ParseResult, RunInstruction, Stage
from caplint.formats.dockerfile.parser import parse
from caplint.reading import read_file


def image(text: str) -> Image:
    result = parse(text, "Dockerfile")
    assert len(result.images) == 1, result.problems
    return result.images[0]


def only_stage(text: str) -> Stage:
    stages = image(text).stages
    assert len(stages) == 1
    return stages[0]


def runs(text: str) -> list[RunInstruction]:
    return [run for stage in image(text).stages for run in stage.runs]


def argvs(text: str) -> list[tuple[str, ...]]:
    return [c.argv for run in runs(text) for c in run.commands]


def word(text: str, value: str) -> tuple[int, int]:
    """(line, column) of the first command word equal to `value`."""
    for run in runs(text):
        for command in run.commands:
            for w in command.words:
                if w.value == value:
                    return w.span.line, w.span.column
    raise AssertionError(f"no word {value!r}")


def findings(text: str, path: str = "Dockerfile") -> set[tuple[int, str]]:
    return {(f.span.line, f.rule_id) for f in lint_text(path, text, "dockerfile")}


def problems(text: str) -> list[tuple[int, str]]:
    return [(p.span.line, p.message) for p in parse(text, "Dockerfile").problems]


# -- stages -------------------------------------------------------------------


def test_stages_bases_names_and_spans() -> None:
    text = (
        "ARG GO=1.22\n"
        "FROM --platform=$BUILDPLATFORM golang:${GO} AS build\n"
        "RUN go build ./...\n"
        "\n"
        "from alpine:3.20 as Final\n"
    )
    img = image(text)
    build, final = img.stages
    assert (build.name, build.base.value, build.base.raw) == ("build", "golang:1.22", "golang:${GO}")
    assert (build.base.span.line, build.base.span.column) == (2, 32)
    assert (final.name, final.base.value) == ("Final", "alpine:3.20")
    assert img.span == final.span
    assert (final.span.line, final.span.column) == (5, 1)
    assert img.final_stage is final


def test_unknown_global_arg_in_from_is_unresolved() -> None:
    base = only_stage("FROM ${REGISTRY}/app:latest\n").base
    assert not base.resolved
    assert base.raw == "${REGISTRY}/app:latest"


# -- USER ---------------------------------------------------------------------


def test_users_per_stage_with_spans() -> None:
    build, final = image("FROM a AS build\nUSER root\nFROM b\nUSER app\nUSER  1000:1000\n").stages
    assert [u.value for u in build.users] == ["root"]
    assert [(u.value, u.span.line, u.span.column, u.span.end_column) for u in final.users] == [
        ("app", 4, 6, 9), ("1000:1000", 5, 7, 16),
    ]


@pytest.mark.parametrize(
    ("text", "value", "resolved"),
    [
        ("FROM a\nARG U=app\nUSER $U\n", "app", True),
        ("FROM a\nENV U=svc\nUSER ${U}:${U}\n", "svc:svc", True),
        ("FROM a\nENV U svc\nUSER ${U}\n", "svc", True),
        ("ARG U=ci\nFROM a\nARG U\nUSER $U\n", "ci", True),  # a global default, re-declared
        ("ARG U=ci\nFROM a\nUSER $U\n", "$U", False),  # global ARGs are not in scope until re-declared
        ("FROM a\nARG U\nUSER $U\n", "$U", False),  # only --build-arg could say
        ("FROM a\nUSER ${NOPE:-nobody}\n", "${NOPE:-nobody}", False),
        ("FROM a\nENV U=${HOME}/x\nUSER $U\n", "$U", False),  # built from something unknown
        ("FROM a\nARG U=\nUSER ${U:-nobody}\n", "nobody", True),
        ("FROM a\nARG G=svc\nARG U=${G}-user\nUSER $U\n", "svc-user", True),
        ("FROM a\nARG U=${UNSET}\nUSER $U\n", "$U", False),
    ],
)
def test_user_variables(text: str, value: str, resolved: bool) -> None:
    user = only_stage(text).users[-1]
    assert (user.value, user.resolved) == (value, resolved)


def test_stage_inherits_users_and_env_from_an_earlier_stage() -> None:
    base, final = image("FROM a AS base\nENV U=app\nUSER root\nFROM base AS final\nUSER $U\n").stages
    assert [u.value for u in final.users] == ["root", "app"]
    assert final.users[0].span.line == 3


def test_user_in_build_stage_is_not_the_runtime_user() -> None:
    assert findings("FROM a AS build\nUSER root\nRUN make\nFROM b\nUSER 10001\n") == set()


# -- RUN flags and continuations --------------------------------------------------


def test_run_flags_in_any_order_and_on_continuation_lines() -> None:
    text = (
        "FROM a\n"
        "RUN --network=none \\\n"
        "    --mount=type=secret,id=npmrc,target=/root/.npmrc \\\n"
        "    --security=insecure npm ci\n"
    )
    (run,) = runs(text)
    assert [(f.value, f.span.line, f.span.column) for f in run.flags] == [
        ("--network=none", 2, 5),
        ("--mount=type=secret,id=npmrc,target=/root/.npmrc", 3, 5),
        ("--security=insecure", 4, 5),
    ]
    assert (run.span.line, run.span.end_line) == (2, 4)
    assert argvs(text) == [("npm", "ci")]
    assert findings(text) == {(4, "CAP102"), (1, "CAP403")}


def test_quoted_flag_value_loses_its_quotes() -> None:
    (run,) = runs('FROM a\nRUN --mount="type=cache,target=/root/.cache" pip install x\n')
    assert run.flags[0].value == "--mount=type=cache,target=/root/.cache"
    assert run.flags[0].raw == '--mount="type=cache,target=/root/.cache"'


def test_word_spans_on_continuation_lines() -> None:
    text = "FROM a\nRUN apt-get update \\\n && chmod u+s \\\n      /usr/bin/ping\n"
    assert word(text, "chmod") == (3, 5)
    assert word(text, "u+s") == (3, 11)
    assert word(text, "/usr/bin/ping") == (4, 7)
    assert (3, "CAP402") in findings(text)


def test_comment_and_blank_lines_inside_a_continued_run() -> None:
    text = (
        "FROM a\n"
        "RUN apt-get install -y \\\n"
        "# the next package is needed for setcap\n"
        "      libcap2-bin \\\n"
        "\n"
        "  && setcap cap_net_admin+ep /bin/tool\n"
        "USER app\n"
    )
    assert argvs(text) == [("apt-get", "install", "-y", "libcap2-bin"), ("setcap", "cap_net_admin+ep", "/bin/tool")]
    assert findings(text) == {(6, "CAP207")}


def test_comment_then_blank_line_inside_a_continued_run() -> None:
    # Found by the BuildKit conformance test: a comment line right before the
    # blank line ended the RUN, and `setcap` became an unknown instruction.
    text = "FROM a\nRUN apt-get update && \\\n# a comment inside\n\n    setcap cap_net_raw+ep /bin/ping\nUSER app\n"
    assert argvs(text) == [("apt-get", "update"), ("setcap", "cap_net_raw+ep", "/bin/ping")]
    assert parse(text, "Dockerfile").problems == []
    (run,) = parse(text, "Dockerfile").images[0].stages[0].runs
    assert (run.span.line, run.span.end_line) == (2, 5)


def test_commented_out_instruction_is_nothing() -> None:
    assert findings("FROM a\n# RUN chmod u+s /bin/x\n#USER root\nUSER app\n") == set()


def test_hash_inside_an_instruction_is_not_a_comment() -> None:
    assert argvs("FROM a\nRUN echo '# not a comment' && chmod 4755 /x\n")[-1] == ("chmod", "4755", "/x")


def test_continued_run_at_end_of_file_is_kept() -> None:
    assert argvs("FROM a\nRUN chmod u+s \\\n  /bin/x \\") == [("chmod", "u+s", "/bin/x")]


# -- heredocs -------------------------------------------------------------------


def test_heredoc_body_is_the_script_on_its_own_lines() -> None:
    text = "FROM a\nRUN <<EOF\nset -eux\napt-get update\nchmod u+s /bin/x\nEOF\nUSER app\n"
    assert argvs(text) == [("set", "-eux"), ("apt-get", "update"), ("chmod", "u+s", "/bin/x")]
    assert word(text, "u+s") == (5, 7)
    (run,) = runs(text)
    assert (run.span.line, run.span.end_line) == (2, 6)
    assert image(text).stages[0].users[0].value == "app"


@pytest.mark.parametrize("marker", ["<<-EOF", '<<"EOF"', "<<'EOF'", "<<-'EOF'"])
def test_heredoc_marker_forms(marker: str) -> None:
    text = f"FROM a\nRUN {marker}\n\tchmod 6755 /bin/x\n\tEOF\nEOF\nUSER app\n"
    if marker.startswith("<<-"):
        # `<<-` strips leading tabs, so the tab-indented EOF already ends it.
        text = f"FROM a\nRUN {marker}\n\tchmod 6755 /bin/x\n\tEOF\nUSER app\n"
    assert findings(text) == {(3, "CAP402")}


def test_heredoc_fed_to_another_program_is_not_shell() -> None:
    text = 'FROM a\nRUN python3 <<EOF\nimport os\nos.system("chmod u+s /bin/x")\nEOF\nUSER app\n'
    assert argvs(text) == [("python3",)]


def test_heredoc_fed_to_a_shell_is_shell() -> None:
    text = "FROM a\nRUN <<EOT bash\n  set -e\n  chmod +s /usr/bin/gdb\nEOT\nUSER app\n"
    assert ("chmod", "+s", "/usr/bin/gdb") in argvs(text)
    assert findings(text) == {(4, "CAP402")}


def test_heredoc_with_python_shebang_is_not_shell() -> None:
    text = 'FROM a\nRUN <<EOF\n#!/usr/bin/env python3\nimport os; os.system("chmod u+s /x")\nEOF\nUSER app\n'
    assert argvs(text) == []


def test_several_heredocs_on_one_run() -> None:
    text = (
        "FROM a\n"
        "RUN <<FILE1 cat > /etc/one && <<FILE2 sh\n"
        "chmod u+s /not/a/command\n"
        "FILE1\n"
        "chmod g+s /srv/shared\n"
        "FILE2\n"
        "USER app\n"
    )
    assert findings(text) == {(5, "CAP402")}
    assert image(text).stages[0].users[0].span.line == 7


def test_copy_heredoc_body_is_neither_shell_nor_instructions() -> None:
    text = (
        "FROM a\n"
        "COPY <<EOF /etc/app.conf\n"
        "USER root\n"
        "FROM evil\n"
        "RUN chmod u+s /x\n"
        "EOF\n"
        "USER app\n"
    )
    img = image(text)
    assert len(img.stages) == 1
    assert [u.value for u in img.stages[0].users] == ["app"]
    assert findings(text) == set()


def test_heredoc_body_ending_in_a_backslash_does_not_swallow_what_follows() -> None:
    text = "FROM a\nRUN <<EOF\napt-get install -y \\\n  curl \\\nEOF\nUSER root\n"
    assert [u.span.line for u in image(text).stages[0].users] == [6]
    assert (6, "CAP401") in findings(text)


def test_unterminated_heredoc_is_a_problem_and_its_body_still_linted() -> None:
    text = "FROM a\nUSER app\nRUN <<EOF\nchmod u+s /bin/x\n"
    assert problems(text) == [(3, "heredoc <<EOF is never terminated (no line 'EOF')")]
    assert findings(text) == {(3, "CAP001"), (4, "CAP402")}


def test_no_space_means_no_heredoc_and_quotes_hide_one() -> None:
    assert argvs('FROM a\nRUN echo "<<EOF" && chmod u+s /x\nUSER app\n')[-1] == ("chmod", "u+s", "/x")


# -- escape directive -------------------------------------------------------------


def test_backtick_escape_continues_lines_and_keeps_backslashes() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "# escape=`\n"
        "FROM a\n"
        "RUN mkdir C:\\tools `\n"
        "    && chmod u+s /x\n"
        "USER app\n"
    )
    assert word(text, "chmod") == (5, 8)
    assert findings(text) == {(5, "CAP402")}


def test_escape_after_another_directive_still_counts() -> None:
    text = "# check=skip=all\n# escape=`\nFROM a\nRUN echo `\n    chmod\nUSER app\n"
    assert argvs(text) == [("echo", "chmod")]


def test_escape_directive_after_a_comment_is_just_a_comment() -> None:
    text = "# hello\n# escape=`\nFROM a\nRUN echo \\\n    chmod u+s /x\nUSER app\n"
    assert argvs(text) == [("echo", "chmod", "u+s", "/x")]


def test_powershell_runs_are_not_parsed_as_posix_shell() -> None:
    text = '# escape=`\nFROM w\nSHELL ["powershell", "-Command"]\nRUN chmod u+s C:\\x `\n  ; echo\nUSER ContainerUser\n'
    assert argvs(text) == []


# -- JSON form ---------------------------------------------------------------------


def test_exec_form_words_and_spans() -> None:
    text = 'FROM a\nRUN ["chmod", \\\n     "u+s", "/usr/bin/x"]\nUSER app\n'
    (run,) = runs(text)
    (command,) = run.commands
    assert command.argv == ("chmod", "u+s", "/usr/bin/x")
    assert [(w.span.line, w.span.column) for w in command.words] == [(2, 6), (3, 6), (3, 13)]
    assert findings(text) == {(3, "CAP402")}


def test_exec_form_shell_c_script_is_parsed() -> None:
    text = 'FROM a\nRUN ["/bin/sh", "-c", "apk add libcap && setcap cap_sys_admin+ep /bin/x"]\nUSER app\n'
    assert argvs(text)[-1] == ("setcap", "cap_sys_admin+ep", "/bin/x")
    assert word(text, "cap_sys_admin+ep") == (2, 49)
    assert findings(text) == {(2, "CAP207")}


def test_exec_form_records_the_program_behind_wrappers() -> None:
    text = 'FROM a\nRUN ["timeout", "60", "setcap", "cap_sys_admin+ep", "/bin/x"]\nUSER app\n'
    (run,) = runs(text)
    (command,) = run.commands
    assert command.program == 2
    assert findings(text) == {(2, "CAP207")}


def test_nohup_setcap_is_reported() -> None:
    assert findings("FROM a\nRUN nohup setcap cap_sys_admin+ep /usr/bin/bar\nUSER app\n") == {(2, "CAP207")}


def test_invalid_json_is_shell_form() -> None:
    assert argvs("FROM a\nRUN [ -f /x ] && chmod u+s /x\nUSER app\n")[-1] == ("chmod", "u+s", "/x")


# -- ONBUILD ------------------------------------------------------------------------


def test_onbuild_run_is_linted_as_a_run() -> None:
    text = "FROM a\nONBUILD RUN --security=insecure chmod u+s /x\nUSER app\n"
    (run,) = runs(text)
    assert [f.value for f in run.flags] == ["--security=insecure"]
    assert findings(text) == {(2, "CAP102"), (2, "CAP402")}


# -- bad input ----------------------------------------------------------------------


def test_no_from_is_a_problem_but_runs_are_still_linted() -> None:
    text = "RUN chmod u+s /bin/x\nUSER root\n"
    assert (1, "no FROM instruction: not a complete Dockerfile") in problems(text)
    assert findings(text) >= {(1, "CAP001"), (1, "CAP402")}
    assert (1, "CAP403") not in findings(text)


def test_instruction_before_first_from_is_a_problem() -> None:
    text = "RUN chmod u+s /x\nFROM a\nUSER app\n"
    assert problems(text) == [(1, "RUN before the first FROM instruction")]
    assert findings(text) == {(1, "CAP001"), (1, "CAP402")}


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n# and another\n"])
def test_empty_or_comment_only_file(text: str) -> None:
    result = parse(text, "Dockerfile")
    assert result.images == []
    assert [(p.span.line, p.message) for p in result.problems] == [(1, "no FROM instruction: not a complete Dockerfile")]


def test_binary_file_is_a_problem(tmp_path: Path) -> None:
    result = parse("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00", "Dockerfile")
    assert result.images == [] and result.problems[0].message == "binary file: not a Dockerfile"
    garbage = "".join(chr(c) for c in range(1, 32)) * 20
    assert parse(garbage, "Dockerfile").problems[0].message == "binary file: not a Dockerfile"


def test_garbage_text_is_a_problem_not_a_traceback() -> None:
    text = "Lorem ipsum dolor sit amet,\nconsectetur adipiscing elit.\n"
    assert problems(text) == [(1, "unknown instruction: Lorem"), (1, "no FROM instruction: not a complete Dockerfile")]


def test_crlf_file_keeps_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM a\r\nRUN apt-get update \\\r\n && chmod u+s /x\r\nUSER root\r\n")
    text = read_file(str(path))
    assert findings(text, str(path)) == {(3, "CAP402"), (4, "CAP401")}
    # Even text that still has carriage returns parses without a traceback.
    assert image("FROM a\r\nUSER app\r\n").stages[0].users[0].value == "app"


def test_parsing_a_dockerfile_does_not_load_the_docker_run_option_tables() -> None:
    # Only shell scripts need the dockercli option tables; a Dockerfile-only run should not pay for them.
    code = ("import sys; from caplint.formats.dockerfile.parser import parse; "
            "parse('FROM a\\nRUN sudo chmod u+s /x && docker run --privileged x\\n', 'Dockerfile'); "
            "print(sorted(m for m in sys.modules if m.startswith('caplint.formats.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "dockercli" not in out and "formats.shell.parser'" not in out
    assert "caplint.formats.shell.commands" in out


def test_five_thousand_line_dockerfile() -> None:
    lines = ["FROM debian:bookworm AS build"]
    for i in range(1250):
        lines += [f"RUN apt-get install -y pkg{i} \\", f"    && echo step {i} \\", "    && true", f"ENV STEP={i}"]
    lines += ["FROM scratch", "RUN chmod u+s /x"]
    text = "\n".join(lines) + "\n"
    assert len(lines) >= 5000
    img = image(text)
    assert len(img.stages[0].runs) == 1250
    assert findings(text) == {(len(lines), "CAP402"), (len(lines) - 1, "CAP403")}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("FROMRUNUSERCOPY <>-=`\\'\"#$[]{},\n\tabc01")), max_size=300))
def test_parse_never_raises(text: str) -> None:
    result = parse(text, "Dockerfile")
    assert isinstance(result, ParseResult)


# -- CAP207 file-capabilities ----------------------------------------------------------


@pytest.mark.parametrize(
    "setcap",
    [
        "setcap cap_net_admin+ep /bin/x",
        "setcap cap_net_raw,cap_net_admin+eip /bin/x",
        "setcap cap_sys_time=+ep /bin/x",
        "setcap cap_net_admin,cap_sys_time=ep /bin/x",
        "setcap all=ep /bin/x",
        "setcap =ep /bin/x",
        "setcap 'cap_net_bind_service=+ep cap_sys_nice+ep' /bin/x",
        "setcap -q -n 1000 CAP_SYS_PTRACE+ep /bin/x",
        "/sbin/setcap -v cap_ipc_lock+ep /bin/x",
        "setcap 12+ep /bin/x",  # capability number 12 is NET_ADMIN
        "sudo setcap cap_bpf+ep /bin/x",
    ],
)
def test_setcap_outside_defaults(setcap: str) -> None:
    assert findings(f"FROM a\nRUN {setcap}\nUSER app\n") == {(2, "CAP207")}


@pytest.mark.parametrize(
    "setcap",
    [
        "setcap cap_net_bind_service=+ep /usr/bin/node",
        "setcap cap_net_raw+ep /bin/ping",
        "setcap -r /bin/ping",
        "setcap cap_net_admin+ep-p /bin/x",  # raised, then lowered again
        "setcap cap_net_admin=e /bin/x",  # effective without permitted grants nothing
        "setcap cap_not_a_thing+ep /bin/x",  # invalid: setcap fails the build
        'echo "setcap cap_sys_admin+ep /bin/x"',
        "getcap /bin/x",
    ],
)
def test_setcap_not_reported(setcap: str) -> None:
    assert findings(f"FROM a\nRUN {setcap}\nUSER app\n") == set()


def test_setcap_several_files_reports_each_grant_and_names_capabilities() -> None:
    text = "FROM a\nRUN setcap cap_net_raw+p /bin/a cap_sys_ptrace,cap_net_admin=ep /bin/b -r /bin/c\nUSER app\n"
    (finding,) = [f for f in lint_text("Dockerfile", text, "dockerfile") if f.rule_id == "CAP207"]
    assert finding.span.column == 33
    assert "NET_ADMIN (" in finding.message and "SYS_PTRACE (" in finding.message
    assert "NET_RAW" not in finding.message and "/bin/b" in finding.message


# -- CAP402 setuid-binary ---------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "chmod u+s /bin/x", "chmod g+s /srv/shared", "chmod +s /bin/x", "chmod ug+s /bin/x",
        "chmod a+s /bin/x", "chmod 4755 /bin/x", "chmod 2755 /bin/x", "chmod 6755 /bin/x",
        "chmod 04755 /bin/x", "chmod -R u+s /opt/bin", "chmod --recursive 4755 /opt/bin",
        "chmod -v u+x,u+s /bin/x", "chmod u=rwxs /bin/x", "install -m 4755 a /bin/x",
        "install -m4755 a /bin/x", "install --mode=4755 a /bin/x", "install --mode 2755 a /bin/x",
        "install -Dm4755 a /bin/x", "/bin/chmod u+s /bin/x",
        # behind wrappers: the parser, not the rule, knows their options
        "timeout 60 chmod 4755 /bin/x", "nohup chmod u+s /bin/x", "doas -u root chmod u+s /bin/x",
        "sudo -E chmod u+s /bin/x", "env -i PATH=/bin chmod u+s /bin/x", "busybox chmod u+s /bin/x",
        "find /opt -name x | xargs -0 -n 1 chmod 4755", "exec -a x nice -n 5 chmod u+s /bin/x",
    ],
)
def test_setuid_reported(command: str) -> None:
    assert findings(f"FROM a\nRUN {command}\nUSER app\n") == {(2, "CAP402")}


@pytest.mark.parametrize(
    "command",
    [
        "chmod u-s /bin/x", "chmod 755 /bin/x", "chmod 0755 /bin/x", "chmod o+s /bin/x",
        "chmod -R go-w /srv", "chmod --reference=/bin/ls /bin/x", "install -m 0755 a /bin/x",
        "install -D a /bin/x", 'echo "chmod u+s /bin/x"', "chmod +t /tmp/shared",
        "sudo -l chmod u+s /bin/x", "command -v chmod u+s", "timeout 60 chmod 0755 /bin/x",
    ],
)
def test_setuid_not_reported(command: str) -> None:
    assert findings(f"FROM a\nRUN {command}\nUSER app\n") == set()


def test_setuid_finding_points_at_the_mode() -> None:
    (finding,) = lint_text("Dockerfile", "FROM a\nRUN chmod -R 6755 /opt/bin\nUSER app\n", "dockerfile")
    assert (finding.span.line, finding.span.column) == (2, 14)
    assert "setuid and setgid bits on /opt/bin" in finding.message


# -- CAP403 missing-user ------------------------------------------------------------------


def test_missing_user_points_at_the_final_from() -> None:
    text = "FROM golang AS build\nUSER builder\nRUN go build\n\nFROM scratch\nCOPY --from=build /out /\n"
    (finding,) = lint_text("Dockerfile", text, "dockerfile")
    assert (finding.rule_id, finding.span.line, finding.span.column) == ("CAP403", 5, 1)


def test_missing_user_silent_when_inherited_from_earlier_stage() -> None:
    assert findings("FROM a AS base\nUSER app\nFROM base AS final\nCMD [\"x\"]\n") == set()
    assert findings("FROM a AS base\nUSER app\nFROM BASE\n") == set()  # stage names ignore case


def test_missing_user_when_an_image_named_like_a_later_stage() -> None:
    # `FROM app` refers to a stage only if that stage is defined earlier.
    assert findings("FROM node AS builder\nFROM app\nUSER x\nFROM app AS app\n") == {(4, "CAP403")}


def test_heredoc_piped_from_cat_into_a_shell_is_shell() -> None:
    text = "FROM a\nRUN cat <<EOF | sh\nchmod u+s /y\nEOF\nUSER app\n"
    assert findings(text) == {(3, "CAP402")}
    assert findings(text.replace("| sh", "> /etc/motd")) == set()


def test_escape_followed_by_blanks_still_continues() -> None:
    text = "FROM a\nRUN apt-get install -y libcap2-bin \\   \n && setcap cap_sys_nice+ep /bin/x\nUSER app\n"
    assert argvs(text) == [("apt-get", "install", "-y", "libcap2-bin"), ("setcap", "cap_sys_nice+ep", "/bin/x")]


def test_install_message_quotes_the_mode_option() -> None:
    (finding,) = lint_text("Dockerfile", "FROM a\nRUN install -m 4755 helper /usr/local/bin/helper\nUSER app\n", "dockerfile")
    assert finding.message.startswith("install -m 4755 sets the setuid bit on /usr/local/bin/helper")
