"""Same input, same bytes: across runs and across `--jobs` values, in every format.

The tree is every fixture plus enough small files that `--jobs 2` really
spreads the scan over worker processes.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from caplint import engine, parallel
from caplint.report import FORMATS
from conftest import FIXTURES

EXTRA_FILES = parallel.PARALLEL_MIN_FILES + 16


def _available(fmt: str) -> bool:
    import importlib

    try:
        importlib.import_module(f"caplint.report.{fmt}")
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("determinism")
    shutil.copytree(FIXTURES, root / "fixtures", symlinks=True)
    for i in range(EXTRA_FILES):
        folder = root / "services" / f"svc{i:03d}"
        folder.mkdir(parents=True)
        # Identical findings in many files: the order must still be stable.
        (folder / "docker-compose.yml").write_text(
            "services:\n  app:\n    image: alpine:3.20\n"
            f"    cap_add: [{'NET_ADMIN' if i % 3 else 'SYS_ADMIN'}]\n"
            + ("    privileged: true\n" if i % 7 == 0 else "")
        )
        (folder / "run.sh").write_text(f"#!/bin/sh\ndocker run --rm -v /:/host alpine:3.20 ls /host/{i}\n")
    return root


def _run(cwd: Path, *args: str) -> bytes:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CAPLINT_"))}
    env["NO_COLOR"] = "1"
    proc = subprocess.run([sys.executable, "-m", "caplint", "check", *args], cwd=cwd, env=env,
                          capture_output=True, timeout=300)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")
    assert proc.returncode == 1, proc.stderr.decode(errors="replace")
    return proc.stdout


@pytest.mark.parametrize("fmt", [f for f in FORMATS if _available(f)])
def test_byte_identical_across_runs_and_jobs(tree: Path, fmt: str) -> None:
    first = _run(tree, "--format", fmt, "--jobs", "1", ".")
    again = _run(tree, "--format", fmt, "--jobs", "1", ".")
    parallel = _run(tree, "--format", fmt, "--jobs", "2", ".")
    assert first, "no output at all"
    assert again == first, "two serial runs differ"
    assert parallel == first, "--jobs 2 differs from --jobs 1"


def test_parallel_map_keeps_input_order(tree: Path) -> None:
    """The pool itself, without the final sort: results come back per file, in order."""
    from caplint.discover import discover
    from caplint.parallel import map_files

    found = list(discover([str(tree)]))
    assert len(found) > parallel.PARALLEL_MIN_FILES
    settings = engine.Settings()
    serial = [engine.lint_file(f.path, f.kind, settings) for f in found]
    assert map_files(found, settings, 2) == serial
    assert map_files(found, settings, 3) == serial


def test_a_shared_broken_extends_file_is_reported_for_every_file(tmp_path: Path) -> None:
    """What one file's lint learns must not change another's findings: with a
    per-process cache, which file reported the problem would depend on the
    order and on how files were spread over workers."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "docker-compose.yml").write_text(
            "services:\n  web:\n    extends:\n      file: ../common.yml\n      service: base\n    image: nginx:1.27\n")
    out = _run(tmp_path, "--format", "gnu", "--select", "CAP001", ".").decode()
    assert "a/docker-compose.yml:4:" in out and "b/docker-compose.yml:4:" in out, out
