"""Markdown fences: findings at the host's line and column, cheap when there is nothing to read."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from caplint.engine import lint_text
from caplint.formats import markdown


def _at(text: str, rule: str) -> list[tuple[int, int, int]]:
    return [(f.span.line, f.span.column, f.span.end_column) for f in lint_text("README.md", text) if f.rule_id == rule]


def test_columns_in_a_list_item_and_a_block_quote() -> None:
    text = ("1. Run it:\n\n"
            "   ```bash\n"
            "   docker run --cap-add=SYS_ADMIN x\n"
            "   ```\n\n"
            "> ```sh\n"
            "> docker run \\\n"
            ">   --pid=host x\n"
            "> ```\n")
    assert _at(text, "CAP202") == [(4, 25, 34)]
    assert _at(text, "CAP305") == [(9, 11, 15)]


def test_console_prompts_continuations_and_output() -> None:
    text = ("```console\n"
            "$ docker run --rm \\\n"
            ">     --cap-add NET_ADMIN x\n"
            "Unable to find image 'x' locally; retrying with --privileged\n"
            "# podman run --device=/dev/kmsg y\n"
            "```\n")
    assert _at(text, "CAP203") == [(3, 17, 26)]
    assert _at(text, "CAP314") == [(5, 23, 32)]
    assert not _at(text, "CAP101")


def test_a_dockerfile_fence_keeps_its_columns() -> None:
    text = "Intro\n\n```dockerfile\nFROM alpine\nRUN chmod u+s /usr/bin/tool\n```\n"
    assert [(f.span.line, f.span.column) for f in lint_text("README.md", text) if f.rule_id == "CAP402"] == [(5, 11)]


def test_tildes_info_attributes_and_case() -> None:
    text = "~~~ {.Bash title=\"x\"}\ndocker run --privileged x\n~~~\n"
    assert _at(text, "CAP101") == [(2, 12, 24)]


def test_snippet_syntax_errors_are_not_reported() -> None:
    text = "```bash\ndocker run --privileged <your-image> 'unterminated\n```\n"
    rules = {f.rule_id for f in lint_text("README.md", text)}
    assert "CAP001" not in rules and "CAP101" in rules


def test_a_readme_without_runnable_fences_is_not_parsed(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Title\n\n```python\nprint(1)\n```\n\nSome `docker run --privileged`.\n")
    code = ("import sys; from caplint.engine import lint_file; "
            "assert lint_file('README.md', 'markdown') == []; "
            "print('markdown_it' in sys.modules, 'tree_sitter' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert run.stdout.split() == ["False", "False"], run.stderr


def test_a_multi_megabyte_readme_is_read_whole() -> None:
    chunk = "## Section\n\nProse with `code` and *emphasis* and [a link](https://example.org).\n\n" * 40
    text = (chunk + "```bash\ndocker run --pid=host x\n```\n\n") * 700  # ~2.3 MB, 700 fences
    assert len(text) > 2_000_000
    found = markdown.parse(text, "README.md")
    assert len(found.containers) == 700
    assert found.containers[-1].span.line == text.count("\n") - 2
