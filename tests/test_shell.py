"""Command extraction from shell scripts, and which commands declare containers."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caplint.engine import lint_text
from caplint.model import Container
from caplint.formats.shell import parser as shell


def argvs(text: str) -> list[tuple[str, ...]]:
    return [c.argv for c in shell.commands(text, "t.sh")[0]]


def containers(text: str) -> list[Container]:
    return shell.parse(text, "t.sh").containers


def names(text: str) -> list[str]:
    return [c.name for c in containers(text)]


@pytest.mark.parametrize(
    "script",
    [
        "deploy() {\n  docker run app\n}\n",
        "if [ -n \"$X\" ]; then docker run app; fi\n",
        "while read -r n; do docker run app; done < list\n",
        "for i in 1 2; do docker run app; done\n",
        "case $1 in\n  up) docker run app ;;\nesac\n",
        "id=$(docker run app)\n",
        "id=`docker run app`\n",
        'echo "started $(docker run app)"\n',
        "docker run app | tee log\n",
        "true && docker run app || false\n",
        "(cd /srv && docker run app)\n",
        "{ docker run app; }\n",
        "! docker run app\n",
        "local_id=$( (docker run app) )\n",
    ],
)
def test_commands_count_wherever_bash_runs_them(script: str) -> None:
    assert names(script) == ["docker run app"]


@pytest.mark.parametrize(
    "script",
    [
        "# docker run --privileged app\n",
        "echo \"docker run --privileged app\"\n",
        "echo docker run --privileged app\n",
        "printf '%s\\n' 'docker run --privileged app'\n",
        "MSG='docker run --privileged app'\n",
        "cat <<EOF\ndocker run --privileged app\nEOF\n",
        "cat <<'EOF' > run.sh\ndocker run --privileged app\nEOF\n",
        "cat <<-EOF\n\tdocker run --privileged app\n\tEOF\n",
        "command -v docker\n",
        "docker ps\ndocker images\ndocker pull alpine\n",
        "docker inspect --format '{{.HostConfig.Privileged}}' app\n",
    ],
)
def test_text_is_never_a_container(script: str) -> None:
    assert containers(script) == []


def test_quote_removal_and_raw_spelling() -> None:
    (cmd,) = shell.commands("docker run \"--cap-add=SYS_ADMIN\" 'a b' c\\ d $'x\\ty'\n", "t.sh")[0]
    assert cmd.argv == ("docker", "run", "--cap-add=SYS_ADMIN", "a b", "c d", "x\ty")
    assert [w.raw for w in cmd.words][2:4] == ['"--cap-add=SYS_ADMIN"', "'a b'"]


def test_leading_assignments_and_redirects_are_not_words() -> None:
    assert argvs("FOO=1 BAR=2 docker run app >/dev/null 2>&1\n") == [("docker", "run", "app")]


def test_expansions_are_unresolved() -> None:
    cmd, inner = shell.commands('docker run -v "$PWD":/src --name "app-$(date +%s)" img\n', "t.sh")[0]
    assert inner.argv == ("date", "+%s")  # the substitution is a command of its own
    by_value = {w.value: w.resolved for w in cmd.words}
    assert by_value == {"docker": True, "run": True, "-v": True, "$PWD:/src": False, "--name": True,
                        "app-$(date +%s)": False, "img": True}


def test_spans_on_continued_lines() -> None:
    script = "docker run \\\n    --privileged \\\n  --cap-add=NET_ADMIN \\\n    alpine\n"
    (c,) = containers(script)
    assert c.privileged is not None and (c.privileged.span.line, c.privileged.span.column) == (2, 5)
    (cap,) = c.cap_add
    assert (cap.span.line, cap.span.column, cap.span.end_column) == (3, 13, 22)
    assert (c.span.line, c.span.end_line) == (1, 4)


def test_first_line_offsets_every_line() -> None:
    (cmd,) = shell.commands("    apt-get install -y \\\n      curl\n", "Dockerfile", first_line=7)[0]
    assert [(w.value, w.span.line, w.span.column) for w in cmd.words] == [
        ("apt-get", 7, 5), ("install", 7, 13), ("-y", 7, 21), ("curl", 8, 7)]


def test_columns_count_characters_not_bytes() -> None:
    (cmd,) = shell.commands("echo 'héllo' && docker run --privileged x\n", "t.sh")[0][1:]
    assert cmd.words[2].span.column == 28  # 29 if bytes were counted


@pytest.mark.parametrize(
    "line",
    [
        "sudo docker run --privileged app",
        "sudo -u root -E docker run --privileged app",
        "sudo -Eu root docker run --privileged app",
        "sudo --user=root -- docker run --privileged app",
        "sudo HOME=/root docker run --privileged app",
        "env DOCKER_HOST=unix:///run/docker.sock docker run --privileged app",
        "env -i -u LANG PATH=/usr/bin docker run --privileged app",
        "time docker run --privileged app",
        "command docker run --privileged app",
        "nice -n 10 docker run --privileged app",
        "nice -10 docker run --privileged app",
        "nohup docker run --privileged app",
        "exec docker run --privileged app",
        "timeout 30 docker run --privileged app",
        "timeout -s KILL 5m docker run --privileged app",
        "sudo timeout 30 nice docker run --privileged app",
        "/usr/bin/docker run --privileged app",
        "docker --context prod -H ssh://host --debug run --privileged app",
        "doas -u root docker run --privileged app",
    ],
)
def test_wrappers(line: str) -> None:
    (c,) = containers(line + "\n")
    assert c.privileged is not None and c.privileged.value and c.name == "docker run app"


@pytest.mark.parametrize(
    ("line", "program"),
    [
        ("chmod u+s /x", "chmod"),
        ("sudo -u app env A=1 nice -n 5 chmod u+s /x", "chmod"),
        ("timeout -k 5 60 setcap cap_net_raw+ep /x", "setcap"),
        ("doas -u root nohup busybox chmod u+s /x", "chmod"),
        ("find . -print0 | xargs -0 -n 1 chmod 4755", "chmod"),
        ("sudo -l", None),
        ("command -v docker", None),
    ],
)
def test_commands_record_the_program_behind_wrappers(line: str, program: str | None) -> None:
    cmd = shell.commands(line + "\n", "t.sh")[0][-1]
    real = cmd.words[cmd.program:]
    assert (real[0].value if real else None) == program


def test_xargs_runs_the_command_with_its_input_appended() -> None:
    (c,) = containers("cat ids | xargs -n 1 docker run --privileged\n")
    assert c.privileged is not None and c.name == "docker run"


@pytest.mark.parametrize(
    ("line", "name", "runtime", "complete"),
    [
        ("docker run nginx:1.25", "docker run nginx:1.25", "docker", True),
        ("docker create nginx", "docker create nginx", "docker", True),
        ("docker container run nginx", "docker container run nginx", "docker", True),
        ("docker container create nginx", "docker container create nginx", "docker", True),
        ("podman run fedora", "podman run fedora", "podman", True),
        ("nerdctl run alpine", "nerdctl run alpine", "nerdctl", True),
        ("docker exec -it web sh", "docker exec web", "docker", False),
        ("docker container exec web sh", "docker container exec web", "docker", False),
        ("docker compose -f prod.yml run --rm web sh", "docker compose run web", "docker", False),
        ("docker-compose run web sh", "docker-compose run web", "docker", False),
        ("docker service create --name web nginx", "docker service create nginx", "docker", True),
        ("docker buildx build -t app .", "docker buildx build .", "docker", False),
        ("docker build -t app -f Dockerfile .", "docker build .", "docker", False),
        ("podman --remote run fedora", "podman run fedora", "podman", True),
        ("nerdctl -n k8s.io run alpine", "nerdctl run alpine", "nerdctl", True),
    ],
)
def test_subcommands(line: str, name: str, runtime: str, complete: bool) -> None:
    (c,) = containers(line + "\n")
    assert (c.name, c.runtime, c.complete, c.source_kind) == (name, runtime, complete, "shell")


def test_buildx_insecure_entitlement() -> None:
    (c,) = containers("docker buildx build --allow security.insecure,network.host -t x .\n")
    assert [e.value for e in c.build_entitlements] == ["security.insecure", "network.host"]


def test_exec_privileged_and_user() -> None:
    (c,) = containers("docker exec -u 0 --privileged web sh\n")
    assert c.privileged is not None and c.user is not None and c.user.value == "0"


def test_service_create_maps_caps_mounts_and_network() -> None:
    (c,) = containers(
        "docker service create --cap-add SYS_ADMIN --mount type=bind,src=/var/run/docker.sock,"
        "dst=/var/run/docker.sock --network host portainer/agent\n")
    assert [x.value for x in c.cap_add] == ["SYS_ADMIN"]
    assert c.mounts[0].kind == "bind" and c.network is not None and c.network.value == "host"


@pytest.mark.parametrize(
    ("script", "line", "fragment"),
    [
        ('docker run --privileged a\necho "unterminated\ndocker run b\n', 2, "unterminated quoted string"),
        ("docker run a\necho 'oops\n", 2, "unterminated quoted string"),
        ("if true; then\n  docker run a\n", 1, "missing 'fi'"),
    ],
)
def test_syntax_errors_give_one_problem_and_keep_the_rest(script: str, line: int, fragment: str) -> None:
    result = shell.parse(script, "t.sh")
    (problem,) = result.problems
    assert problem.span.line == line and fragment in problem.message
    assert result.containers and result.containers[0].name.startswith("docker run a")


def test_truncated_heredoc_body_stays_text() -> None:
    # bash reads the body to the end of the file (`bash -n` warns, exit 0): text, and no syntax error
    result = shell.parse("docker run a\ncat <<EOF\ndocker run --privileged b\n", "t.sh")
    assert [c.name for c in result.containers] == ["docker run a"] and result.problems == []


@pytest.mark.parametrize(
    "script",
    [
        # two heredocs on one line: bash reads the bodies one after the other
        "cat <<CONF > app.conf && sh <<'SETUP'\nport=80\nCONF\ndocker run --privileged a\nSETUP\n",
        "cat <<A <<-B\na\nA\n\tb\n\tB\n",
        "diff <<OLD <<NEW | tee out\nx\nOLD\ny\nNEW\n",
        # a heredoc redirection before the command name
        "<<EOT bash\ndocker run --privileged a\nEOT\n",
        "set -e; <<-EOF cat >/etc/motd\n\thello\n\tEOF\n",
    ],
)
def test_heredocs_bash_accepts_are_not_syntax_errors(script: str) -> None:
    # Bodies are data here (or another program's script): only what follows is linted.
    result = shell.parse(script + "docker run --pid=host after\n", "t.sh")
    assert result.problems == []
    assert [c.name for c in result.containers] == ["docker run after"]


def test_heredoc_repair_keeps_columns_and_real_errors() -> None:
    cmds, problems = shell.commands("cat <<A > x && sh <<B\na\nA\nb\nB\n  docker run --privileged z\n", "t.sh")
    assert problems == []
    assert [(c.argv[0], c.span.line, c.span.column) for c in cmds] == [("cat", 1, 1), ("sh", 1, 16), ("docker", 6, 3)]
    # A script that is broken elsewhere still says so.
    _, problems = shell.commands("<<EOT bash\nx\nEOT\necho 'oops\n", "t.sh")
    assert len(problems) == 1


def test_shift_operators_and_here_strings_are_not_heredocs() -> None:
    cmds, problems = shell.commands("echo $(( 1 << 2 )) && grep x <<< \"$v\"\n", "t.sh")
    assert [c.argv for c in cmds] == [("echo", "$(( 1 << 2 ))"), ("grep", "x")] and problems == []


def test_stray_carriage_returns_do_not_crash() -> None:
    result = shell.parse("#!/bin/sh\r\ndocker run --privileged \\\r\n  alpine\r\n", "t.sh")
    assert len(result.containers) == 1


def test_binary_garbage_never_raises() -> None:
    data = bytes(range(256)) * 40
    text = data.decode("utf-8", "surrogateescape")
    result = shell.parse(text, "t.sh")
    assert isinstance(result.containers, list)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("docker run -v/:$(){}\"'`\\\n\t #;|&<>=xEOF\r\x00é")), max_size=200))
def test_any_text_parses_without_exception(text: str) -> None:
    shell.parse(text, "t.sh")
    shell.commands(text, "t.sh")


def test_ten_thousand_lines_stay_fast() -> None:
    # Not a benchmark (bench/ measures): a guard against accidental quadratic work.
    block = ("deploy() {\n  docker run -d --name web -v /srv:/srv --cap-add NET_ADMIN nginx:1.25\n}\n"
             "echo \"starting $(date)\" >> /var/log/deploy.log\n"
             "if [ -f /etc/app.conf ]; then source /etc/app.conf; fi\n")
    script = block * 2000
    start = time.perf_counter()
    result = shell.parse(script, "big.sh")
    assert len(result.containers) == 2000
    assert time.perf_counter() - start < 20


def test_backslash_newline_inside_a_word_joins_it() -> None:
    (c,) = containers("docker run --cap-add=SYS_\\\nADMIN alpine\n")
    (cap,) = c.cap_add
    assert cap.value == "SYS_ADMIN" and (cap.span.line, cap.span.end_line) == (1, 2)


def test_command_substitution_in_an_unquoted_heredoc_runs() -> None:
    # bash expands $(…) in an unquoted here-document body; a quoted one is plain text.
    assert names("cat <<EOF\nid: $(docker run -d app)\nEOF\n") == ["docker run app"]
    assert names("cat <<'EOF'\nid: $(docker run -d app)\nEOF\n") == []


def test_a_continuation_into_the_end_of_the_file_is_no_syntax_error() -> None:
    # bash ends the command at the end of the file; a CI `run: |` block often ends so
    result = shell.parse("docker run --privileged \\\n  alpine \\\n", "x.sh")
    assert not result.problems
    assert [c.privileged is not None for c in result.containers] == [True]


def test_backquoted_comment_marks_optional_flags() -> None:
    """`` `#optional` `` is empty to bash; tree-sitter-bash reads its comment to
    the end of the line. The flags after it still count, and nothing is a CAP001."""
    text = ("docker run -d \\\n  --cap-add=SYS_MODULE `#optional` \\\n"
            "  -v /lib/modules:/lib/modules `#optional` \\\n  img\n")
    rules = {(f.span.line, f.rule_id) for f in lint_text("run.sh", text)}
    assert {(2, "CAP202"), (3, "CAP313")} <= rules
    assert not any(rule == "CAP001" for _, rule in rules)
