"""The README's Quick start and examples/report.txt show the report exactly as
`caplint check examples/` prints it."""
from __future__ import annotations

import re

from conftest import ROOT, run_caplint

BLOCK = re.compile(r"<!-- quickstart-report:start -->\n```\n(.*?)```\n<!-- quickstart-report:end -->", re.S)


def real_report() -> str:
    run = run_caplint("check", "examples/", cwd=ROOT)
    assert run.returncode == 1, run.stderr
    return run.stdout


def test_examples_report_is_what_caplint_prints() -> None:
    assert (ROOT / "examples" / "report.txt").read_text(encoding="utf-8") == real_report(), (
        "regenerate it: NO_COLOR=1 caplint check examples/ > examples/report.txt")


def test_readme_excerpt_is_cut_from_the_real_report() -> None:
    """Each part between `…` lines is a run of whole lines of the real report, in order,
    and the excerpt ends where the report ends: with the summary."""
    match = BLOCK.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert match, "the Quick start report block is missing"
    lines = real_report().splitlines()
    parts = [part.strip("\n").splitlines() for part in match.group(1).split("…\n")]
    at = 0
    for part in parts:
        starts = [i for i in range(at, len(lines) - len(part) + 1) if lines[i:i + len(part)] == part]
        assert starts, f"not in the report as printed:\n" + "\n".join(part)
        at = starts[0] + len(part)
    assert at == len(lines)


LEAST_PRIVILEGE = re.compile(r"<!-- least-privilege-diff:start -->\n```console\n\$ (.*?)\n(.*?)```\n"
                             r"<!-- least-privilege-diff:end -->", re.S)


def test_readme_least_privilege_diff_is_what_caplint_prints() -> None:
    """The worked example's diff and summary, exactly as `--diff --unsafe-fixes` prints them."""
    match = LEAST_PRIVILEGE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert match, "the Least privilege example block is missing"
    command, shown = match.groups()
    assert command == "caplint check --diff --unsafe-fixes examples/least-privilege/"
    run = run_caplint(*command.split()[1:], cwd=ROOT)
    assert run.returncode == 1, run.stderr
    assert shown == run.stdout + run.stderr
